"""Training steps: SageMaker framework script mode, emulated as the training toolkit runs it.

The SDK's framework estimators (XGBoost, SKLearn…) send ``sagemaker_program`` and
``sagemaker_submit_directory`` (an S3 ``sourcedir.tar.gz``) as JSON-encoded hyperparameters. The job
tree gets ``/opt/ml/input/data/<channel>``, ``/opt/ml/input/config/*.json``, ``/opt/ml/code`` (the
extracted source), ``/opt/ml/model`` and ``/opt/ml/output``; the program runs as
``python <program> --<name> <value>…`` with the toolkit's ``SM_*`` environment. Afterwards the model
directory is packed to ``<S3OutputPath>/<TrainingJobName>/output/model.tar.gz`` and each
``MetricDefinitions`` regex is applied to the log (the last match is the final value, as on AWS).

Built-in algorithms (no ``sagemaker_program``) are not supported locally.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from local_aws.executor import archives, process, s3io
from local_aws.executor.handlers.base import (
    ResolvedStep,
    StepContext,
    StepFailedError,
    StepOutcome,
    base_environment,
    iso,
    now,
    runtime_limit,
)
from local_aws.executor.handlers.processing import BOOTSTRAP
from local_aws.executor.paths import ContainerPaths

log = logging.getLogger(__name__)

HOST = "algo-1"
RESERVED_PREFIX = "sagemaker_"


@dataclass
class TrainingJobResult:
    name: str
    arn: str
    status: str  # Completed | Failed | Stopped
    failure_reason: str
    properties: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    started: datetime | None = None
    ended: datetime | None = None


def decode(value: Any) -> Any:
    """A hyperparameter as the toolkit sees it: JSON-decoded when it is JSON, else the raw string."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def cli_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def parse_metrics(definitions: list[Mapping[str, Any]], text: str) -> dict[str, float]:
    """Final metric values: the last match of each definition's regex (first group) in the log."""
    metrics: dict[str, float] = {}
    for definition in definitions:
        try:
            pattern = re.compile(str(definition["Regex"]))
        except re.error as exc:
            log.warning("metric %s has an invalid regex: %s", definition.get("Name"), exc)
            continue
        value = None
        for match in pattern.finditer(text):
            group = match.group(1) if pattern.groups else match.group(0)
            try:
                value = float(group)
            except (TypeError, ValueError):
                continue
        if value is not None:
            metrics[str(definition["Name"])] = value
    return metrics


def _channels(ctx: StepContext, definition: Mapping[str, Any], paths: ContainerPaths) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for channel in definition.get("InputDataConfig") or []:
        name = str(channel["ChannelName"])
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if not source:
            raise StepFailedError(
                f"ClientError: channel {name} is not an S3DataSource (not supported locally)"
            )
        target = paths.local(f"/opt/ml/input/data/{name}")
        target.mkdir(parents=True, exist_ok=True)
        try:
            s3io.download_input(
                ctx.clients.s3, str(source["S3Uri"]), target, str(source.get("S3DataType", "S3Prefix"))
            )
        except s3io.S3InputError as exc:
            raise StepFailedError(f"ClientError: channel {name}: {exc}") from None
        config[name] = {
            "ContentType": channel.get("ContentType"),
            "TrainingInputMode": channel.get("InputMode")
            or (definition.get("AlgorithmSpecification") or {}).get("TrainingInputMode", "File"),
            "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
        }
        ctx.check_cancelled()
    return config


def _source(ctx: StepContext, submit: Any, paths: ContainerPaths, scratch: Path) -> Path:
    code = paths.local("/opt/ml/code")
    code.mkdir(parents=True, exist_ok=True)
    if not isinstance(submit, str) or not submit.startswith("s3://"):
        raise StepFailedError(
            f"ClientError: sagemaker_submit_directory {submit!r} is not an S3 URI of a source tarball"
        )
    try:
        archive = s3io.download_file(ctx.clients.s3, submit, scratch / "sourcedir.tar.gz")
    except s3io.S3InputError as exc:
        raise StepFailedError(f"ClientError: {exc}") from None
    archives.extract(archive, code)
    if (code / "requirements.txt").is_file():
        log.warning("%s: requirements.txt in the source directory is not installed locally", ctx.step_name)
    return code


