"""``env_files/<env>.tfvars``: read as real HCL (python-hcl2), the same file Terraform reads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from pipeline_scripts.config.coerce import describe
from pipeline_scripts.errors import ConfigError
from pipeline_scripts.paths import rel


def read_tfvars(path: Path) -> dict[str, Any]:
    """Parse a .tfvars file as real HCL (numbers, bools, lists, maps); strings come back unquoted."""
    if not path.is_file():
        raise ConfigError(
            f"{rel(path)}: file not found", hint=f"create it from {rel(path.parent / 'local.tfvars')}"
        )
    try:
        with path.open(encoding="utf-8") as handle:
            data = hcl2.load(handle, serialization_options=SerializationOptions(strip_string_quotes=True))
    except Exception as exc:  # python-hcl2 raises lark errors of several types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"{rel(path)}: not valid HCL: {first}",
            hint="write one `key = value` per line; strings in double quotes",
        ) from exc
    values = {k: v for k, v in data.items() if not k.startswith("__")}
    for key, value in values.items():
        if _has_interpolation(value):
            raise ConfigError(
                f"{rel(path)}: {key} uses an interpolation or expression",
                hint="tfvars hold literal values only (Terraform rejects expressions there too)",
            )
    return values


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


def _has_interpolation(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, list):
        return any(_has_interpolation(v) for v in value)
    if isinstance(value, dict):
        return any(_has_interpolation(v) for v in value.values())
    return False
