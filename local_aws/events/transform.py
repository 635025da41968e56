"""EventBridge target input: JSON paths, ``InputTransformer`` templates, ``InputPath``/``Input``, and the
SageMaker-pipeline target's parameters with dynamic ``$.`` paths."""

from __future__ import annotations

import json
import re
from typing import Any

from local_aws.common.times import iso_time

_MISSING = object()
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def json_path(document: Any, path: str) -> Any:
    """EventBridge's JSON path subset (``$``, ``$.a.b``, ``$.a[0]``, ``$['a-b']``); ``_MISSING`` if absent."""
    if not path.startswith("$"):
        raise ValueError(f"{path!r} is not a JSON path (it must start with $)")
    rest, value = path[1:], document
    while rest:
        token = _PATH_TOKEN.match(rest)
        if token is None:
            raise ValueError(f"unsupported JSON path syntax in {path!r}")
        key, index, quoted, double = token.groups()
        rest = rest[token.end() :]
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
            continue
        name = key if key is not None else (quoted if quoted is not None else double)
        if not isinstance(value, dict) or name not in value:
            return _MISSING
        value = value[name]
    return value


def _predefined(event: dict[str, Any], rule_name: str, rule_arn: str) -> dict[str, Any]:
    without_detail = {k: v for k, v in event.items() if k != "detail"}
    return {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event.ingestion-time": event.get("time", iso_time()),
        "aws.events.event": without_detail,
        "aws.events.event.json": event,
    }


def render_template(
    template: str, paths_map: dict[str, str], event: dict[str, Any], rule_name: str = "", rule_arn: str = ""
) -> str:
    """Apply an InputTransformer the way EventBridge does.

    A placeholder inside a JSON string gets the raw value (EventBridge does not escape it); outside
    quotes it gets the value as JSON (strings quoted). A path that is not in the event yields ``null``
    outside quotes and nothing inside. JSON results are minified, like EventBridge's.
    """
    values = _predefined(event, rule_name, rule_arn)
    for name, path in paths_map.items():
        values[name] = json_path(event, path)
    out: list[str] = []
    in_string = escaped = False
    position = 0
    while position < len(template):
        char = template[position]
        if char == "<":
            found = _PLACEHOLDER.match(template, position)
            if found and found.group(1) in values:
                out.append(_substitute(values[found.group(1)], in_string))
                position = found.end()
                continue
        out.append(char)
        if in_string and escaped:
            escaped = False
        elif in_string and char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
        position += 1
    rendered = "".join(out)
    try:
        return json.dumps(json.loads(rendered), separators=(",", ":"))
    except ValueError:
        return rendered


def _substitute(value: Any, in_string: bool) -> str:
    if value is _MISSING:
        return "" if in_string else "null"
    if in_string:
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return json.dumps(value, separators=(",", ":"))


def target_input(target: dict[str, Any], event: dict[str, Any], rule_name: str, rule_arn: str) -> str:
    """The text a target receives: ``Input``, ``InputPath``, ``InputTransformer`` or the whole event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        value = json_path(event, target["InputPath"])
        return "null" if value is _MISSING else json.dumps(value)
    transformer = target.get("InputTransformer")
    if transformer:
        return render_template(
            transformer["InputTemplate"], transformer.get("InputPathsMap") or {}, event, rule_name, rule_arn
        )
    return json.dumps(event)


def pipeline_parameters(target: dict[str, Any], event: dict[str, Any]) -> list[dict[str, str]]:
    """``PipelineParameterList`` with dynamic path values (``$.detail.object.key``) resolved on the event."""
    params = (target.get("SageMakerPipelineParameters") or {}).get("PipelineParameterList") or []
    resolved = []
    for param in params:
        value = param["Value"]
        if isinstance(value, str) and value.startswith("$."):
            found = json_path(event, value)
            if found is _MISSING:
                raise DeliveryError(f"dynamic path {value} of parameter {param['Name']} is not in the event")
            value = found if isinstance(found, str) else json.dumps(found)
        resolved.append({"Name": param["Name"], "Value": value})
    return resolved


class DeliveryError(Exception):
    """A target could not receive an event."""
