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

from pipeline_scripts.config.coerce import build_dataclass, did_you_mean, origin_of
from pipeline_scripts.config.dataset import dataset_path, load_dataset, resolve_quality
from pipeline_scripts.config.schema import ENVIRONMENTS, Config, EnvSettings, PipelinesSettings
from pipeline_scripts.config.tfvars import read_tfvars_with_lines, without_terraform_only
from pipeline_scripts.errors import ConfigError
from pipeline_scripts.paths import ENV_DIR, rel

PIPELINES_YAML = Path(__file__).resolve().parent / "pipelines.yaml"
ENV_PREFIX = "MLOPS_"
# MLOPS_* variables that are not configuration: CI's job selector and the test suite's switches.
NOT_CONFIG_VARIABLES = frozenset(
    {
        "MLOPS_JOB",
        "MLOPS_ALLOW_NO_TERRAFORM",
        "MLOPS_ALLOW_NO_GITLAB_CI_LOCAL",
        "MLOPS_ALLOW_NO_CHECKOV",
        "MLOPS_PROJECT_ROOT",  # paths.py: where the checkout is
    }
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
    parsed = read_tfvars_with_lines(tfvars_path)
    tfvars = without_terraform_only(parsed.values, rel(tfvars_path))
    pipelines_raw, yaml_lines = _read_yaml(pipelines_file)

    env_fields = {f.name for f in dataclasses.fields(EnvSettings)}
    # key -> where its value comes from: file:line, then the MLOPS_* variable or --set KEY that replaced it
    sources: dict[str, str] = {key: f"{rel(tfvars_path)}:{parsed.lines[key]}" for key in tfvars}
    sources.update({key: f"{rel(pipelines_file)}:{line}" for key, line in yaml_lines.items()})
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
                _set_dotted(yaml_values, key, _parse_yaml_override(raw, origin), origin)
            for stale in [k for k in sources if k.startswith(key + ".")]:
                del sources[stale]  # the override replaced the whole section
            sources[key] = origin

    env = build_dataclass(EnvSettings, env_values, rel(tfvars_path), "", sources)
    pipelines = build_dataclass(PipelinesSettings, yaml_values, rel(pipelines_file), "", sources)
    if env.environment != environment:
        source = origin_of(sources, "environment", rel(tfvars_path))
        in_file = source.startswith(rel(tfvars_path))
        raise ConfigError(
            f"{source}: environment = {env.environment!r} but --env is {environment!r}",
            hint=f'set environment = "{environment}" in that file'
            if in_file
            else f"drop {source} (the environment is chosen with --env)",
        )
    schema = load_dataset(dataset_path(env))
    quality = resolve_quality(env, pipelines, schema, sources)
    return Config(env=env, pipelines=pipelines, dataset=schema, quality=quality, sources=sources)


def _read_yaml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The file's mapping and the line of every (dotted) key in it."""
    if not path.is_file():
        raise ConfigError(f"{rel(path)}: file not found", hint="restore it from git")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{rel(path)}: not UTF-8 text (byte {exc.start})", hint="restore it from git, or save it as UTF-8"
        ) from exc
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{rel(path)}:{mark.line + 1}" if mark is not None else rel(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML: {problem}", hint="fix the syntax") from exc
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{rel(path)}: top level is not a mapping",
            hint="see the keys in pipeline_scripts/config/schema.py",
        )
    lines: dict[str, int] = {}
    _key_lines(root, "", lines, rel(path))
    return data, lines


def _key_lines(node: Any, prefix: str, lines: dict[str, int], file: str) -> None:
    """The line of every key; a key given twice in one mapping is refused (YAML keeps the last silently)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}{key_node.value}"
            line = key_node.start_mark.line + 1
            if key in lines:
                raise ConfigError(
                    f"{file}:{line}: {key} is given twice (first on line {lines[key]})", hint="keep one"
                )
            lines[key] = line
            _key_lines(value_node, key + ".", lines, file)


def _parse_yaml_override(raw: str, origin: str) -> Any:
    if raw == "":
        return ""
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{origin}: {raw!r} is not a value: {problem}", hint="quote strings") from exc


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
