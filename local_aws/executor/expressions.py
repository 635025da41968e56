"""Resolve the expressions of a pipeline definition: parameters, execution variables, step properties,
``Std:Join``, ``Std:JsonGet`` and conditions, exactly as they appear in the definition JSON.

A definition node is resolved by :func:`resolve`; a condition by :func:`evaluate_condition`. Everything
an expression can refer to comes in through an :class:`ExpressionContext`, so this module does no I/O of
its own (``Std:JsonGet`` reads through the context's ``read_json``).

Property paths follow the SDK's syntax: ``Steps.<Name>.<Attr>[0].<Attr>['key']…``. A ``['key']`` index on
a list selects the element whose name field equals the key (``OutputName`` of a processing output,
``MetricName`` of a metric, ``ChannelName`` of a channel), as SageMaker does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

STEP_REF = re.compile(r"^Steps\.([A-Za-z0-9_-]+)(.*)$")
_TOKEN = re.compile(r"\.([A-Za-z0-9_:$-]+)|\[(-?\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
# Fields that name the elements of a list in Describe* responses, tried in this order for ['key'] lookups.
LIST_KEY_FIELDS = ("OutputName", "MetricName", "ChannelName", "InputName", "Name", "Key")
JOIN = "Std:Join"
JSON_GET = "Std:JsonGet"


class ExpressionError(ValueError):
    """An expression that cannot be resolved; the message names the step and the path."""


@dataclass(frozen=True)
class PropertyFileSpec:
    """A ``PropertyFiles`` entry of a processing step: ``<output's S3 URI>/<file_path>``."""

    output_name: str
    file_path: str


@dataclass
class ExpressionContext:
    """What expressions resolve against, for one step of one execution.

    ``properties`` maps step names to their Describe*-shaped property documents (only steps that
    succeeded); ``execution`` maps execution variable names (``PipelineExecutionId``…) to values;
    ``property_files`` maps step names to their declared property files; ``read_json`` reads an S3 URI.
    """

    parameters: Mapping[str, Any]
    execution: Mapping[str, Any] = field(default_factory=dict)
    properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    property_files: Mapping[str, Mapping[str, PropertyFileSpec]] = field(default_factory=dict)
    read_json: Callable[[str], Any] | None = None
    step: str = ""
    current_time: Callable[[], str] | None = None

    def error(self, what: str) -> ExpressionError:
        where = f"step {self.step}: " if self.step else ""
        return ExpressionError(f"{where}{what}")


# --------------------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------------------


def tokenize(path: str) -> list[str | int]:
    """``.A[0]['k'].B`` → ``['A', 0, 'k', 'B']``; raises ValueError on anything else."""
    tokens: list[str | int] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if not match:
            raise ValueError(f"cannot parse {path[position:]!r} in {path!r}")
        name, index, single, double = match.groups()
        if index is not None:
            tokens.append(int(index))
        else:
            tokens.append(name if name is not None else single if single is not None else double)
        position = match.end()
    return tokens


def split_step_ref(ref: str) -> tuple[str, list[str | int]]:
    """``Steps.Name.A[0].B`` → ``('Name', ['A', 0, 'B'])``."""
    match = STEP_REF.match(ref)
    if not match:
        raise ValueError(f"{ref!r} is not a step property reference")
    return match.group(1), tokenize(match.group(2))


def _list_lookup(items: list[Any], key: str) -> Any:
    for name_field in LIST_KEY_FIELDS:
        for item in items:
            if isinstance(item, Mapping) and item.get(name_field) == key:
                return item
    raise KeyError(key)


def get_path(document: Any, tokens: list[str | int]) -> Any:
    """Follow ``tokens`` through dicts and lists; raises KeyError naming the path up to the first
    missing token (``Outputs['x']`` for a list looked up by name, ``A.B`` for attributes)."""
    node = document
    rendered = ""
    for token in tokens:
        try:
            if isinstance(token, int):
                rendered += f"[{token}]"
                if not isinstance(node, list):
                    raise KeyError(token)
                node = node[token]
            elif isinstance(node, list):
                rendered += f"['{token}']"
                node = _list_lookup(node, token)
            else:
                rendered += f".{token}" if re.fullmatch(r"[A-Za-z0-9_]+", token) else f"['{token}']"
                if not isinstance(node, Mapping):
                    raise KeyError(token)
                node = node[token]
        except (KeyError, IndexError):
            raise KeyError(rendered.lstrip(".")) from None
    return node


