"""Step factories shared by the three pipeline builders. Every SageMaker SDK call lives in this package.

Container paths used by the steps are defined here once; the stable step names (EventBridge rules,
``custom_notification_config`` and the Lambdas use them) come from ``contracts.json``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sagemaker.core import image_uris
from sagemaker.core.network import NetworkConfig
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.shapes import (
    MetricDefinition,
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
)
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile

from pipeline_scripts import step_scripts
from pipeline_scripts.build.code_bundle import CodeBundle
from pipeline_scripts.build.sdk import ModelBuilder, ProcessingStep
from pipeline_scripts.config import Config, JobResources
from pipeline_scripts.config.contracts import load as load_contracts

# --- Stable step names: contracts.json's (event rules, custom_notification_config and the Lambdas use them)
_CONTRACTS = load_contracts()
PREPROCESS = _CONTRACTS.step("preprocess")
DATA_QUALITY_BASELINE = _CONTRACTS.step("data_quality_baseline")
TRAIN = _CONTRACTS.step("train")
TUNE = _CONTRACTS.step("tune")
EVALUATE = _CONTRACTS.step("evaluate")
CHECK_EVALUATION = _CONTRACTS.step("check_evaluation")
# v2's ModelStep appended "-RegisterModel" / "-CreateModel" to its name; v3's is one step with the name
# it is given, so it gets the contract's full names.
REGISTER = _CONTRACTS.step("register")
FAIL_EVALUATION = _CONTRACTS.step("fail_evaluation")
CREATE_MODEL = _CONTRACTS.step("create_model")
PREPROCESS_INFERENCE = _CONTRACTS.step("preprocess_inference")
TRANSFORM = _CONTRACTS.step("transform")
JOIN = _CONTRACTS.step("join")
DATA_QUALITY_CHECK = _CONTRACTS.step("data_quality_check")
CHECK_GROUND_TRUTH = _CONTRACTS.step("check_ground_truth")
MODEL_QUALITY = _CONTRACTS.step("model_quality")

PROCESSING = "/opt/ml/processing"
LIB_DIR = f"{PROCESSING}/input/lib"
NO_GROUND_TRUTH = _CONTRACTS.no_ground_truth  # parameter sentinel: SageMaker rejects empty strings


def metric_definitions(ctx: BuildContext) -> list[dict[str, Any]]:
    """What train.py logs for the data set's problem type (scripts/metrics.py's TRAINING_METRICS)."""
    definitions: list[dict[str, Any]] = step_scripts.load("metrics").metric_definitions(ctx.problem_type)
    return definitions


def metric_definition_objects(ctx: BuildContext) -> list[MetricDefinition]:
    """``metric_definitions`` as the v3 ``ModelTrainer`` takes them."""
    return [MetricDefinition(name=m["Name"], regex=m["Regex"]) for m in metric_definitions(ctx)]


def metric_json_path(ctx: BuildContext, metric: str) -> str:
    """Where evaluation.json keeps ``metric``'s value (Model Monitor's model-quality layout)."""
    path: str = step_scripts.load("metrics").json_path(ctx.problem_type, metric)
    return path


def with_objective(ctx: BuildContext, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters with the problem type's XGBoost objective (and num_class for multiclass),
    unless pipelines.yaml sets an objective (train.py refuses one that does not fit)."""
    metrics = step_scripts.load("metrics")
    out = dict(hyperparameters)
    out.setdefault("objective", metrics.XGBOOST_OBJECTIVES[ctx.problem_type][0])
    if ctx.problem_type == metrics.MULTICLASS:
        out.setdefault("num_class", ctx.config.dataset.num_class)
    return out


def dataset_title(ctx: BuildContext) -> str:
    name: str = ctx.config.dataset.name or "Tabular"
    return name[:1].upper() + name[1:]


def model_kind(ctx: BuildContext) -> str:
    return "regressor" if ctx.problem_type == "regression" else f"{ctx.problem_type} classifier"


def registry_task(ctx: BuildContext) -> str:
    """The model package's Task (botocore's enum: REGRESSION, CLASSIFICATION, ...)."""
    return "REGRESSION" if ctx.problem_type == "regression" else "CLASSIFICATION"


@dataclass(frozen=True)
class BuildContext:
    """What every step factory needs: the config, the session, the code location, the pipeline kind."""

    config: Config
    session: PipelineSession
    code: CodeBundle
    kind: str  # training | hpo | inference

    @property
    def problem_type(self) -> str:
        problem_type: str = self.config.quality.problem_type
        return problem_type

    @property
    def kms_key(self) -> str | None:
        return self.config.env.kms_key or None

    @property
    def role(self) -> str:
        return self.config.env.role_arn

    def s3_output(self, *parts: str) -> Join:
        """``s3://<bucket>/<prefix>/pipelines/<kind>/<execution-id>/<parts…>``: never overwritten."""
        env = self.config.env
        return Join(
            on="/",
            values=[
                f"s3://{env.bucket_name}/{env.bucket_prefix}/pipelines/{self.kind}",
                ExecutionVariables.PIPELINE_EXECUTION_ID,
                *parts,
            ],
        )

    @property
    def tags(self) -> list[dict[str, Any]]:
        env = self.config.env
        return [
            {"Key": "project", "Value": "batch-inference-mlops"},
            {"Key": "environment", "Value": env.environment},
            {"Key": "owner", "Value": env.user_id},
        ]


@functools.cache
def _image(framework: str, region: str, version: str, py_version: str, instance_type: str) -> str:
    """A framework image URI. Cached per process: each lookup makes the SDK load botocore's endpoint data
    again (``sagemaker.core.common_utils._botocore_resolver``), ~50 ms, and a build makes a dozen."""
    return str(
        image_uris.retrieve(
            framework, region=region, version=version, py_version=py_version, instance_type=instance_type
        )
    )


