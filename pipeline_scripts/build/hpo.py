"""The training-with-HPO pipeline: started when model quality degrades; retunes the hyperparameters.

PreprocessData → DataQualityBaseline → TuneModel (ranges and limits from pipelines.yaml, objective by
problem type: validation:rmse, validation:auc, validation:mlogloss unless configured)
    → EvaluateModel (best training job) → CheckModelEvaluation
    → CandidateModel-RegisterModel (metadata trained_by=hpo, enterprise_review_required=true)
    | FailModelEvaluation
"""

from __future__ import annotations

from typing import Any

from sagemaker.core.parameter import ContinuousParameter, IntegerParameter

from pipeline_scripts.build import steps
from pipeline_scripts.build.model_build import (
    TrainingParameters,
    model_build_pipeline,
    model_trainer,
    training_inputs,
)
from pipeline_scripts.build.sdk import HyperparameterTuner, Pipeline, Step, TuningStep
from pipeline_scripts.build.steps import BuildContext
from pipeline_scripts.config import ParamRange


class _TuningStep(TuningStep):  # type: ignore[misc]  # the SDK is untyped
    """``TuningStep`` whose training-job definition keeps the trainer's volume key and its
    inter-container traffic encryption.

    sagemaker-train 1.27.0 rebuilds the definition in ``HyperparameterTuner._build_training_job_definition``
    with a ``ResourceConfig`` of instance type, count and volume size only, and without
    ``EnableInterContainerTrafficEncryption``: the tuning jobs of an environment with a KMS key and a VPC
    would write unencrypted volumes and traffic that its training jobs encrypt (v2 wrote both). The
    trainer's own values are put back here."""

    def __init__(self, *, name: str, step_args: Any, trainer: Any) -> None:
        super().__init__(name=name, step_args=step_args)
        self._trainer = trainer

    @property
    def arguments(self) -> dict[str, Any]:
        request: dict[str, Any] = super().arguments
        definition = request["TrainingJobDefinition"]
        volume_key = self._trainer.compute.volume_kms_key_id
        if volume_key:
            definition["ResourceConfig"]["VolumeKmsKeyId"] = volume_key
        networking = self._trainer.networking
        if networking is not None and networking.enable_inter_container_traffic_encryption:
            definition["EnableInterContainerTrafficEncryption"] = True
        return request


def parameter_range(spec: ParamRange) -> Any:
    if spec.type == "integer":
        return IntegerParameter(int(spec.min), int(spec.max), scaling_type=spec.scaling)
    return ContinuousParameter(spec.min, spec.max, scaling_type=spec.scaling)


def build_hpo_pipeline(ctx: BuildContext) -> Pipeline:
    hpo = ctx.config.pipelines.hpo
    env = ctx.config.env

    def tune(params: TrainingParameters, preprocess: Any) -> tuple[Step, Any]:
        trainer = model_trainer(
            ctx, steps.with_objective(ctx, dict(hpo.static_hyperparameters)), base_job_name="hpo-xgboost"
        )
        tuner = HyperparameterTuner(
            model_trainer=trainer,
            objective_metric_name=ctx.config.quality.tuning_objective,
            objective_type=ctx.config.quality.tuning_objective_type,
            hyperparameter_ranges={name: parameter_range(spec) for name, spec in hpo.ranges.items()},
            metric_definitions=steps.metric_definitions(ctx),
            strategy=hpo.strategy,
            max_jobs=hpo.max_jobs,
            max_parallel_jobs=hpo.max_parallel_jobs,
            base_tuning_job_name="hpo",
            tags=ctx.tags,
        )
        step = _TuningStep(
            name=steps.TUNE, step_args=tuner.tune(inputs=training_inputs(preprocess)), trainer=trainer
        )
        best = step.get_top_model_s3_uri(
            top_k=0, s3_bucket=env.bucket_name, prefix=f"{env.bucket_prefix}/models/hpo"
        )
        return step, best

    return model_build_pipeline(
        ctx,
        env.pipeline_trainwhpo,
        ctx.config.quality.hpo_register.threshold,
        tune,
        metadata={"trained_by": "hpo", "enterprise_review_required": "true"},
    )