def json_path(document: Any, path: str) -> Any:
    """The value at a JsonGet path (``a.b[0].c``, ``a['b'].c``, an optional leading ``$``)."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    if text and not text.startswith((".", "[")):
        text = "." + text
    return get_path(document, tokenize(text))


# --------------------------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------------------------


def to_text(value: Any) -> str:
    """How a value appears inside ``Std:Join``: JSON literals for booleans and null, plain numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def resolve(node: Any, ctx: ExpressionContext) -> Any:
    """A copy of ``node`` with every expression replaced by its value."""
    if isinstance(node, list):
        return [resolve(item, ctx) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (key, value), *_ = node.items()
        if key == "Get" and isinstance(value, str):
            return resolve_get(value, ctx)
        if key == JOIN:
            return _join(value, ctx)
        if key == JSON_GET:
            return _json_get(value, ctx)
    return {key: resolve(value, ctx) for key, value in node.items()}


def resolve_get(ref: str, ctx: ExpressionContext) -> Any:
    if ref.startswith("Parameters."):
        name = ref.split(".", 1)[1]
        if name not in ctx.parameters:
            raise ctx.error(f"cannot resolve {{'Get': '{ref}'}}: {name} is not a parameter of this pipeline")
        return ctx.parameters[name]
    if ref.startswith("Execution."):
        name = ref.split(".", 1)[1]
        if name == "CurrentDateTime" and ctx.current_time is not None:
            return ctx.current_time()
        if name not in ctx.execution:
            raise ctx.error(f"cannot resolve {{'Get': '{ref}'}}: unknown execution variable {name}")
        return ctx.execution[name]
    if ref.startswith("Steps."):
        return _step_property(ref, ctx)
    raise ctx.error(f"cannot resolve {{'Get': '{ref}'}}: not a Parameters., Execution. or Steps. reference")


def _step_property(ref: str, ctx: ExpressionContext) -> Any:
    try:
        step, tokens = split_step_ref(ref)
    except ValueError as exc:
        raise ctx.error(f"cannot resolve {{'Get': '{ref}'}}: {exc}") from None
    if step not in ctx.properties:
        raise ctx.error(
            f"cannot resolve {{'Get': '{ref}'}}: step {step} has not succeeded in this execution "
            "(it is not a dependency that ran, or it does not exist)"
        )
    try:
        return get_path(ctx.properties[step], tokens)
    except KeyError as exc:
        available = ", ".join(sorted(str(k) for k in ctx.properties[step]))
        raise ctx.error(
            f"cannot resolve {{'Get': '{ref}'}}: step {step} has no property {exc.args[0]} "
            f"(its top-level properties: {available})"
        ) from None


def _join(spec: Any, ctx: ExpressionContext) -> str:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("Values"), list):
        raise ctx.error(f"malformed {JOIN}: {spec!r} (expected On and a list of Values)")
    on = to_text(resolve(spec.get("On", ""), ctx))
    return on.join(to_text(resolve(value, ctx)) for value in spec["Values"])


def property_file_uri(ref: str, ctx: ExpressionContext) -> str:
    """The S3 URI of ``Steps.<Name>.PropertyFiles.<File>``: the output's S3 URI and the file path."""
    try:
        step, tokens = split_step_ref(ref)
    except ValueError as exc:
        raise ctx.error(f"{JSON_GET}: {exc}") from None
    if len(tokens) != 2 or tokens[0] != "PropertyFiles":
        raise ctx.error(f"{JSON_GET}: {ref!r} is not Steps.<Name>.PropertyFiles.<PropertyFileName>")
    name = str(tokens[1])
    spec = ctx.property_files.get(step, {}).get(name)
    if spec is None:
        raise ctx.error(f"{JSON_GET}: step {step} declares no property file {name!r}")
    outputs_ref = f"Steps.{step}.ProcessingOutputConfig.Outputs['{spec.output_name}'].S3Output.S3Uri"
    base = _step_property(outputs_ref, ctx)
    return f"{str(base).rstrip('/')}/{spec.file_path.lstrip('/')}"