# Thread-pool sizes honoured by XGBoost (OpenMP), numpy's BLAS builds and MKL.
THREAD_POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _environment(
    definition: Mapping[str, Any],
    hyperparameters: dict[str, Any],
    channels: dict[str, Any],
    paths: ContainerPaths,
    *,
    program: str,
    submit: str,
    cpus: int,
) -> dict[str, str]:
    env = base_environment()
    env.update(paths.map_environment(definition.get("Environment") or {}))
    model_dir = paths.map("/opt/ml/model")
    output_data = paths.map("/opt/ml/output/data")
    sm = {
        "SM_MODEL_DIR": model_dir,
        "SM_OUTPUT_DATA_DIR": output_data,
        "SM_OUTPUT_DIR": paths.map("/opt/ml/output"),
        "SM_INPUT_DIR": paths.map("/opt/ml/input"),
        "SM_INPUT_CONFIG_DIR": paths.map("/opt/ml/input/config"),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(hyperparameters, sort_keys=True),
        "SM_CURRENT_HOST": HOST,
        "SM_HOSTS": json.dumps([HOST]),
        "SM_NUM_CPUS": str(cpus),
        "SM_NUM_GPUS": "0",
        "SM_USER_ENTRY_POINT": program,
        "SM_MODULE_NAME": Path(program).stem,
        "SM_MODULE_DIR": submit,
        "SM_INPUT_DATA_CONFIG": json.dumps(channels, sort_keys=True),
        "SM_RESOURCE_CONFIG": json.dumps({"current_host": HOST, "hosts": [HOST]}),
        "SM_USER_ARGS": json.dumps(
            [part for k in sorted(hyperparameters) for part in (f"--{k}", cli_value(hyperparameters[k]))]
        ),
        "SM_LOG_LEVEL": "20",
        "PYTHONPATH": paths.map("/opt/ml/code"),
    }
    for name in channels:
        sm[f"SM_CHANNEL_{name.upper()}"] = paths.map(f"/opt/ml/input/data/{name}")
    for key, value in hyperparameters.items():
        sm[f"SM_HP_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    sm["SM_TRAINING_ENV"] = json.dumps(
        {
            "channel_input_dirs": {n: sm[f"SM_CHANNEL_{n.upper()}"] for n in channels},
            "current_host": HOST,
            "hosts": [HOST],
            "hyperparameters": hyperparameters,
            "model_dir": model_dir,
            "output_data_dir": output_data,
            "num_cpus": cpus,
            "num_gpus": 0,
            "user_entry_point": program,
        },
        sort_keys=True,
    )
    env.update(sm)
    return env


def describe(name: str, job_arn: str, definition: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The DescribeTrainingJob document the step's properties are read from."""
    properties = {k: v for k, v in definition.items() if k != "Tags"}
    properties.update(TrainingJobName=name, TrainingJobArn=job_arn, **extra)
    return properties


def _write_input_config(paths: ContainerPaths, hyperparameters: Mapping[str, str], channels: Any) -> None:
    """``/opt/ml/input/config``: the files a SageMaker training container finds there."""
    config = paths.local("/opt/ml/input/config")
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters, indent=2))
    (config / "inputdataconfig.json").write_text(json.dumps(channels, indent=2))
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": HOST, "hosts": [HOST], "network_interface_name": "eth0"})
    )


def _upload_artifacts(
    ctx: StepContext, paths: ContainerPaths, root: Path, model_uri: str, output_uri: str
) -> None:
    """``model.tar.gz`` of ``/opt/ml/model``; ``output.tar.gz`` when ``/opt/ml/output/data`` has files."""
    archive = archives.pack(paths.local("/opt/ml/model"), root / "upload" / "model.tar.gz")
    s3io.upload_file(ctx.clients.s3, archive, model_uri)
    output_data = paths.local("/opt/ml/output/data")
    if any(output_data.iterdir()):
        packed = archives.pack(output_data, root / "upload" / "output.tar.gz")
        s3io.upload_file(ctx.clients.s3, packed, output_uri)


