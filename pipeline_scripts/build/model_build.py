"""The model-build steps the training and HPO pipelines share.

PreprocessData → DataQualityBaseline → (the caller's model step: TrainModel or TuneModel) → EvaluateModel
    → CheckModelEvaluation → CandidateModel-RegisterModel (with metrics and data-quality baselines)
    | FailModelEvaluation (the metric and the threshold in its message)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sagemaker.drift_check_baselines import DriftCheckBaselines
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, Step
from sagemaker.xgboost import XGBoost

from pipeline_scripts.build import dq_steps, steps
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
        inputs=[
            ProcessingInput(
                input_name="raw", source=params.input_data, destination=f"{steps.PROCESSING}/input"
            )
        ],
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


def estimator(ctx: BuildContext, hyperparameters: dict[str, Any], base_job_name: str) -> XGBoost:
    """The XGBoost framework estimator in script mode running ``scripts/train.py``."""
    res = ctx.config.pipelines.hpo if ctx.kind == "hpo" else ctx.config.pipelines.training
    env = ctx.config.env
    net = steps.network_config(ctx)
    return XGBoost(
        entry_point="train.py",
        source_dir=ctx.code.sourcedir_uri,
        framework_version=ctx.config.pipelines.frameworks.xgboost_version,
        py_version=ctx.config.pipelines.frameworks.python_version,
        # Hyperparameters go to the constructor: v2's set_hyperparameters() double-encodes strings.
        hyperparameters={k: v for k, v in hyperparameters.items()},
        role=ctx.role,
        instance_type=res.instance_type,
        instance_count=res.instance_count,
        volume_size=res.volume_size_gb,
        max_run=res.max_runtime_seconds,
        volume_kms_key=ctx.kms_key,
        output_kms_key=ctx.kms_key,
        output_path=f"s3://{env.bucket_name}/{env.bucket_prefix}/models/{ctx.kind}",
        code_location=f"s3://{env.bucket_name}/{env.bucket_prefix}/models/{ctx.kind}/code",
        base_job_name=base_job_name,
        metric_definitions=steps.metric_definitions(ctx),
        subnets=net.subnets if net else None,
        security_group_ids=net.security_group_ids if net else None,
        encrypt_inter_container_traffic=bool(net),
        disable_profiler=True,
        sagemaker_session=ctx.session,
        tags=ctx.tags,
    )


def training_inputs(preprocess: ProcessingStep) -> dict[str, TrainingInput]:
    def channel(name: str, content_type: str | None = "text/csv") -> TrainingInput:
        return TrainingInput(s3_data=steps.output_uri(preprocess, name), content_type=content_type)

    return {
        "train": channel("train"),
        "validation": channel("validation"),
        "preprocessor": channel("transformer", content_type="application/json"),
    }


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
            ProcessingInput(input_name="model", source=model_data, destination=f"{steps.PROCESSING}/model"),
            ProcessingInput(
                input_name="test",
                source=steps.output_uri(preprocess, "test"),
                destination=f"{steps.PROCESSING}/test",
            ),
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
    register = ModelStep(
        name=steps.REGISTER_MODEL_STEP,
        step_args=serving_model(ctx, model_data).register(
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
            framework="XGBOOST",
            framework_version=ctx.config.pipelines.frameworks.xgboost_version,
        ),
    )
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


def serving_model(ctx: BuildContext, model_data: Any) -> Model:
    """The model as batch transform serves it: XGBoost container + ``scripts/serve.py``."""
    return Model(
        image_uri=steps.xgboost_image(ctx),
        model_data=model_data,
        role=ctx.role,
        env={
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
