"""The batch-inference pipeline: scores a batch with the approved model and monitors it.

ApprovedModel-CreateModel → PreprocessInferenceData → BatchTransform → JoinPredictions → DataQualityCheck
→ CheckGroundTruth → ModelQualityCalcStep (fails when the metric breaches the threshold: the retraining
signal that starts the HPO pipeline).

The model is the latest Approved version of the model package group, resolved by the CLI when the
pipeline is upserted and recorded in the definition as parameter defaults (``ModelPackageArn`` and the
version's data-quality baseline), so every execution is traceable to one registered version.
"""

from __future__ import annotations

from typing import Any

from sagemaker.core.training.configs import Networking
from sagemaker.core.transformer import Transformer
from sagemaker.core.workflow.conditions import ConditionEquals, ConditionNot
from sagemaker.core.workflow.functions import Join
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString

from pipeline_scripts.build import dq_steps, steps
from pipeline_scripts.build.approved import ApprovedModel
from pipeline_scripts.build.sdk import ConditionStep, ModelStep, Pipeline, TransformStep
from pipeline_scripts.build.steps import BuildContext

P = steps.PROCESSING


class InferenceParameters:
    def __init__(self, ctx: BuildContext, model: ApprovedModel) -> None:
        env = ctx.config.env
        self.input_data = ParameterString(
            name="InputDataUri",
            default_value=f"s3://{env.bucket_name}/{env.bucket_inf_prefix}/inference-data.csv",
        )
        self.ground_truth = ParameterString(name="GroundTruthUri", default_value=steps.NO_GROUND_TRUTH)
        self.model_package = ParameterString(name="ModelPackageArn", default_value=model.package_arn)
        self.model_data = ParameterString(name="ModelDataUrl", default_value=model.model_data_url)
        self.baseline_statistics = ParameterString(
            name="BaselineStatisticsUri", default_value=model.statistics_uri
        )
        self.baseline_constraints = ParameterString(
            name="BaselineConstraintsUri", default_value=model.constraints_uri
        )
        self.threshold = ParameterFloat(
            name="ModelQualityThreshold", default_value=ctx.config.quality.check.threshold
        )

    def all(self) -> list[Any]:
        return [
            self.input_data,
            self.ground_truth,
            self.model_package,
            self.model_data,
            self.baseline_statistics,
            self.baseline_constraints,
            self.threshold,
        ]


def build_inference_pipeline(ctx: BuildContext, model: ApprovedModel) -> Pipeline:
    env = ctx.config.env
    inf = ctx.config.pipelines.inference
    params = InferenceParameters(ctx, model)

    # The approved version's container (image, serving code, environment) as registered; its model data
    # is a parameter so an execution can re-score with another version's artifact if needed.
    create_model = ModelStep(
        name=steps.CREATE_MODEL,
        step_args=steps.model_builder(
            image_uri=model.image,
            s3_model_data_url=params.model_data,
            env_vars={**model.environment, "MODEL_PACKAGE_ARN": model.package_arn},
            role_arn=ctx.role,
            network=_networking(ctx),
            sagemaker_session=ctx.session,
        ).build(),
    )
    preprocess = steps.script_step(
        ctx,
        steps.PREPROCESS_INFERENCE,
        "preprocess.py",
        inputs=[steps.processing_input("raw", params.input_data, f"{P}/input")],
        outputs=[steps.output(ctx, "features", "features")],
        # --input-uri: a file URI's S3 prefix also downloads its siblings (x.csv.bak); the step reads x.csv.
        arguments=[
            "validate",
            "--input",
            f"{P}/input",
            "--output",
            f"{P}/features",
            "--input-uri",
            params.input_data,
        ],
    )
    transformer = Transformer(
        model_name=create_model.properties.ModelName,
        instance_type=inf.transform_instance_type,
        instance_count=inf.transform_instance_count,
        output_path=ctx.s3_output("predictions"),
        accept="text/csv",
        assemble_with="Line",
        strategy="MultiRecord",
        output_kms_key=ctx.kms_key,
        volume_kms_key=ctx.kms_key,
        base_transform_job_name="inference-transform",
        sagemaker_session=ctx.session,
        tags=ctx.tags,
    )
    transform = TransformStep(
        name=steps.TRANSFORM,
        step_args=transformer.transform(
            data=steps.output_uri(preprocess, "features"),
            content_type="text/csv",
            split_type="Line",
        ),
    )
    predictions = transform.properties.TransformOutput.S3OutputPath
    join = steps.script_step(
        ctx,
        steps.JOIN,
        "join.py",
        inputs=[
            steps.processing_input("features", steps.output_uri(preprocess, "features"), f"{P}/features"),
            steps.processing_input("predictions", predictions, f"{P}/predictions"),
        ],
        outputs=[steps.output(ctx, "joined", "joined")],
        arguments=[
            "--features",
            f"{P}/features",
            "--predictions",
            f"{P}/predictions",
            "--output",
            f"{P}/joined",
        ],
    )
    data_quality = _data_quality_step(ctx, params, join)
    model_quality = steps.script_step(
        ctx,
        steps.MODEL_QUALITY,
        "model_quality.py",
        inputs=[
            steps.processing_input(
                "predictions",
                Join(on="/", values=[steps.output_uri(join, "joined"), "predictions.csv"]),
                f"{P}/predictions",
            ),
            steps.processing_input("ground_truth", params.ground_truth, f"{P}/ground_truth"),
        ],
        outputs=[steps.output(ctx, "model_quality", "model_quality", continuous=True)],
        arguments=[
            "--predictions",
            f"{P}/predictions",
            "--ground-truth",
            f"{P}/ground_truth",
            "--output",
            f"{P}/model_quality",
            "--metric",
            ctx.config.quality.check.metric,
            "--threshold",
            params.threshold.to_string(),
        ],
    )
    check_ground_truth = ConditionStep(
        name=steps.CHECK_GROUND_TRUTH,
        conditions=[
            ConditionNot(expression=ConditionEquals(left=params.ground_truth, right=steps.NO_GROUND_TRUTH))
        ],
        if_steps=[model_quality],
        else_steps=[],
        depends_on=[data_quality[-1]],
    )
    return Pipeline(
        name=env.pipeline_inf,
        parameters=params.all(),
        steps=[create_model, preprocess, transform, join, *data_quality, check_ground_truth],
        sagemaker_session=ctx.session,
    )


def _networking(ctx: BuildContext) -> Networking | None:
    env = ctx.config.env
    if not env.subnet_id:
        return None
    return Networking(subnets=list(env.subnet_id), security_group_ids=list(env.sg_id))


def _data_quality_step(ctx: BuildContext, params: InferenceParameters, join: Any) -> list[Any]:
    """The batch against the approved version's baseline: violations notify (the step succeeds). One
    step, or (processing.instance_count > 1, builtin engine) the shards and their merge (dq_steps).

    The data set is join's ``data-quality-input/``: one CSV part with a header per batch part (the
    features and the prediction), not the rest of join's output (``predictions.csv`` has no header)."""
    # The trailing "/": the prefix is the folder only, never a sibling of the same name's start.
    dataset = Join(on="/", values=[steps.output_uri(join, "joined"), "data-quality-input/"])
    if ctx.config.pipelines.inference.data_quality_engine == "model_monitor":
        from pipeline_scripts.build.model_monitor import check_quality_check_step

        return [
            check_quality_check_step(ctx, dataset, params.baseline_statistics, params.baseline_constraints)
        ]
    return list(dq_steps.check_steps(ctx, dataset, params.baseline_statistics, params.baseline_constraints))
