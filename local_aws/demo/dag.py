"""Pipeline DAGs from definition JSON: dependencies, layers and an SVG picture with step statuses.

Dependencies are what SageMaker derives from a definition: ``DependsOn``, property references
(``{"Get": "Steps.<name>..."}``, property files read by ``Std:JsonGet`` included) and condition branches
(a step listed in a condition's ``IfSteps``/``ElseSteps`` runs after the condition).
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from typing import Any

from pipeline_scripts.build.validate import iter_steps

STATUS_COLOURS = {
    "Succeeded": "#2e7d32",
    "Failed": "#c62828",
    "Executing": "#1565c0",
    "Starting": "#1565c0",
    "Stopped": "#6d4c41",
    "Stopping": "#6d4c41",
    "NotRun": "#9e9e9e",
}
BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 210, 46, 60, 18, 12


def dependencies(definition: Mapping[str, Any]) -> dict[str, list[str]]:
    """Step name → the names of the steps it waits for, in definition order."""
    steps = list(iter_steps(list(definition.get("Steps", []))))
    names = [step["Name"] for step in steps]
    known = set(names)
    deps: dict[str, list[str]] = {name: [] for name in names}
    for step in steps:
        found: list[str] = list(step.get("DependsOn") or [])
        found += [ref for ref in _step_references(step.get("Arguments", {})) if ref in known]
        if step.get("Type") == "Condition":
            args = step.get("Arguments", {})
            for child in [*args.get("IfSteps", []), *args.get("ElseSteps", [])]:
                deps[child["Name"]].append(step["Name"])
        for ref in found:
            if ref != step["Name"] and ref not in deps[step["Name"]]:
                deps[step["Name"]].append(ref)
    return deps


def layers(definition: Mapping[str, Any]) -> list[list[str]]:
    """Steps grouped by depth (longest dependency path from a root), each layer in definition order."""
    deps = dependencies(definition)
    depth: dict[str, int] = {}

    def depth_of(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name in depth:
            return depth[name]
        if name in seen:  # a cycle: SageMaker rejects it; draw it flat rather than recurse forever
            return 0
        parents = deps.get(name, [])
        depth[name] = 1 + max((depth_of(p, seen | {name}) for p in parents), default=-1)
        return depth[name]

    for name in deps:
        depth_of(name)
    grouped: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in deps:
        grouped[depth[name]].append(name)
    return grouped


def svg(definition: Mapping[str, Any], statuses: Mapping[str, str] | None = None) -> str:
    """An SVG of the DAG, left to right; each box coloured by its status (``NotRun`` when absent)."""
    statuses = statuses or {}
    grouped = layers(definition)
    deps = dependencies(definition)
    types = {s["Name"]: s.get("Type", "") for s in iter_steps(list(definition.get("Steps", [])))}
    where: dict[str, tuple[int, int]] = {}
    for col, names in enumerate(grouped):
        for row, name in enumerate(names):
            where[name] = (PAD + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    width = PAD * 2 + len(grouped) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max((len(g) for g in grouped), default=1) * (BOX_H + GAP_Y) - GAP_Y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{max(width, 1)}" height="{max(height, 1)}" '
        f'viewBox="0 0 {max(width, 1)} {max(height, 1)}" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for name, parents in deps.items():
        x2, y2 = where[name]
        for parent in parents:
            x1, y1 = where[parent]
            parts.append(
                f'<line x1="{x1 + BOX_W}" y1="{y1 + BOX_H // 2}" x2="{x2}" y2="{y2 + BOX_H // 2}" '
                'stroke="#555" marker-end="url(#arrow)"/>'
            )
    for name, (x, y) in where.items():
        status = statuses.get(name, "NotRun")
        colour = STATUS_COLOURS.get(status, "#9e9e9e")
        label = html.escape(name if len(name) <= 30 else name[:29] + "…")
        parts.append(
            f"<g><title>{html.escape(name)}: {html.escape(status)}</title>"
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="white" '
            f'stroke="{colour}" stroke-width="3"/>'
            f'<text x="{x + 8}" y="{y + 18}" font-weight="bold">{label}</text>'
            f'<text x="{x + 8}" y="{y + 36}" fill="{colour}">{html.escape(types.get(name, ""))} · '
            f"{html.escape(status)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _step_references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        get = node.get("Get")
        if isinstance(get, str) and get.startswith("Steps."):
            yield get.split(".")[1]
        for value in node.values():
            yield from _step_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _step_references(value)
