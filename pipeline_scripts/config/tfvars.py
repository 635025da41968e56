"""``env_files/<env>.tfvars``: the same file Terraform reads, read with Terraform's rules.

``hcl_literal`` parses it (literal values, each key once, the line of each key); the values are then
checked against the types ``variables.tf`` declares, with Terraform's conversions (a number or bool given
as a string converts; nothing converts to a list or a map), so Python refuses what Terraform refuses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import hcl2

from pipeline_scripts.config.coerce import describe
from pipeline_scripts.config.hcl_literal import HclError, Parsed, parse
from pipeline_scripts.errors import ConfigError
from pipeline_scripts.paths import PROJECT_ROOT, rel

VARIABLES_TF = PROJECT_ROOT / "variables.tf"


def read_tfvars(path: Path) -> dict[str, Any]:
    """The file's values (numbers, bools, lists, maps; strings unquoted)."""
    return read_tfvars_with_lines(path).values


def read_tfvars_with_lines(path: Path) -> Parsed:
    """The values and the line of each key; ConfigError with ``file:line`` on what Terraform refuses."""
    if not path.is_file():
        raise ConfigError(
            f"{rel(path)}: file not found", hint=f"create it from {rel(path.parent / 'local.tfvars')}"
        )
    try:
        parsed = parse(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{rel(path)}: not UTF-8 text ({exc.reason})", hint="save it as UTF-8") from exc
    except HclError as exc:
        raise ConfigError(
            f"{rel(path)}:{exc.line}: {exc.message}",
            hint="one `key = value` per line; strings in double quotes (terraform validates the same file)",
        ) from exc
    check_terraform_types(parsed, rel(path))
    return parsed


@functools.cache
def terraform_types(variables_tf: Path = VARIABLES_TF) -> Mapping[str, str]:
    """Variable name -> its declared ``type`` (``string``, ``list(string)``...); empty without the file."""
    if not variables_tf.is_file():
        return {}
    with variables_tf.open(encoding="utf-8") as handle:
        data = hcl2.load(handle)
    types: dict[str, str] = {}
    for block in data.get("variable", []):
        for name, body in block.items():
            declared = str(body.get("type", "any"))
            types[name.strip('"')] = declared.removeprefix("${").removesuffix("}")
    return types


def check_terraform_types(parsed: Parsed, file: str) -> None:
    """Refuse a value Terraform cannot convert to its variable's type (null is always accepted)."""
    types = terraform_types()
    for key, value in parsed.values.items():
        declared = types.get(key)
        if declared is None or value is None:
            continue
        problem = _conversion_problem(value, declared)
        if problem:
            raise ConfigError(
                f"{file}:{parsed.lines[key]}: {key} must be {problem}, got {describe(value)}",
                hint=f"variables.tf declares {key} as {declared}; terraform refuses this file too",
            )


def _conversion_problem(value: Any, declared: str) -> str:
    """What ``value`` should have been for Terraform to convert it to ``declared``; "" when it converts."""
    outer = declared.split("(", 1)[0].strip()
    if outer in ("list", "set", "tuple"):
        if not isinstance(value, list):
            return f"a list ({declared})"
        inner = declared[len(outer) + 1 : -1].strip()
        problems = [_conversion_problem(item, inner) for item in value if item is not None]
        return next((f"{declared} (an item: {p})" for p in problems if p), "")
    if outer in ("map", "object"):
        return "" if isinstance(value, dict) else f"a map ({declared})"
    checks: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str | int | float),
        "number": _is_number,
        "bool": lambda v: isinstance(v, bool) or v in ("true", "false"),
    }
    if outer in checks and not checks[outer](value):
        return {"string": "a string", "number": "a number", "bool": "true or false"}[outer]
    return ""


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


# Keys of env_files/<env>.tfvars that only Terraform reads (variables.tf validates them in full). The
# config accepts them with a loose type check and keeps them out of EnvSettings.
TERRAFORM_ONLY: Mapping[str, str] = {
    "tags": "map",
    "manage_bucket": "bool",
    "create_kms_key": "bool",
    "notify_step_statuses": "list",
    "notify_execution_statuses": "list",
    "training_schedule": "string or null",
    "inference_schedule": "string or null",
    "schedule_pipeline_parameters": "map",
    "lambda_package_path": "string",
    "lambda_log_retention_days": "number",
    "lambda_reserved_concurrency": "number",
    "lambda_log_level": "string",
    "gitlab_url": "string",
    "gitlab_project_id": "string",
    "gitlab_ref": "string",
    "gitlab_token_secret_arn": "string or null",
}
_LOOSE_TYPES: Mapping[str, Any] = {
    "map": lambda v: isinstance(v, dict),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "string or null": lambda v: v is None or isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def without_terraform_only(tfvars: dict[str, Any], file: str) -> dict[str, Any]:
    """``tfvars`` without the Terraform-only keys, after checking each one's kind of value."""
    for key, kind in TERRAFORM_ONLY.items():
        if key in tfvars and not _LOOSE_TYPES[kind](tfvars[key]):
            raise ConfigError(
                f"{file}: {key} must be a {kind}, got {describe(tfvars[key])}",
                hint=f"see variable {key!r} in variables.tf",
            )
    return {key: value for key, value in tfvars.items() if key not in TERRAFORM_ONLY}
