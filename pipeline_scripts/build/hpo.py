"""The training-with-HPO pipeline: started when model quality degrades; retunes the hyperparameters.

PreprocessData → DataQualityBaseline → TuneModel (ranges and limits from pipelines.yaml, objective by
problem type: validation:rmse, validation:auc, validation:mlogloss unless configured)
    → EvaluateModel (best training job) → CheckModelEvaluation
    → CandidateModel-RegisterModel (metadata trained_by=hpo, enterprise_review_required=true)
    | FailModelEvaluation
"""

from __future__ import annotations

from typing import Any

from sagemaker.parameter import ContinuousParameter, IntegerParameter
from sagemaker.tuner import HyperparameterTuner
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import Step, TuningStep

from pipeline_scripts.build import steps
from pipeline_scripts.build.model_build import (
    TrainingParameters,
    estimator,
    model_build_pipeline,
    training_inputs,
)
from pipeline_scripts.build.steps import BuildContext
from pipeline_scripts.config import ParamRange


def parameter_range(spec: ParamRange) -> Any:
    if spec.type == "integer":
        return IntegerParameter(int(spec.min), int(spec.max), scaling_type=spec.scaling)
    return ContinuousParameter(spec.min, spec.max, scaling_type=spec.scaling)


def build_hpo_pipeline(ctx: BuildContext) -> Pipeline:
    hpo = ctx.config.pipelines.hpo
    env = ctx.config.env

    def tune(params: TrainingParameters, preprocess: Any) -> tuple[Step, Any]:
        tuner = HyperparameterTuner(
            estimator=estimator(
                ctx, steps.with_objective(ctx, dict(hpo.static_hyperparameters)), base_job_name="hpo-xgboost"
            ),
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
        step = TuningStep(name=steps.TUNE, step_args=tuner.fit(inputs=training_inputs(preprocess)))
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
