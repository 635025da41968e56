"""The data set of an environment: ``<dataset_dir>/dataset.yaml``, validated with the step scripts' own
rules (``scripts/dataset.py``: one validation, wherever the schema is read), and the model-quality
settings that follow from it.

The data set's ``model_quality`` is the default of three things, each of which configuration may set
for itself: the inference pipeline's model-quality check (tfvars ``model_quality_metric`` /
``model_quality_threshold``), the training pipeline's registration gate (``training.register_*`` in
``pipelines.yaml``) and the HPO pipeline's (``hpo.register_*``). The tuning objective defaults to the
problem type's (``metrics.DEFAULT_TUNING_OBJECTIVE``). Every metric must fit the problem type, and
whether higher or lower is better comes from ``metrics.METRICS``: the one table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline_scripts import step_scripts
from pipeline_scripts.config.coerce import fix_hint
from pipeline_scripts.config.schema import EnvSettings, PipelinesSettings
from pipeline_scripts.errors import ConfigError
from pipeline_scripts.paths import PROJECT_ROOT, rel

DATASET_YAML = "dataset.yaml"


@dataclass(frozen=True)
class Gate:
    """A metric, its threshold and its direction."""

    metric: str
    threshold: float
    higher_is_better: bool

    @property
    def comparison(self) -> str:
        return ">=" if self.higher_is_better else "<="


@dataclass(frozen=True)
class Quality:
    """The model-quality settings, resolved against the data set."""

    problem_type: str
    check: Gate  # the inference pipeline's model-quality step
    training_register: Gate  # the training pipeline's registration condition
    hpo_register: Gate
    tuning_objective: str  # validation:<metric> train.py logs
    tuning_objective_type: str  # Minimize | Maximize


def dataset_path(env: EnvSettings, root: Path = PROJECT_ROOT) -> Path:
    folder = Path(env.dataset_dir)
    return (folder if folder.is_absolute() else root / folder) / DATASET_YAML


def load_dataset(path: Path) -> Any:
    """The validated schema (scripts/dataset.py's ``Dataset``); errors name the file and key."""
    if not path.is_file():
        raise ConfigError(
            f"{rel(path)}: file not found",
            hint="set dataset_dir to a folder holding dataset.yaml and the data files (as in data/)",
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{rel(path)}: not valid YAML: {exc}".splitlines()[0], hint="fix the syntax"
        ) from exc
    dataset = step_scripts.load("dataset")
    try:
        return dataset.from_dict(raw)
    except dataset.DatasetError as exc:
        raise ConfigError(f"{rel(path)}: {exc.what}", hint=exc.fix) from exc


def job_document(schema: Any) -> bytes:
    """``dataset.json``: the canonical schema the jobs read (deterministic bytes)."""
    text: str = step_scripts.load("dataset").to_json(schema)
    return text.encode("utf-8")


def resolve_quality(
    env: EnvSettings, pipelines: PipelinesSettings, schema: Any, sources: Mapping[str, str]
) -> Quality:
    """The model-quality settings; a metric that does not fit the problem type names where it was set."""
    metrics = step_scripts.load("metrics")
    problem_type = schema.problem_type

    def gate(key: str, metric: str, threshold: float | None) -> Gate:
        name = metric or schema.metric
        where = sources.get(key, "configuration")
        found = metrics.lookup(name, problem_type)
        if found is None:
            raise ConfigError(
                f"{where}: {key} {name!r} is not a {problem_type} metric (the data set's problem_type)",
                hint=fix_hint(
                    where,
                    key,
                    f"use one of {', '.join(metrics.metric_names(problem_type))}, or leave {key} out to "
                    "use the data set's model_quality",
                ),
            )
        if threshold is None and name != schema.metric:
            threshold_key = key.replace("metric", "threshold")
            raise ConfigError(
                f"{where}: {key} is {name!r} but {threshold_key} is not set (the data set's threshold is "
                f"for {schema.metric})",
                hint=f"set {threshold_key} too, or leave {key} out",
            )
        value = schema.threshold if threshold is None else threshold
        problem = metrics.threshold_problem(name, problem_type, float(value))
        if problem is not None:
            threshold_key = key.replace("metric", "threshold")
            source = sources.get(threshold_key, "configuration")
            raise ConfigError(
                f"{source}: {threshold_key} {problem}",
                hint=fix_hint(source, threshold_key, f"write a threshold {name} can reach"),
            )
        return Gate(name, float(value), bool(found.higher_is_better))

    hpo = pipelines.hpo
    objectives: dict[str, str] = metrics.tuning_objectives(problem_type)
    objective = hpo.objective_metric or metrics.DEFAULT_TUNING_OBJECTIVE[problem_type]
    if objective not in objectives:
        raise ConfigError(
            f"{sources.get('hpo.objective_metric', 'configuration')}: hpo.objective_metric {objective!r} "
            f"is not logged for a {problem_type} model",
            hint=f"use one of {', '.join(objectives)} (train.py logs them), or leave it out",
        )
    direction = objectives[objective]
    if hpo.objective_type and hpo.objective_type != direction:
        raise ConfigError(
            f"{sources.get('hpo.objective_type', 'configuration')}: hpo.objective_type "
            f"{hpo.objective_type} contradicts {objective}, which is better "
            f"{'higher' if direction == 'Maximize' else 'lower'}",
            hint=f"use {direction}, or leave objective_type out",
        )
    return Quality(
        problem_type=problem_type,
        check=gate("model_quality_metric", env.model_quality_metric, env.model_quality_threshold),
        training_register=gate(
            "training.register_metric",
            pipelines.training.register_metric,
            pipelines.training.register_threshold,
        ),
        hpo_register=gate("hpo.register_metric", hpo.register_metric, hpo.register_threshold),
        tuning_objective=objective,
        tuning_objective_type=direction,
    )


def describe(schema: Any) -> dict[str, Any]:
    """The schema as plain data (``mlops config show``)."""
    document: dict[str, Any] = json.loads(step_scripts.load("dataset").to_json(schema))
    return document