def _json_get(spec: Any, ctx: ExpressionContext) -> Any:
    if not isinstance(spec, Mapping) or "Path" not in spec:
        raise ctx.error(f"malformed {JSON_GET}: {spec!r} (expected PropertyFile or S3Uri, and Path)")
    if "PropertyFile" in spec:
        pf = spec["PropertyFile"]
        ref = pf.get("Get", "") if isinstance(pf, Mapping) else str(pf)
        uri = property_file_uri(ref, ctx)
    elif "S3Uri" in spec:
        uri = to_text(resolve(spec["S3Uri"], ctx))
    else:
        raise ctx.error(f"malformed {JSON_GET}: {spec!r} has neither PropertyFile nor S3Uri")
    if ctx.read_json is None:
        raise ctx.error(f"{JSON_GET}: no reader for {uri}")
    try:
        document = ctx.read_json(uri)
    except Exception as exc:
        raise ctx.error(f"{JSON_GET}: cannot read JSON from {uri}: {exc}") from exc
    try:
        return json_path(document, str(spec["Path"]))
    except (KeyError, ValueError) as exc:
        raise ctx.error(
            f"{JSON_GET}: {uri} has no value at path {spec['Path']!r} (missing: {exc.args[0]})"
        ) from None


# --------------------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------------------

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return to_text(left).lower() == to_text(right).lower()
    if isinstance(left, int | float) or isinstance(right, int | float):
        a, b = _number(left), _number(right)
        if a is not None and b is not None:
            return a == b
    return bool(left == right)


def _compare(kind: str, left: Any, right: Any, ctx: ExpressionContext) -> bool:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return _ORDERING[kind](a, b)
    if isinstance(left, str) and isinstance(right, str):
        return _ORDERING[kind](left, right)
    raise ctx.error(f"condition {kind}: cannot compare {left!r} with {right!r}")


def evaluate_condition(condition: Mapping[str, Any], ctx: ExpressionContext) -> bool:
    """The value of one condition of a ConditionStep (``Type`` Equals, GreaterThan…, In, Not, Or)."""
    kind = condition.get("Type")
    if kind == "Equals":
        return _equal(resolve(condition.get("LeftValue"), ctx), resolve(condition.get("RightValue"), ctx))
    if kind in _ORDERING:
        return _compare(
            str(kind),
            resolve(condition.get("LeftValue"), ctx),
            resolve(condition.get("RightValue"), ctx),
            ctx,
        )
    if kind == "In":
        value = resolve(condition.get("QueryValue"), ctx)
        return any(_equal(value, resolve(item, ctx)) for item in condition.get("Values", []))
    if kind == "Not":
        return not evaluate_condition(condition["Condition"], ctx)
    if kind == "Or":
        return any(evaluate_condition(item, ctx) for item in condition.get("Conditions", []))
    raise ctx.error(f"unsupported condition type {kind!r}")


def evaluate_conditions(conditions: list[Mapping[str, Any]], ctx: ExpressionContext) -> bool:
    """A ConditionStep's outcome: all of its conditions hold."""
    return all(evaluate_condition(condition, ctx) for condition in conditions)


# --------------------------------------------------------------------------------------------------------
# References (for dependency analysis)
# --------------------------------------------------------------------------------------------------------


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def referenced_steps(node: Any) -> set[str]:
    """Names of the steps whose properties (or property files) ``node`` refers to."""
    names: set[str] = set()
    for item in _walk(node):
        ref = item.get("Get")
        if isinstance(ref, str):
            match = STEP_REF.match(ref)
            if match:
                names.add(match.group(1))
    return names


def referenced_parameters(node: Any) -> set[str]:
    names: set[str] = set()
    for item in _walk(node):
        ref = item.get("Get")
        if isinstance(ref, str) and ref.startswith("Parameters."):
            names.add(ref.split(".", 1)[1])
    return names
