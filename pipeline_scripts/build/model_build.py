"""The model-build steps the training and HPO pipelines share.

PreprocessData → DataQualityBaseline → (the caller's model step: TrainModel or TuneModel) → EvaluateModel
    → CheckModelEvaluation → CandidateModel-RegisterModel (with metrics and data-quality baselines)
    | FailModelEvaluation (the metric and the threshold in its message)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sagemaker.core.drift_check_baselines import DriftCheckBaselines
from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
from sagemaker.core.shapes import Channel, DataSource, S3DataSource, Tag
from sagemaker.core.training.configs import Compute, Networking, OutputDataConfig, StoppingCondition
from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.core.workflow.properties import PropertyFile

from pipeline_scripts.build import dq_steps, steps
from pipeline_scripts.build.sdk import (
    ConditionStep,
    FailStep,
    ModelBuilder,
    ModelStep,
    ModelTrainer,
    Pipeline,
    ProcessingStep,
    Step,
)
from pipeline_scripts.build.steps import BuildContext

MODEL_APPROVAL = "PendingManualApproval"


class TrainingParameters:
    """Pipeline parameters shared by the training and HPO pipelines."""

    def __init__(self, ctx: BuildContext, register_threshold: float) -> None:
        env = ctx.config.env
        self.input_data = ParameterString(
            name="InputDataUri",
            default_value=f"s3://{env.bucket_name}/{env.bucket_train_prefix}/training-data.csv",
        )
        self.approval_status = ParameterString(
            name="ModelApprovalStatus",
            default_value=MODEL_APPROVAL,
            enum_values=["PendingManualApproval", "Approved"],
        )
        self.register_threshold = ParameterFloat(name="RegisterThreshold", default_value=register_threshold)

    def all(self) -> list[Any]:
        return [self.input_data, self.approval_status, self.register_threshold]


def preprocess_step(ctx: BuildContext, params: TrainingParameters) -> ProcessingStep:
    split = ctx.config.pipelines.training.split
    return steps.script_step(
        ctx,
        steps.PREPROCESS,
        "preprocess.py",
        inputs=[steps.processing_input("raw", params.input_data, f"{steps.PROCESSING}/input")],
        outputs=[
            steps.output(ctx, "train", "train"),
            steps.output(ctx, "validation", "validation"),
            steps.output(ctx, "test", "test"),
            steps.output(ctx, "transformer", "transformer"),
            steps.output(ctx, "baseline", "baseline"),
        ],
        arguments=[
            "fit",
            "--validation-fraction",
            str(split.validation_fraction),
            "--test-fraction",
            str(split.test_fraction),
            "--seed",
            str(split.seed),
            *dq_steps.baseline_parts_arguments(ctx),
        ],
    )


def baseline_step(ctx: BuildContext, preprocess: ProcessingStep) -> list[Step]:
    """Statistics and constraints of the training data: the baseline the inference pipeline checks against.
    One step, or (processing.instance_count > 1, builtin engine) the shards and their merge: the last
    step returned writes the baseline (dq_steps)."""
    if ctx.config.pipelines.inference.data_quality_engine == "model_monitor":
        from pipeline_scripts.build.model_monitor import baseline_quality_check_step

        return [baseline_quality_check_step(ctx, steps.output_uri(preprocess, "baseline"))]
    return list(dq_steps.baseline_steps(ctx, steps.output_uri(preprocess, "baseline")))


def baseline_uris(ctx: BuildContext, baseline: Step) -> tuple[Any, Any]:
    """(statistics.json, constraints.json) S3 URIs written by the baseline step."""
    if isinstance(baseline, ProcessingStep):
        prefix = steps.output_uri(baseline, "data_quality_baseline")
        return (
            Join(on="/", values=[prefix, "statistics.json"]),
            Join(on="/", values=[prefix, "constraints.json"]),
        )
    from pipeline_scripts.build.model_monitor import quality_check_baseline_uris

    return quality_check_baseline_uris(baseline)


def framework_hyperparameters(ctx: BuildContext, hyperparameters: dict[str, Any]) -> dict[str, str]:
    """The hyperparameters as the XGBoost framework container's script mode reads them: every value
    JSON-encoded (its toolkit decodes each one), plus where ``scripts/train.py`` is. v2's framework
    estimator added the ``sagemaker_*`` entries and encoded the values itself; v3's ``ModelTrainer`` has
    no framework estimators, so the builder states them (the definition stays the same)."""
    values: dict[str, Any] = {
        **hyperparameters,
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": ctx.code.sourcedir_uri,
        "sagemaker_container_log_level": 20,
        "sagemaker_region": ctx.config.env.aws_region,
    }
    return {name: json.dumps(value) for name, value in values.items()}


def model_trainer(ctx: BuildContext, hyperparameters: dict[str, Any], base_job_name: str) -> ModelTrainer:
    """The XGBoost framework container in script mode running ``scripts/train.py``."""
    res = ctx.config.pipelines.hpo if ctx.kind == "hpo" else ctx.config.pipelines.training
    env = ctx.config.env
    net = steps.network_config(ctx)
    trainer = ModelTrainer(
        training_image=steps.xgboost_image(ctx),
        hyperparameters=framework_hyperparameters(ctx, hyperparameters),
        role=ctx.role,
        compute=Compute(
            instance_type=res.instance_type,
            instance_count=res.instance_count,
            volume_size_in_gb=res.volume_size_gb,
            volume_kms_key_id=ctx.kms_key,
        ),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=res.max_runtime_seconds),
        output_data_config=OutputDataConfig(
            s3_output_path=f"s3://{env.bucket_name}/{env.bucket_prefix}/models/{ctx.kind}",
            kms_key_id=ctx.kms_key,
        ),
        networking=(
            Networking(
                subnets=list(net.subnets or []),
                security_group_ids=list(net.security_group_ids or []),
                enable_inter_container_traffic_encryption=True,
            )
            if net
            else None
        ),
        base_job_name=base_job_name,
        sagemaker_session=ctx.session,
        tags=[Tag(key=tag["Key"], value=tag["Value"]) for tag in ctx.tags],
    )
    return trainer.with_metric_definitions(steps.metric_definition_objects(ctx))


def training_inputs(preprocess: ProcessingStep) -> list[Channel]:
    def channel(name: str, source: str, content_type: str = "text/csv") -> Channel:
        return Channel(
            channel_name=name,
            content_type=content_type,
            data_source=DataSource(
                s3_data_source=S3DataSource(
                    s3_data_type="S3Prefix",
                    s3_uri=steps.output_uri(preprocess, source),
                    s3_data_distribution_type="FullyReplicated",
                )
            ),
        )

    return [
        channel("train", "train"),
        channel("validation", "validation"),
        channel("preprocessor", "transformer", content_type="application/json"),
    ]


def evaluation_steps(
    ctx: BuildContext,
    params: TrainingParameters,
    preprocess: ProcessingStep,
    baseline: Step,
    *,
    model_data: Any,
    model_step: Step,
    metadata: dict[str, str],
) -> list[Step]:
    """EvaluateModel → CheckModelEvaluation → RegisterModel | FailModelEvaluation."""
    quality = ctx.config.quality
    gate = quality.hpo_register if ctx.kind == "hpo" else quality.training_register
    metric = gate.metric
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = steps.script_step(
        ctx,
        steps.EVALUATE,
        "evaluate.py",
        inputs=[
            steps.processing_input("model", model_data, f"{steps.PROCESSING}/model"),
            steps.processing_input("test", steps.output_uri(preprocess, "test"), f"{steps.PROCESSING}/test"),
        ],
        outputs=[steps.output(ctx, "evaluation", "evaluation")],
        arguments=[
            "--model",
            f"{steps.PROCESSING}/model",
            "--test",
            f"{steps.PROCESSING}/test",
            "--output",
            f"{steps.PROCESSING}/evaluation",
        ],
        property_files=[report],
        depends_on=[model_step],
    )
    evaluation_uri = Join(on="/", values=[steps.output_uri(evaluate, "evaluation"), "evaluation.json"])
    statistics_uri, constraints_uri = baseline_uris(ctx, baseline)
    metrics = ModelMetrics(
        model_statistics=MetricsSource(s3_uri=evaluation_uri, content_type="application/json"),
        model_data_statistics=MetricsSource(s3_uri=statistics_uri, content_type="application/json"),
        model_data_constraints=MetricsSource(s3_uri=constraints_uri, content_type="application/json"),
    )
    drift_baselines = DriftCheckBaselines(
        model_data_statistics=MetricsSource(s3_uri=statistics_uri, content_type="application/json"),
        model_data_constraints=MetricsSource(s3_uri=constraints_uri, content_type="application/json"),
    )
    register_args = serving_model(ctx, model_data).register(
        content_types=list(ctx.config.pipelines.registry.content_types),
        response_types=list(ctx.config.pipelines.registry.response_types),
        inference_instances=list(ctx.config.pipelines.registry.inference_instances),
        transform_instances=list(ctx.config.pipelines.registry.transform_instances),
        model_package_group_name=ctx.config.env.model_package_group_name,
        approval_status=params.approval_status,
        model_metrics=metrics,
        drift_check_baselines=drift_baselines,
        customer_metadata_properties=metadata,
        description=f"{steps.dataset_title(ctx)} XGBoost {steps.model_kind(ctx)} trained by the "
        f"{ctx.kind} pipeline",
        domain="MACHINE_LEARNING",
        task=steps.registry_task(ctx),
    )
    register = ModelStep(name=steps.REGISTER, step_args=with_framework(ctx, register_args))
    value: Any = JsonGet(
        step_name=evaluate.name, property_file=report, json_path=steps.metric_json_path(ctx, metric)
    )
    if gate.higher_is_better:
        condition: Any = ConditionGreaterThanOrEqualTo(left=value, right=params.register_threshold)
        relation = "is below the minimum"
    else:
        condition = ConditionLessThanOrEqualTo(left=value, right=params.register_threshold)
        relation = "exceeds the threshold"
    fail = FailStep(
        name=steps.FAIL_EVALUATION,
        error_message=Join(
            on=" ",
            values=[
                f"Model not registered: test-set {metric}",
                value,
                relation,
                params.register_threshold,
                "(EvaluateModel's evaluation.json has all metrics).",
            ],
        ),
    )
    check = ConditionStep(
        name=steps.CHECK_EVALUATION, conditions=[condition], if_steps=[register], else_steps=[fail]
    )
    return [evaluate, check]


def with_framework(ctx: BuildContext, register_args: Any) -> Any:
    """The registered container states its framework, ``Framework: XGBOOST`` and the version, as v2's
    ``RegisterModel(framework=..., framework_version=...)`` wrote them (Inference Recommender and the
    console read them). v3's ``ModelBuilder.register()`` takes neither: it reads them from attributes it
    detects from an in-memory model, and setting those on a builder of an S3 artifact switches it to its
    framework path, which uploads code at build time. So they are added to the captured
    CreateModelPackage request, the one place v3 keeps it before the step serialises it."""
    request = register_args.create_model_package_request
    for container in request["InferenceSpecification"]["Containers"]:
        container["Framework"] = "XGBOOST"
        container["FrameworkVersion"] = ctx.config.pipelines.frameworks.xgboost_version
    return register_args


def serving_model(ctx: BuildContext, model_data: Any) -> ModelBuilder:
    """The model as batch transform serves it: XGBoost container + ``scripts/serve.py``."""
    return steps.model_builder(
        image_uri=steps.xgboost_image(ctx),
        s3_model_data_url=model_data,
        role_arn=ctx.role,
        env_vars={
            "SAGEMAKER_PROGRAM": "serve.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": ctx.code.sourcedir_uri,
            "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
            "SAGEMAKER_REGION": ctx.config.env.aws_region,
        },
        sagemaker_session=ctx.session,
    )


def model_build_pipeline(
    ctx: BuildContext,
    name: str,
    register_threshold: float,
    model_steps: Callable[[TrainingParameters, Any], tuple[Step, Any]],
    metadata: dict[str, str],
) -> Pipeline:
    """Preprocess → baseline → (train or tune) → evaluate → register | fail."""
    params = TrainingParameters(ctx, register_threshold)
    preprocess = preprocess_step(ctx, params)
    baseline = baseline_step(ctx, preprocess)
    model_step, model_data = model_steps(params, preprocess)
    tail = evaluation_steps(
        ctx, params, preprocess, baseline[-1], model_data=model_data, model_step=model_step, metadata=metadata
    )
    return Pipeline(
        name=name,
        parameters=params.all(),
        steps=[preprocess, *baseline, model_step, *tail],
        sagemaker_session=ctx.session,
    )
