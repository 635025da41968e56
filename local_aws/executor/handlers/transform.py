"""Transform steps: batch transform with the model's own serving functions, in a local subprocess.

The model comes from ``DescribeModel``: ``ModelDataUrl`` is extracted to ``/opt/ml/model``, and the
serving program (``SAGEMAKER_PROGRAM``) from ``SAGEMAKER_SUBMIT_DIRECTORY`` (an S3 tarball, or a
directory inside the model) to ``/opt/ml/code``. :mod:`local_aws.executor.serving_runner` sends every
object under ``TransformInput``'s S3 location through it, and each result is written to
``<S3OutputPath>/<object path relative to the input>.out``, as batch transform names them. With
``TransformResources.InstanceCount`` N the objects are dealt out to N runner processes (``algo-1`` …) that
score side by side, as batch transform distributes whole objects across its instances (one object is never
split between instances).
Models without ``SAGEMAKER_PROGRAM`` (built-in algorithm containers) are not supported locally.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local_aws.executor import archives, cluster, process, s3io
from local_aws.executor.handlers.base import (
    ResolvedStep,
    StepContext,
    StepFailedError,
    StepOutcome,
    base_environment,
    iso,
    now,
)
from local_aws.executor.paths import ContainerPaths

log = logging.getLogger(__name__)

RUNNER = Path(__file__).resolve().parent.parent / "serving_runner.py"
DEFAULT_MAX_PAYLOAD_MB = 6


def _container(ctx: StepContext, model_name: str) -> Mapping[str, Any]:
    try:
        model = ctx.clients.sagemaker.describe_model(ModelName=model_name)
    except Exception as exc:
        raise StepFailedError(f"ClientError: cannot describe model {model_name}: {exc}") from exc
    containers = model.get("Containers") or []
    container = model.get("PrimaryContainer") or (containers[0] if len(containers) == 1 else None)
    if not container:
        raise StepFailedError(
            f"ClientError: model {model_name} has no single container (not supported locally)"
        )
    return dict(container)


def _fetch_model(
    ctx: StepContext, container: Mapping[str, Any], paths: ContainerPaths, scratch: Path
) -> Path:
    model_dir = paths.local("/opt/ml/model")
    model_dir.mkdir(parents=True, exist_ok=True)
    url = container.get("ModelDataUrl")
    if url:
        try:
            archive = s3io.download_file(ctx.clients.s3, str(url), scratch / "model.tar.gz")
        except s3io.S3InputError as exc:
            raise StepFailedError(f"ClientError: {exc}") from None
        archives.extract(archive, model_dir)
    return model_dir


def _fetch_code(
    ctx: StepContext, environment: Mapping[str, str], paths: ContainerPaths, scratch: Path
) -> Path:
    submit = environment.get("SAGEMAKER_SUBMIT_DIRECTORY", "/opt/ml/model/code")
    if paths.is_container_path(submit):
        return paths.local(submit)
    code = paths.local("/opt/ml/code")
    code.mkdir(parents=True, exist_ok=True)
    try:
        archive = s3io.download_file(ctx.clients.s3, submit, scratch / "sourcedir.tar.gz")
    except s3io.S3InputError as exc:
        raise StepFailedError(f"ClientError: SAGEMAKER_SUBMIT_DIRECTORY: {exc}") from None
    archives.extract(archive, code)
    return code


def _inputs(
    ctx: StepContext, transform_input: Mapping[str, Any], root: Path
) -> list[tuple[s3io.S3Object, Path]]:
    source = (transform_input.get("DataSource") or {}).get("S3DataSource") or {}
    if not source:
        raise StepFailedError("ClientError: TransformInput has no S3DataSource")
    try:
        objects = s3io.list_input(
            ctx.clients.s3, str(source["S3Uri"]), str(source.get("S3DataType", "S3Prefix"))
        )
    except s3io.S3InputError as exc:
        raise StepFailedError(f"ClientError: {exc}") from None
    gzipped = transform_input.get("CompressionType") == "Gzip"
    files = []
    for obj in objects:
        target = root / "input" / obj.relative
        target.parent.mkdir(parents=True, exist_ok=True)
        ctx.clients.s3.download_file(obj.bucket, obj.key, str(target))
        if gzipped:
            plain = target.with_suffix(target.suffix + ".plain")
            with gzip.open(target, "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            plain.replace(target)
        files.append((obj, target))
    return files


def describe(name: str, job_arn: str, arguments: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The DescribeTransformJob document the step's properties are read from."""
    properties = {k: v for k, v in arguments.items() if k != "Tags"}
    properties.update(TransformJobName=name, TransformJobArn=job_arn, **extra)
    return properties


