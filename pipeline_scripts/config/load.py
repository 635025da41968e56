"""Load one environment's configuration: the files, then ``MLOPS_*`` variables, then ``--set``.

Sources, highest precedence first:

1. CLI overrides (``mlops --set KEY=VALUE``),
2. environment variables ``MLOPS_<KEY>`` (dots in yaml keys become ``__``: ``MLOPS_HPO__MAX_JOBS``),
3. the files: ``env_files/<env>.tfvars`` (HCL, also read by Terraform) and
   ``pipeline_scripts/config/pipelines.yaml``,
4. defaults declared on the dataclasses in ``schema.py``.

Every value is coerced to its declared type and validated when the config is loaded; a problem raises
:class:`ConfigError` naming the file (or override), the key, what is wrong and how to fix it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hcl2
import yaml
from hcl2.utils import SerializationOptions

from pipeline_scripts.config.coerce import build_dataclass, did_you_mean
from pipeline_scripts.config.dataset import dataset_path, load_dataset, resolve_quality
from pipeline_scripts.config.schema import ENVIRONMENTS, Config, EnvSettings, PipelinesSettings
from pipeline_scripts.config.tfvars import read_tfvars, without_terraform_only
from pipeline_scripts.errors import ConfigError
from pipeline_scripts.paths import ENV_DIR, rel

PIPELINES_YAML = Path(__file__).resolve().parent / "pipelines.yaml"
ENV_PREFIX = "MLOPS_"
# MLOPS_* variables that are not configuration: CI's job selector and the test suite's switches.
NOT_CONFIG_VARIABLES = frozenset(
    {"MLOPS_JOB", "MLOPS_ALLOW_NO_TERRAFORM", "MLOPS_ALLOW_NO_GITLAB_CI_LOCAL", "MLOPS_ALLOW_NO_CHECKOV"}
)


def load_config(
    environment: str = "local",
    *,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    env_dir: Path = ENV_DIR,
    pipelines_file: Path = PIPELINES_YAML,
) -> Config:
    """Load, merge and validate the configuration of ``environment``.

    ``overrides`` are CLI ``KEY=VALUE`` pairs (tfvars keys, or dotted yaml keys such as
    ``hpo.max_jobs``); ``environ`` defaults to ``os.environ`` and contributes ``MLOPS_*`` variables.
    """
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {environment!r}",
            hint=f"use one of {', '.join(ENVIRONMENTS)} (files in {rel(env_dir)})",
        )
    environ = os.environ if environ is None else environ
    tfvars_path = env_dir / f"{environment}.tfvars"
    tfvars = without_terraform_only(read_tfvars(tfvars_path), rel(tfvars_path))
    pipelines_raw = _read_yaml(pipelines_file)

    env_fields = {f.name for f in dataclasses.fields(EnvSettings)}
    sources: dict[str, str] = {key: rel(tfvars_path) for key in tfvars}
    sources.update(
        {
            f"{k}.{kk}": rel(pipelines_file)
            for k, v in pipelines_raw.items()
            if isinstance(v, dict)
            for kk in v
        }
    )
    env_values: dict[str, Any] = dict(tfvars)
    yaml_values: dict[str, Any] = json.loads(json.dumps(pipelines_raw))  # deep copy

    layered = [
        (
            {
                k[len(ENV_PREFIX) :].lower().replace("__", "."): v
                for k, v in environ.items()
                if k.startswith(ENV_PREFIX) and k not in NOT_CONFIG_VARIABLES
            },
            "environment variable",
        ),
        (dict(overrides or {}), "--set"),
    ]
    for layer, label in layered:
        for key, raw in layer.items():
            origin = (
                f"MLOPS_{key.upper().replace('.', '__')}"
                if label == "environment variable"
                else f"--set {key}"
            )
            if "." not in key:
                if key not in env_fields:
                    raise ConfigError(
                        f"{origin}: unknown key {key!r}", hint=did_you_mean(key, env_fields, "tfvars keys")
                    )
                env_values[key] = _parse_override(raw)
            else:
                _set_dotted(yaml_values, key, yaml.safe_load(raw) if raw != "" else "", origin)
            sources[key] = origin

    env = build_dataclass(EnvSettings, env_values, rel(tfvars_path), "")
    pipelines = build_dataclass(PipelinesSettings, yaml_values, rel(pipelines_file), "")
    if env.environment != environment:
        raise ConfigError(
            f"{rel(tfvars_path)}: environment = {env.environment!r} but the file is for {environment!r}",
            hint=f'set environment = "{environment}" in that file',
        )
    schema = load_dataset(dataset_path(env))
    quality = resolve_quality(env, pipelines, schema, sources)
    return Config(env=env, pipelines=pipelines, dataset=schema, quality=quality, sources=sources)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{rel(path)}: file not found", hint="restore it from git")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{rel(path)}: not valid YAML: {exc}".splitlines()[0], hint="fix the syntax"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{rel(path)}: top level is not a mapping",
            hint="see the keys in pipeline_scripts/config/schema.py",
        )
    return data


def _parse_override(raw: str) -> Any:
    """An override value: HCL/JSON literal when it parses as one, else the plain string."""
    text = raw.strip()
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            try:
                parsed = hcl2.loads(
                    f"v = {text}\n", serialization_options=SerializationOptions(strip_string_quotes=True)
                )
                return parsed["v"]
            except Exception:
                return raw
    return raw


def _set_dotted(target: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{origin}: {part!r} is not a section", hint="override a leaf key")
        node = child
    node[parts[-1]] = value
