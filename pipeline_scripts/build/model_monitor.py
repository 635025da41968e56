"""Data quality with SageMaker Model Monitor (``QualityCheckStep``), for accounts that still have it.

Selected by ``inference.data_quality_engine: model_monitor`` in pipelines.yaml; the default ``builtin``
engine runs ``scripts/data_quality.py``, which writes the same files in the same layout. Step names are
the same in both engines, so event rules and notification config do not change.
"""

from __future__ import annotations

from typing import Any

from sagemaker.core.model_monitor import DatasetFormat
from sagemaker.core.network import NetworkConfig

from pipeline_scripts.build import steps
from pipeline_scripts.build.sdk import CheckJobConfig, DataQualityCheckConfig, QualityCheckStep
from pipeline_scripts.build.steps import BuildContext


class _QualityCheckStep(QualityCheckStep):  # type: ignore[misc]  # the SDK is untyped
    """``QualityCheckStep`` with its ``NetworkConfig`` in request form.

    sagemaker-mlops 1.27.0's ``_build_check_job_request`` puts the processor's ``NetworkConfig`` object
    itself into the step's arguments (``request_dict["NetworkConfig"] = processor.network_config``), so a
    pipeline whose environment has subnets fails to serialise: "Object of type NetworkConfig is not JSON
    serializable". The processing steps convert it with ``_to_request_dict()``; this does the same."""

    @property
    def arguments(self) -> dict[str, Any]:
        request: dict[str, Any] = super().arguments
        network = request.get("NetworkConfig")
        if isinstance(network, NetworkConfig):
            request["NetworkConfig"] = network._to_request_dict()
        return request


def _check_job_config(ctx: BuildContext) -> CheckJobConfig:
    res = ctx.config.pipelines.processing
    return CheckJobConfig(
        role=ctx.role,
        instance_count=res.instance_count,
        instance_type=res.instance_type,
        volume_size_in_gb=res.volume_size_gb,
        volume_kms_key=ctx.kms_key,
        output_kms_key=ctx.kms_key,
        max_runtime_in_seconds=res.max_runtime_seconds,
        sagemaker_session=ctx.session,
        network_config=steps.network_config(ctx),
        tags=ctx.tags,
    )


def _data_quality_step(ctx: BuildContext, name: str, dataset_uri: Any, output: str, **flags: Any) -> Any:
    """A data-quality ``QualityCheckStep`` on ``dataset_uri`` (CSV with a header) writing to ``output``."""
    return _QualityCheckStep(
        name=name,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=dataset_uri,
            dataset_format=DatasetFormat.csv(header=True),
            output_s3_uri=ctx.s3_output(output),
        ),
        check_job_config=_check_job_config(ctx),
        model_package_group_name=ctx.config.env.model_package_group_name,
        **flags,
    )


def baseline_quality_check_step(ctx: BuildContext, dataset_uri: Any) -> QualityCheckStep:
    """Training: suggest a baseline from the training data (skip the check, register the baseline)."""
    step: QualityCheckStep = _data_quality_step(
        ctx,
        steps.DATA_QUALITY_BASELINE,
        dataset_uri,
        "data_quality_baseline",
        skip_check=True,
        register_new_baseline=True,
    )
    return step


def check_quality_check_step(
    ctx: BuildContext, dataset_uri: Any, statistics_uri: Any, constraints_uri: Any
) -> QualityCheckStep:
    """Inference: check the batch (join's data-quality-input/ parts) against the approved baseline."""
    step: QualityCheckStep = _data_quality_step(
        ctx,
        steps.DATA_QUALITY_CHECK,
        dataset_uri,
        "data_quality",
        skip_check=False,
        register_new_baseline=False,
        fail_on_violation=ctx.config.pipelines.inference.fail_on_data_quality_violations,
        supplied_baseline_statistics=statistics_uri,
        supplied_baseline_constraints=constraints_uri,
    )
    return step


def quality_check_baseline_uris(step: Any) -> tuple[Any, Any]:
    """(statistics, constraints) S3 URIs a baseline QualityCheckStep calculated."""
    props = step.properties
    return (
        props.CalculatedBaselineStatistics,
        props.CalculatedBaselineConstraints,
    )