def sklearn_image(ctx: BuildContext) -> str:
    fw = ctx.config.pipelines.frameworks
    instance_type = ctx.config.pipelines.processing.instance_type
    return _image("sklearn", ctx.config.env.aws_region, fw.sklearn_version, fw.python_version, instance_type)


def xgboost_image(ctx: BuildContext) -> str:
    fw = ctx.config.pipelines.frameworks
    instance_type = ctx.config.pipelines.training.instance_type
    return _image("xgboost", ctx.config.env.aws_region, fw.xgboost_version, fw.python_version, instance_type)


def network_config(ctx: BuildContext) -> NetworkConfig | None:
    env = ctx.config.env
    if not env.subnet_id:
        return None
    return NetworkConfig(
        subnets=list(env.subnet_id),
        security_group_ids=list(env.sg_id),
        encrypt_inter_container_traffic=True,
    )


def processor(
    ctx: BuildContext, base_job_name: str, resources: JobResources | None = None
) -> ScriptProcessor:
    """A processor on the SKLearn framework image with the repo's scripts on PYTHONPATH.

    One instance unless ``resources`` says otherwise: the step scripts (preprocess, join, evaluate, model
    quality) are single-process programs that read all of their input, so N instances would run the same
    work N times and write the same outputs over each other. Only the data-quality shard steps
    (``dq_steps``) run on ``processing.instance_count`` instances."""
    res = resources or dataclasses.replace(ctx.config.pipelines.processing, instance_count=1)
    return ScriptProcessor(
        image_uri=sklearn_image(ctx),
        command=["python3"],
        role=ctx.role,
        instance_type=res.instance_type,
        instance_count=res.instance_count,
        volume_size_in_gb=res.volume_size_gb,
        volume_kms_key=ctx.kms_key,
        output_kms_key=ctx.kms_key,
        max_runtime_in_seconds=res.max_runtime_seconds,
        base_job_name=base_job_name,
        sagemaker_session=ctx.session,
        network_config=network_config(ctx),
        env={"PYTHONPATH": LIB_DIR, "PYTHONUNBUFFERED": "1"},
        tags=ctx.tags,
    )


def processing_input(name: str, source: Any, destination: str, *, sharded: bool = False) -> ProcessingInput:
    """A processing input from S3 (an object, or every object under a prefix) at ``destination``.

    ``sharded``: on a job of N instances each gets a share of the objects (``ShardedByS3Key``: about
    1/N of the keys; an instance may get none when there are fewer objects than instances); otherwise
    every instance gets all of them (``FullyReplicated``, SageMaker's default)."""
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=source,
            local_path=destination,
            s3_data_type="S3Prefix",
            s3_data_distribution_type="ShardedByS3Key" if sharded else "FullyReplicated",
        ),
    )


def output(ctx: BuildContext, name: str, source: str, *, continuous: bool = False) -> ProcessingOutput:
    """A processing output at ``/opt/ml/processing/<source>`` uploaded under this execution's prefix.

    ``continuous`` uploads files as they are written, so a step that fails on purpose (model quality
    over its threshold) still leaves its results in S3."""
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(
            s3_uri=ctx.s3_output(name),
            local_path=f"{PROCESSING}/{source}",
            s3_upload_mode="Continuous" if continuous else "EndOfJob",
        ),
    )


def script_step(
    ctx: BuildContext,
    name: str,
    script: str,
    *,
    inputs: Sequence[ProcessingInput],
    outputs: Sequence[ProcessingOutput],
    arguments: Sequence[Any],
    property_files: Sequence[PropertyFile] = (),
    depends_on: Sequence[Any] = (),
    resources: JobResources | None = None,
) -> ProcessingStep:
    """A processing step running ``scripts/<script>`` with the scripts directory as a library input
    (on ``resources``, by default pipelines.yaml's ``processing``)."""
    lib = processing_input("lib", ctx.code.prefix_uri, LIB_DIR)
    step_args = processor(ctx, base_job_name=f"{ctx.kind}-{name}".lower()[:32], resources=resources).run(
        code=ctx.code.script_uri(script),
        inputs=[*inputs, lib],
        outputs=list(outputs),
        arguments=list(arguments),
    )
    return ProcessingStep(
        name=name,
        step_args=step_args,
        property_files=list(property_files) or None,
        depends_on=list(depends_on) or None,
    )


def output_uri(step: ProcessingStep, name: str) -> Any:
    """The S3 URI a processing step wrote its output ``name`` to (a property reference)."""
    return step.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri


def model_builder(**kwargs: Any) -> ModelBuilder:
    """A v3 ``ModelBuilder`` of an artifact in S3 and an image, for ``build()`` / ``register()`` in a step.

    ``dependencies=None``: its default, ``{"auto": True}``, makes ``build()`` and ``register()`` package
    and upload code when they run, which calls ``Session.default_bucket()`` and so S3 (``HeadBucket``,
    ``CreateBucket``) while the definition is being built. The serving code is already in the code bundle
    (``SAGEMAKER_SUBMIT_DIRECTORY``), so there is nothing to upload. The default also emits a
    ``DeprecationWarning`` on every construction. ``log_level``: the builder sets the SDK's shared
    logger (``sagemaker.core.utils.utils``) to its own ``log_level``, DEBUG by default, which prints the
    SDK's debug notes ("Auto-detecting optimal instance type ...") on every CLI run."""
    return ModelBuilder(dependencies=None, log_level=logging.ERROR, **kwargs)
