"""EventBridge event-pattern matching, as AWS documents it. Pure: no I/O, no AWS calls.

Source of the semantics: Amazon EventBridge User Guide, "Creating Amazon EventBridge event patterns" and
"Content filtering in Amazon EventBridge event patterns"
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html),
and the behaviour of AWS's open-source matcher, event-ruler (https://github.com/aws/event-ruler).

What is implemented:

- A pattern is a JSON object; every key must be satisfied (AND). A key maps to a nested object (descend)
  or to a non-empty array of matchers (OR between them).
- Exact values: strings, numbers (5 matches 5.0), booleans and ``null`` (``null`` matches a null value,
  not a missing field). Strings are compared character by character.
- An array in the event matches when any of its elements matches. When the event holds an array of
  objects under a nested pattern, one element must satisfy the whole sub-pattern (event-ruler's "array
  consistency").
- Operators: ``prefix`` and ``suffix`` (a string, or ``{"equals-ignore-case": ...}``), ``anything-but``
  (a value, a list of values, or ``{"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}``),
  ``numeric`` (``=``, ``<``, ``<=``, ``>``, ``>=``; one comparison or a lower and an upper bound),
  ``exists`` (leaf fields only), ``equals-ignore-case``, ``wildcard`` (``*``; ``\\*`` is a literal star),
  ``cidr`` (IPv4 and IPv6) and ``$or`` at any object level.
- Missing fields never match, except with ``{"exists": false}``.

Where AWS's behaviour is not documented the choice made here is stated next to the code.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

__all__ = ["PatternError", "matches", "validate_pattern"]

# The documented range of numeric matching (EventBridge User Guide, "Numeric matching").
_NUMERIC_LIMIT = 5.0e9
_NUMERIC_OPERATORS = frozenset({"=", "<", "<=", ">", ">="})
_LOWER = frozenset({">", ">="})
_UPPER = frozenset({"<", "<="})
_OPERATORS = (
    "anything-but",
    "cidr",
    "equals-ignore-case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
)
_ANYTHING_BUT_OPERATORS = ("equals-ignore-case", "prefix", "suffix", "wildcard")


class PatternError(ValueError):
    """An event pattern EventBridge would reject (PutRule answers InvalidEventPatternException)."""


class _Missing:
    """Marker for a field the event does not have."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


# --------------------------------------------------------------------------- validation


def validate_pattern(pattern: Mapping[str, Any] | str) -> None:
    """Raise PatternError (saying where and why) unless ``pattern`` is a valid EventBridge pattern."""
    _validate_object(_load(pattern), "pattern")


