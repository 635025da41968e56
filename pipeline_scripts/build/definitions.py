"""Build the three pipelines and their definition JSON (what ``upsert`` sends to SageMaker)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_scripts.build.approved import ApprovedModel
from pipeline_scripts.build.code_bundle import CodeBundle, code_bundle
from pipeline_scripts.build.session import definition_session, prepare_sdk
from pipeline_scripts.config import Config

KINDS = ("training", "hpo", "inference")


@dataclass(frozen=True)
class BuiltPipeline:
    kind: str
    name: str
    definition: dict[str, Any]

    @property
    def definition_json(self) -> str:
        return json.dumps(self.definition, sort_keys=False)


def build_pipeline(
    kind: str, config: Config, approved: ApprovedModel | None = None, code: CodeBundle | None = None
) -> BuiltPipeline:
    """Build one pipeline's definition offline. ``approved`` is required for inference."""
    prepare_sdk()  # before the builders import the SDK
    from pipeline_scripts.build.hpo import build_hpo_pipeline
    from pipeline_scripts.build.inference import build_inference_pipeline
    from pipeline_scripts.build.steps import BuildContext
    from pipeline_scripts.build.training import build_training_pipeline

    if kind not in KINDS:
        raise ValueError(f"unknown pipeline kind {kind!r}; use one of {KINDS}")
    ctx = BuildContext(
        config=config, session=definition_session(config), code=code or code_bundle(config), kind=kind
    )
    if kind == "training":
        pipeline = build_training_pipeline(ctx)
    elif kind == "hpo":
        pipeline = build_hpo_pipeline(ctx)
    else:
        if approved is None:
            raise ValueError("the inference pipeline needs an approved model version")
        pipeline = build_inference_pipeline(ctx, approved)
    definition = json.loads(pipeline.definition())
    _drop_build_time_job_names(definition["Steps"])
    return BuiltPipeline(kind=kind, name=pipeline.name, definition=definition)


def _drop_build_time_job_names(steps: list[dict[str, Any]]) -> None:
    """The SDK drops the ``sagemaker_job_name`` hyperparameter (base job name + build time) from training
    steps, not from tuning steps. Drop it there too: the same code then gives the same definition, so an
    unchanged upsert is a no-op and diffs show real changes only. Jobs get their names at execution time."""
    from pipeline_scripts.build.validate import iter_steps

    for step in iter_steps(steps):
        if step.get("Type") == "Tuning":
            args = step.get("Arguments") or {}
            for job in [args.get("TrainingJobDefinition") or {}, *(args.get("TrainingJobDefinitions") or [])]:
                (job.get("StaticHyperParameters") or {}).pop("sagemaker_job_name", None)


def placeholder_model(config: Config) -> ApprovedModel:
    """The stand-in version an offline inference definition records before any is approved."""
    env = config.env
    return ApprovedModel.placeholder_for(
        env.model_package_group_name, env.aws_region, env.account_id, env.bucket_name, env.bucket_prefix
    )


def build_all(config: Config, approved: ApprovedModel, kinds: tuple[str, ...] = KINDS) -> list[BuiltPipeline]:
    code = code_bundle(config)
    return [build_pipeline(kind, config, approved if kind == "inference" else None, code) for kind in kinds]


def write_definitions(built: list[BuiltPipeline], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in built:
        path = out_dir / f"{item.kind}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(item.definition, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    return paths


def validated_definitions(config: Config, approved: ApprovedModel, out: Path) -> tuple[list[Path], list[str]]:
    """Build the three definitions, write them to ``out`` and return the paths and every problem
    ``validate.validate_definition`` finds (as ``"<kind>: <problem>"``)."""
    from pipeline_scripts.build.validate import validate_definition

    built = build_all(config, approved)
    problems = [
        f"{b.kind}: {p}" for b in built for p in validate_definition(b.definition, len(b.definition_json))
    ]
    return write_definitions(built, out), problems