def run_training_job(
    ctx: StepContext,
    name: str,
    definition: Mapping[str, Any],
    tuning_job_arn: str | None = None,
    *,
    cpus: int | None = None,
) -> TrainingJobResult:
    """Run one training job (a TrainingStep's, or one of a tuning job's); never raises StepFailedError
    for the job's own failure: the result says Failed and why.

    ``cpus``: the job's share of this machine when several jobs run at once (on AWS each has its own
    instance). The job sees it as ``SM_NUM_CPUS``, and OpenMP/BLAS thread pools are capped to it, unless
    the definition's Environment sets them: XGBoost's default of one thread per core, in two jobs at
    once on two cores, trains about three times slower than one thread each."""
    share = max(1, min(cpus or ctx.cpu_count, ctx.cpu_count))
    job_arn = ctx.arn("training-job", name)
    started = now()
    root = ctx.job_root(name)
    paths = ContainerPaths(root)
    raw = {str(k): str(v) for k, v in (definition.get("HyperParameters") or {}).items()}
    decoded = {k: decode(v) for k, v in raw.items()}
    output_path = str((definition.get("OutputDataConfig") or {}).get("S3OutputPath", "")).rstrip("/")
    model_uri = f"{output_path}/{name}/output/model.tar.gz"
    metrics: dict[str, float] = {}
    status, reason = "Completed", ""
    try:
        program, submit = decoded.get("sagemaker_program"), decoded.get("sagemaker_submit_directory")
        if not program:
            image = (definition.get("AlgorithmSpecification") or {}).get("TrainingImage")
            raise StepFailedError(
                f"ClientError: training job {name} uses image {image} without sagemaker_program: built-in "
                "algorithms are not supported locally (use a framework estimator with an entry_point)"
            )
        for directory in ("input/config", "model", "output/data", "checkpoints"):
            paths.local(f"/opt/ml/{directory}").mkdir(parents=True, exist_ok=True)
        code = _source(ctx, submit, paths, root)
        channels = _channels(ctx, definition, paths)
        user = {k: v for k, v in decoded.items() if not k.startswith(RESERVED_PREFIX)}
        _write_input_config(paths, raw, channels)
        args = [part for key in sorted(user) for part in (f"--{key}", cli_value(user[key]))]
        env = _environment(
            definition, user, channels, paths, program=str(program), submit=str(submit), cpus=share
        )
        if share < ctx.cpu_count:
            defined = definition.get("Environment") or {}
            env.update({k: str(share) for k in THREAD_POOL_VARIABLES if k not in defined})
        limit = runtime_limit(definition)
        result = process.run(
            [sys.executable, str(BOOTSTRAP), str(root), str(code / str(program)), *args],
            env=env,
            cwd=code,
            log_dir=ctx.log_dir,
            name=name,
            cancel=ctx.cancel,
            timeout=limit,
        )
        metrics = parse_metrics(
            list((definition.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []),
            result.output_text(),
        )
        if not result.ok:
            status = "Stopped" if result.cancelled else "Failed"
            failure_file = paths.local("/opt/ml/output/failure")
            reason = (
                "AlgorithmError: " + process.tail(failure_file.read_text(errors="replace"), 1000)
                if failure_file.is_file() and failure_file.read_text(errors="replace").strip()
                else process.failure_reason(result, f"training job {name}", limit)
            )
        else:
            _upload_artifacts(ctx, paths, root, model_uri, f"{output_path}/{name}/output/output.tar.gz")
    except StepFailedError as failure:
        status, reason = "Failed", failure.reason
    finally:
        ctx.cleanup(root)
    ended = now()
    extra: dict[str, Any] = {
        "TrainingJobStatus": status,
        "SecondaryStatus": status,
        "CreationTime": iso(started),
        "TrainingStartTime": iso(started),
        "TrainingEndTime": iso(ended),
        "LastModifiedTime": iso(ended),
        "TrainingTimeInSeconds": int((ended - started).total_seconds()),
        "BillableTimeInSeconds": int((ended - started).total_seconds()),
        "FinalMetricDataList": [
            {"MetricName": k, "Value": v, "Timestamp": iso(ended)} for k, v in metrics.items()
        ],
    }
    if status == "Completed":
        extra["ModelArtifacts"] = {"S3ModelArtifacts": model_uri}
    if reason:
        extra["FailureReason"] = reason
    if tuning_job_arn:
        extra["TuningJobArn"] = tuning_job_arn
    return TrainingJobResult(
        name=name,
        arn=job_arn,
        status=status,
        failure_reason=reason,
        properties=describe(name, job_arn, definition, **extra),
        metrics=metrics,
        started=started,
        ended=ended,
    )


def run(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
    name = ctx.job_name()
    job_arn = ctx.arn("training-job", name)
    ctx.record_job("CreateTrainingJob", {"TrainingJobName": name, **step.arguments})
    ctx.started({"TrainingJob": {"Arn": job_arn}})
    result = run_training_job(ctx, name, step.arguments)
    if result.status != "Completed":
        raise StepFailedError(result.failure_reason, result.properties)
    return StepOutcome(
        properties=result.properties,
        metadata={"TrainingJob": {"Arn": job_arn}},
        outputs={"model": result.properties["ModelArtifacts"]["S3ModelArtifacts"]},
    )