def _load(pattern: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except json.JSONDecodeError as exc:
            raise PatternError(f"pattern: not valid JSON ({exc})") from exc
    if not isinstance(pattern, Mapping):
        raise PatternError(f"pattern: must be a JSON object, got {type(pattern).__name__}")
    return pattern


def _validate_object(node: Mapping[str, Any], where: str) -> None:
    if not node:
        raise PatternError(f"{where}: an empty object matches nothing; remove it or add a field")
    for key, value in node.items():
        path = f"{where}.{key}" if where != "pattern" else str(key)
        if not isinstance(key, str):
            raise PatternError(f"{path}: field names must be strings")
        if key == "$or":
            _validate_or(value, path)
        elif isinstance(value, Mapping):
            _validate_object(value, path)
        elif isinstance(value, list):
            _validate_matchers(value, path)
        else:
            raise PatternError(
                f"{path}: a pattern value must be an array of matchers or a nested object, "
                f"got {json.dumps(value)}; write [{json.dumps(value)}]"
            )


def _validate_or(value: Any, path: str) -> None:
    if not isinstance(value, list) or not value:
        raise PatternError(f"{path}: $or takes a non-empty array of pattern objects")
    for i, alternative in enumerate(value):
        if not isinstance(alternative, Mapping):
            raise PatternError(f"{path}[{i}]: each $or alternative must be a pattern object")
        _validate_object(alternative, f"{path}[{i}]")


def _validate_matchers(matchers: list[Any], path: str) -> None:
    if not matchers:
        raise PatternError(f"{path}: empty arrays are not allowed; list at least one value or matcher")
    for i, matcher in enumerate(matchers):
        where = f"{path}[{i}]"
        if isinstance(matcher, Mapping):
            _validate_operator(matcher, where)
        elif isinstance(matcher, list):
            raise PatternError(f"{where}: nested arrays are not allowed in a pattern")
        elif not _is_scalar(matcher):
            raise PatternError(f"{where}: unsupported value {matcher!r}")
        elif _is_number(matcher):
            _check_number(matcher, where)


def _validate_operator(matcher: Mapping[str, Any], where: str) -> None:
    if len(matcher) != 1:
        raise PatternError(
            f"{where}: a matcher object has exactly one operator, got {sorted(matcher)}; "
            "split it into separate array entries"
        )
    ((op, arg),) = matcher.items()
    if op in {"prefix", "suffix"}:
        _validate_affix(op, arg, where)
    elif op == "equals-ignore-case":
        _require_string(op, arg, where)
    elif op == "wildcard":
        _require_string(op, arg, where)
        _wildcard_regex(arg, where)
    elif op == "exists":
        if not isinstance(arg, bool):
            raise PatternError(f"{where}: exists takes true or false, got {json.dumps(arg)}")
    elif op == "numeric":
        _validate_numeric(arg, where)
    elif op == "cidr":
        _require_string(op, arg, where)
        _network(arg, where)
    elif op == "anything-but":
        _validate_anything_but(arg, where)
    else:
        raise PatternError(f"{where}: unknown operator {op!r}; EventBridge supports {', '.join(_OPERATORS)}")


def _validate_affix(op: str, arg: Any, where: str) -> None:
    if isinstance(arg, Mapping):
        if set(arg) != {"equals-ignore-case"}:
            raise PatternError(f'{where}: {op} takes a string or {{"equals-ignore-case": "<string>"}}')
        _require_string(f"{op}.equals-ignore-case", arg["equals-ignore-case"], where)
    else:
        _require_string(op, arg, where)


def _validate_numeric(arg: Any, where: str) -> None:
    if not isinstance(arg, list) or not arg or len(arg) % 2:
        raise PatternError(
            f'{where}: numeric takes [operator, number, ...] pairs, e.g. [">", 0, "<=", 5], '
            f"got {json.dumps(arg)}"
        )
    operators = arg[0::2]
    for op, bound in zip(operators, arg[1::2], strict=True):
        if op not in _NUMERIC_OPERATORS:
            raise PatternError(f"{where}: numeric operator {op!r} is not one of {sorted(_NUMERIC_OPERATORS)}")
        if not _is_number(bound):
            raise PatternError(
                f"{where}: numeric bound after {op!r} must be a number, got {json.dumps(bound)}"
            )
        _check_number(bound, where)
    if len(operators) > 2:
        raise PatternError(f"{where}: numeric takes at most a lower and an upper bound")
    if len(operators) == 2:
        if "=" in operators:
            raise PatternError(f'{where}: numeric "=" cannot be combined with another comparison')
        pair = set(operators)
        if not (pair & _LOWER and pair & _UPPER):
            raise PatternError(
                f"{where}: a numeric range needs one lower (>, >=) and one upper (<, <=) bound"
            )


def _validate_anything_but(arg: Any, where: str) -> None:
    if isinstance(arg, Mapping):
        if len(arg) != 1 or next(iter(arg)) not in _ANYTHING_BUT_OPERATORS:
            raise PatternError(
                f"{where}: anything-but takes a value, a list of values, or one of "
                f"{', '.join(_ANYTHING_BUT_OPERATORS)}; got {json.dumps(arg)}"
            )
        ((op, inner),) = arg.items()
        values = inner if isinstance(inner, list) else [inner]
        if not values:
            raise PatternError(f"{where}: anything-but {op} needs at least one string")
        for value in values:
            _require_string(f"anything-but {op}", value, where)
            if op == "wildcard":
                _wildcard_regex(value, where)
        return
    values = arg if isinstance(arg, list) else [arg]
    if not values:
        raise PatternError(f"{where}: anything-but needs at least one value")
    strings = all(isinstance(v, str) for v in values)
    numbers = all(_is_number(v) for v in values)
    if not (strings or numbers):
        raise PatternError(
            f"{where}: anything-but takes strings or numbers (not both, no null or booleans), "
            f"got {json.dumps(arg)}"
        )


def _require_string(op: str, arg: Any, where: str) -> None:
    if not isinstance(arg, str):
        raise PatternError(f"{where}: {op} takes a string, got {json.dumps(arg)}")


def _check_number(value: float, where: str) -> None:
    if not -_NUMERIC_LIMIT <= value <= _NUMERIC_LIMIT:
        raise PatternError(f"{where}: EventBridge matches numbers between -5e9 and 5e9 only, got {value}")


def _network(cidr: str, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return _parse_network(cidr)
    except ValueError as exc:
        raise PatternError(f"{where}: cidr {cidr!r} is not an IPv4 or IPv6 CIDR block ({exc})") from exc


@lru_cache(maxsize=256)
def _parse_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if "/" not in cidr:
        raise ValueError("missing /prefix-length")
    return ipaddress.ip_network(cidr, strict=False)


def _wildcard_regex(expression: str, where: str) -> re.Pattern[str]:
    try:
        return _compile_wildcard(expression)
    except ValueError as exc:
        raise PatternError(f"{where}: wildcard {expression!r}: {exc}") from exc


@lru_cache(maxsize=256)
def _compile_wildcard(expression: str) -> re.Pattern[str]:
    """``*`` matches any run of characters; ``\\*`` and ``\\\\`` are a literal star and backslash.

    EventBridge rejects two consecutive wildcards ("**") and other backslash escapes.
    """
    parts: list[str] = []
    i = 0
    previous_star = False
    while i < len(expression):
        char = expression[i]
        if char == "\\":
            if i + 1 >= len(expression) or expression[i + 1] not in "*\\":
                raise ValueError("a backslash may only escape * or \\")
            parts.append(re.escape(expression[i + 1]))
            i += 2
            previous_star = False
            continue
        if char == "*":
            if previous_star:
                raise ValueError("consecutive wildcard characters (**) are not supported")
            parts.append(".*")
            previous_star = True
        else:
            parts.append(re.escape(char))
            previous_star = False
        i += 1
    return re.compile("".join(parts), re.DOTALL)


# --------------------------------------------------------------------------- matching


def matches(pattern: Mapping[str, Any] | str, event: Mapping[str, Any]) -> bool:
    """True when ``event`` matches ``pattern``. Raises PatternError for an invalid pattern."""
    loaded = _load(pattern)
    validate_pattern(loaded)
    return _match_object(loaded, event)


def _match_object(pattern: Mapping[str, Any], value: Any) -> bool:
    if isinstance(value, list):
        objects = [item for item in _flatten(value) if isinstance(item, Mapping)]
        if objects:
            # Array consistency: one element must satisfy the whole sub-pattern.
            return any(_match_fields(pattern, item) for item in objects)
        value = _MISSING
    node = value if isinstance(value, Mapping) else {}
    return _match_fields(pattern, node)


def _match_fields(pattern: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    for key, sub in pattern.items():
        if key == "$or":
            if not any(_match_fields(alternative, node) for alternative in sub):
                return False
            continue
        child = node.get(key, _MISSING)
        ok = _match_object(sub, child) if isinstance(sub, Mapping) else _match_leaf(sub, child)
        if not ok:
            return False
    return True


def _flatten(values: Sequence[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in values:
        if isinstance(item, list):
            flat.extend(_flatten(item))
        else:
            flat.append(item)
    return flat


def _match_leaf(matchers: Sequence[Any], value: Any) -> bool:
    # The event's leaf values at this path: a scalar, or the scalar elements of an array. An object here is
    # an intermediate node, not a leaf ("exists" works on leaf nodes only).
    if value is _MISSING or isinstance(value, Mapping):
        candidates: list[Any] = []
    elif isinstance(value, list):
        candidates = [item for item in _flatten(value) if _is_scalar(item)]
    else:
        candidates = [value]
    for matcher in matchers:
        if isinstance(matcher, Mapping) and "exists" in matcher:
            if matcher["exists"] == bool(candidates):
                return True
        elif any(_match_value(matcher, candidate) for candidate in candidates):
            return True
    return False


def _match_value(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, Mapping):
        return _equal(matcher, value)
    ((op, arg),) = matcher.items()
    if op == "prefix":
        return isinstance(value, str) and _affix(arg, value, str.startswith)
    if op == "suffix":
        return isinstance(value, str) and _affix(arg, value, str.endswith)
    if op == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == arg.lower()
    if op == "wildcard":
        return isinstance(value, str) and _compile_wildcard(arg).fullmatch(value) is not None
    if op == "numeric":
        return _is_number(value) and _numeric(arg, value)
    if op == "cidr":
        return isinstance(value, str) and _in_network(arg, value)
    if op == "anything-but":
        return _anything_but(arg, value)
    raise PatternError(f"unknown operator {op!r}")  # unreachable after validation


def _equal(expected: Any, value: Any) -> bool:
    # bool is an int in Python; JSON keeps them apart, and so does EventBridge.
    if expected is None or value is None:
        return expected is None and value is None
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool) and expected == value
    if _is_number(expected):
        return _is_number(value) and float(expected) == float(value)
    return isinstance(value, str) and expected == value


def _affix(arg: Any, value: str, test: Any) -> bool:
    if isinstance(arg, Mapping):
        return bool(test(value.lower(), arg["equals-ignore-case"].lower()))
    return bool(test(value, arg))


def _numeric(conditions: Sequence[Any], value: float) -> bool:
    number = float(value)
    for op, bound in zip(conditions[0::2], conditions[1::2], strict=True):
        limit = float(bound)
        ok = {
            "=": number == limit,
            "<": number < limit,
            "<=": number <= limit,
            ">": number > limit,
            ">=": number >= limit,
        }[op]
        if not ok:
            return False
    return True


def _in_network(cidr: str, value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    network = _parse_network(cidr)
    return address.version == network.version and address in network


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, Mapping):
        # The operator forms (prefix, suffix, ...) describe strings; a number or null in the event does not
        # match them (undocumented; this is the conservative reading, and what event-ruler does).
        ((op, inner),) = arg.items()
        if not isinstance(value, str):
            return False
        excluded = inner if isinstance(inner, list) else [inner]
        return not any(_match_value({op: item}, value) for item in excluded)
    excluded = arg if isinstance(arg, list) else [arg]
    return not any(_equal(item, value) for item in excluded)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