def _run_hosts(
    ctx: StepContext,
    name: str,
    *,
    root: Path,
    spec: Mapping[str, Any],
    items: list[dict[str, str]],
    env: Mapping[str, str],
    hosts: list[str],
) -> list[tuple[str, process.ProcessResult]]:
    """Score ``items`` on ``hosts``: batch transform gives each instance whole S3 objects (here dealt out
    in key order, one process per instance, side by side); returns the hosts that failed."""
    shares = [(host, items[index :: len(hosts)]) for index, host in enumerate(hosts)]
    shares = [(host, share) for host, share in shares if share] or [(hosts[0], [])]

    def run_host(index: int) -> process.ProcessResult:
        host, share = shares[index]
        spec_path = root / (f"transform-spec-{host}.json" if len(shares) > 1 else "transform-spec.json")
        spec_path.write_text(json.dumps({**spec, "items": share}, indent=2))
        log.debug("%s: %s scores %d object(s)", name, host, len(share))
        return process.run(
            [sys.executable, str(RUNNER), "--spec", str(spec_path)],
            env=dict(env),
            cwd=Path(str(spec["code_dir"])),
            log_dir=ctx.log_dir,
            name=name if len(shares) == 1 else f"{name}-{host}",
            cancel=ctx.cancel,
        )

    results = cluster.run_all(run_host, len(shares))
    return [(shares[i][0], result) for i, result in enumerate(results) if not result.ok]


def run(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
    args = step.arguments
    name = ctx.job_name()
    job_arn = ctx.arn("transform-job", name)
    ctx.record_job("CreateTransformJob", {"TransformJobName": name, **args})
    ctx.started({"TransformJob": {"Arn": job_arn}})
    started = now()
    root = ctx.job_root(name)
    paths = ContainerPaths(root)
    transform_input = args.get("TransformInput") or {}
    transform_output = args.get("TransformOutput") or {}
    processing = args.get("DataProcessing") or {}
    output_uri = str(transform_output.get("S3OutputPath", "")).rstrip("/")
    try:
        container = _container(ctx, str(args.get("ModelName")))
        environment = {str(k): str(v) for k, v in (container.get("Environment") or {}).items()}
        program = environment.get("SAGEMAKER_PROGRAM")
        if not program:
            raise StepFailedError(
                f"ClientError: model {args.get('ModelName')} (image {container.get('Image')}) has no "
                "SAGEMAKER_PROGRAM: built-in algorithm containers are not supported locally"
            )
        model_dir = _fetch_model(ctx, container, paths, root)
        code_dir = _fetch_code(ctx, environment, paths, root)
        files = _inputs(ctx, transform_input, root)
        ctx.check_cancelled()
        items = [
            {"input": str(local), "output": str(root / "output" / f"{obj.relative}.out")}
            for obj, local in files
        ]
        spec = {
            "program": program,
            "code_dir": str(code_dir),
            "model_dir": str(model_dir),
            "content_type": transform_input.get("ContentType") or "application/octet-stream",
            "accept": transform_output.get("Accept") or "*/*",
            "split_type": transform_input.get("SplitType") or "None",
            "batch_strategy": args.get("BatchStrategy") or "MultiRecord",
            "max_payload_bytes": int(
                float(args.get("MaxPayloadInMB") or DEFAULT_MAX_PAYLOAD_MB) * 1024 * 1024
            ),
            "assemble_with": transform_output.get("AssembleWith") or "None",
            "input_filter": processing.get("InputFilter"),
            "join_source": processing.get("JoinSource"),
            "output_filter": processing.get("OutputFilter"),
        }
        env = base_environment()
        env.update(paths.map_environment(environment))
        env.update(
            paths.map_environment({str(k): str(v) for k, v in (args.get("Environment") or {}).items()})
        )
        env.update({"PYTHONPATH": str(code_dir), "SM_MODEL_DIR": str(model_dir)})
        hosts = cluster.host_names((args.get("TransformResources") or {}).get("InstanceCount", 1))
        failed = _run_hosts(ctx, name, root=root, spec=spec, items=items, env=env, hosts=hosts)
        if failed:
            host, result = failed[0]
            what = f"transform job {name}" + (f" (host {host})" if len(hosts) > 1 else "")
            reason = process.failure_reason(result, what)
            raise StepFailedError(
                reason, describe(name, job_arn, args, TransformJobStatus="Failed", FailureReason=reason)
            )
        for obj, _ in files:
            s3io.upload_file(
                ctx.clients.s3, root / "output" / f"{obj.relative}.out", f"{output_uri}/{obj.relative}.out"
            )
    finally:
        ctx.cleanup(root)
    ended = now()
    properties = describe(
        name,
        job_arn,
        args,
        TransformJobStatus="Completed",
        CreationTime=iso(started),
        TransformStartTime=iso(started),
        TransformEndTime=iso(ended),
    )
    return StepOutcome(
        properties=properties,
        metadata={"TransformJob": {"Arn": job_arn}},
        outputs={"predictions": output_uri},
    )
