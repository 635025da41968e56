"""GitLab's Terraform report from a saved plan: ``{"create": N, "update": N, "delete": N}``.

GitLab shows this summary in the merge request widget (``artifacts:reports:terraform``). The counts follow
GitLab's own template: every action of every resource change is counted, so a replacement counts once as
a create and once as a delete; ``no-op``, ``read`` and ``forget`` are not counted.

    python -m pipeline_scripts.tooling.tf_plan_report build/terraform/dev.tfplan \
        --out build/terraform/dev.plan-summary.json

The input is a saved plan (read with ``terraform show -json``, in the initialised working directory that
made it) or the JSON that command printed. A short summary, and each resource that changes, go to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_scripts.errors import MlopsError

COUNTED = ("create", "update", "delete")


class PlanReportError(MlopsError):
    """The plan cannot be read or is not a Terraform plan."""


@dataclass(frozen=True)
class ResourceChange:
    address: str
    actions: tuple[str, ...]

    @property
    def label(self) -> str:
        if set(self.actions) == {"create", "delete"}:
            return "replace"
        return "+".join(self.actions)


@dataclass(frozen=True)
class PlanSummary:
    create: int
    update: int
    delete: int
    changes: tuple[ResourceChange, ...]

    def gitlab_report(self) -> dict[str, int]:
        """Exactly the keys GitLab's Terraform report parser reads."""
        return {"create": self.create, "update": self.update, "delete": self.delete}

    def describe(self) -> str:
        replaced = sum(1 for c in self.changes if c.label == "replace")
        extra = f" ({replaced} replaced: counted in both)" if replaced else ""
        return f"{self.create} to create, {self.update} to update, {self.delete} to delete{extra}"


def summarize(plan: Mapping[str, Any]) -> PlanSummary:
    """Count the actions of ``resource_changes`` (absent or null in a plan with no resources: zero)."""
    if not isinstance(plan, Mapping) or "format_version" not in plan or "planned_values" not in plan:
        raise PlanReportError(
            "not a Terraform plan in JSON (no format_version or planned_values: a state, or another file?)",
            hint="pass a saved plan (terraform plan -out=FILE) or the output of `terraform show -json FILE`",
        )
    major = str(plan["format_version"]).split(".", 1)[0]
    if major != "1":
        raise PlanReportError(
            f"unsupported plan format_version {plan['format_version']!r} (this reader knows 1.x)",
            hint="check the Terraform version used to write the plan",
        )
    counts = dict.fromkeys(COUNTED, 0)
    changes = []
    for change in plan.get("resource_changes") or []:
        actions = tuple((change.get("change") or {}).get("actions") or ())
        for action in actions:
            if action in counts:
                counts[action] += 1
        if any(a in counts for a in actions):
            changes.append(ResourceChange(str(change.get("address", "?")), actions))
    return PlanSummary(counts["create"], counts["update"], counts["delete"], tuple(changes))


def read_plan(path: Path, terraform: str = "terraform") -> dict[str, Any]:
    """Parse ``path``: plan JSON as is, anything else as a saved plan through ``terraform show -json``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanReportError(
            f"cannot read {path}: {exc.strerror}", hint="run `make tf-plan ENV=...` first"
        ) from exc
    if raw.lstrip()[:1] == b"{":
        text = raw.decode()
    else:
        try:
            done = subprocess.run(  # noqa: S603  (terraform show on a file path, argv list, no shell)
                [terraform, "show", "-json", "-no-color", str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            raise PlanReportError(
                f"cannot run {terraform!r}: {exc.strerror}", hint="install Terraform (make ci-terraform)"
            ) from exc
        if done.returncode != 0:
            raise PlanReportError(
                f"`{terraform} show -json {path}` failed: {done.stderr.strip()}",
                hint="run it where the plan was made, after `make tf-init ENV=...`",
            )
        text = done.stdout
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanReportError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise PlanReportError(f"{path}: expected a JSON object")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tf_plan_report", description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path, help="saved plan file, or its `terraform show -json` output")
    parser.add_argument("--out", type=Path, required=True, help="where to write GitLab's report JSON")
    parser.add_argument(
        "--terraform", default=os.environ.get("TERRAFORM", "terraform"), help="terraform executable"
    )
    args = parser.parse_args(argv)
    try:
        summary = summarize(read_plan(args.plan, args.terraform))
    except PlanReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary.gitlab_report()) + "\n")
    print(f"{args.plan}: {summary.describe()}")
    for change in summary.changes:
        print(f"  {change.label:8} {change.address}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
