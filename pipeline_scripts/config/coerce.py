"""Raw values (HCL, YAML, overrides) into the schema's dataclasses: declared types, no unknown keys."""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from pipeline_scripts.config.schema import InvalidValueError, Scalar
from pipeline_scripts.errors import ConfigError


def origin_of(sources: Mapping[str, str], key: str, file: str) -> str:
    """Where ``key`` (dotted) got its value: ``file:line``, ``--set KEY`` or ``MLOPS_KEY``; the nearest
    enclosing key's source, else ``file``."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        found = sources.get(".".join(parts[:end]))
        if found:
            return found
    return file


def fix_hint(source: str, key: str, fix: str) -> str:
    """``fix`` said for where the value came from: an override is fixed where it was given, not in a file."""
    if source.startswith("--set"):
        return f"{fix} (in --set {key}=...)"
    if source.startswith("MLOPS_"):
        return f"{fix} (in the environment variable {source.split(maxsplit=1)[0]})"
    return fix


def build_dataclass(
    cls: type, data: Any, file: str, path: str, sources: Mapping[str, str] | None = None
) -> Any:
    """Coerce ``data`` into dataclass ``cls``: unknown keys, missing keys and wrong types fail. Errors name
    the source of the bad value (``sources``: dotted key -> ``file:line``, ``--set KEY``, ``MLOPS_KEY``)."""
    sources = sources or {}
    where = path.rstrip(".") or "top level"
    if not isinstance(data, Mapping):
        source = origin_of(sources, where, file)
        raise ConfigError(
            f"{source}: {where} must be a mapping, got {describe(data)}", hint="see the file header"
        )
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        key = sorted(unknown)[0]
        source = origin_of(sources, f"{path}{key}", file)
        raise ConfigError(f"{source}: unknown key {path}{key}", hint=did_you_mean(key, fields, "keys here"))
    kwargs: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in data:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise ConfigError(
                    f"{file}: missing key {path}{name}",
                    hint=f"add `{name} = …` (see env_files/local.tfvars for an example)",
                )
            continue
        kwargs[name] = _coerce(data[name], hints[name], file, f"{path}{name}", sources)
    try:
        return cls(**kwargs)
    except InvalidValueError as exc:
        key = f"{path}{exc.key}"
        source = origin_of(sources, key, file)
        # A rule across keys (min < max, scaling and bounds): name the overrides of this section too.
        overridden = sorted(
            {sources[f"{path}{name}"] for name in fields if f"{path}{name}" in sources} - {source}
        )
        also = [o for o in overridden if o.startswith(("--set", "MLOPS_"))]
        with_ = f" (with {', '.join(also)})" if also else ""
        raise ConfigError(f"{source}: {key} {exc}{with_}", hint=fix_hint(source, key, exc.fix)) from exc


class _WrongTypeError(ValueError):
    """A coercer's refusal: ``kind`` is what the value should have been ("an integer")."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _WrongTypeError("true or false")


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise _WrongTypeError("an integer")


def _float(value: Any) -> float:
    """A finite number: inf and nan are refused (JSON has no Infinity; a threshold of inf never fires)."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise _WrongTypeError("a finite number")
    return number


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _WrongTypeError("a string (in double quotes)")


def _scalar(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise _WrongTypeError("a finite number, string or bool")
    if isinstance(value, str | int | float | bool):
        return value
    raise _WrongTypeError("a string, number or bool")


# Leaf types: the coercer for each declared type.
_LEAVES: Mapping[Any, Callable[[Any], Any]] = {
    bool: _bool,
    int: _int,
    float: _float,
    str: _str,
    Scalar: _scalar,
}


def _coerce(value: Any, expected: Any, file: str, key: str, sources: Mapping[str, str]) -> Any:
    """``value`` as the declared type ``expected``: a dataclass, a leaf type, a tuple, a mapping or a
    scalar union. A value of the wrong kind raises a ConfigError naming its source and key."""
    try:
        return _coerce_or_refuse(value, expected, file, key, sources)
    except _WrongTypeError as exc:
        source = origin_of(sources, key, file)
        raise ConfigError(
            f"{source}: {key} must be {exc.kind}, got {describe(value)}",
            hint=fix_hint(source, key, f"write {key} as {exc.kind}"),
        ) from None


def _coerce_or_refuse(value: Any, expected: Any, file: str, key: str, sources: Mapping[str, str]) -> Any:
    origin = typing.get_origin(expected)
    args = typing.get_args(expected)
    if isinstance(expected, type) and dataclasses.is_dataclass(expected):
        if isinstance(value, list):
            raise _WrongTypeError("a map")
        return build_dataclass(expected, value, file, f"{key}.", sources)
    if expected in _LEAVES:
        return _LEAVES[expected](value)
    if origin is tuple:
        item_type = args[0]
        if isinstance(value, str) and item_type is str:
            # "" means none; "a,b" is a short list (handy in MLOPS_* variables)
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if not isinstance(value, list):
            raise _WrongTypeError("a list")
        return tuple(_coerce(item, item_type, file, f"{key}[{i}]", sources) for i, item in enumerate(value))
    if origin in (Mapping, dict) or expected is Mapping:
        if not isinstance(value, Mapping):
            raise _WrongTypeError("a map")
        value_type = args[1] if args else Any
        return types.MappingProxyType(
            {str(k): _coerce(v, value_type, file, f"{key}.{k}", sources) for k, v in value.items()}
        )
    if origin is types.UnionType and type(None) in args:  # X | None: null (HCL/YAML) or an X
        (inner,) = [arg for arg in args if arg is not type(None)]
        return None if value is None else _coerce_or_refuse(value, inner, file, key, sources)
    if origin is types.UnionType:
        return _scalar(value)
    return value


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the bool {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a map"
    return type(value).__name__


def did_you_mean(key: str, choices: Any, what: str) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known {what}: {', '.join(sorted(choices))}"
