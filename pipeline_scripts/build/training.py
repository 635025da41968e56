"""The training pipeline: fixed, approved hyperparameters; recalibrates on new data.

PreprocessData → DataQualityBaseline → TrainModel → EvaluateModel → CheckModelEvaluation
    → CandidateModel-RegisterModel (PendingManualApproval, with metrics and data-quality baselines)
    | FailModelEvaluation (the metric and the threshold in its message)
"""

from __future__ import annotations

from typing import Any

from pipeline_scripts.build import steps
from pipeline_scripts.build.model_build import (
    TrainingParameters,
    model_build_pipeline,
    model_trainer,
    training_inputs,
)
from pipeline_scripts.build.sdk import Pipeline, Step
from pipeline_scripts.build.steps import BuildContext


def build_training_pipeline(ctx: BuildContext) -> Pipeline:
    training = ctx.config.pipelines.training

    def train(params: TrainingParameters, preprocess: Any) -> tuple[Step, Any]:
        from pipeline_scripts.build.sdk import TrainingStep

        hyperparameters = steps.with_objective(ctx, dict(training.hyperparameters))
        trainer = model_trainer(ctx, hyperparameters, base_job_name="training-xgboost")
        step = TrainingStep(
            name=steps.TRAIN, step_args=trainer.train(input_data_config=training_inputs(preprocess))
        )
        return step, step.properties.ModelArtifacts.S3ModelArtifacts

    return model_build_pipeline(
        ctx,
        ctx.config.env.pipeline_train,
        ctx.config.quality.training_register.threshold,
        train,
        metadata={"trained_by": "training", "enterprise_review_required": "false"},
    )
