"""Processing steps: the container's entrypoint as a local subprocess over a private /opt/ml tree.

Inputs are downloaded to their ``LocalPath`` (mapped into the tree), the entrypoint runs with
``sys.executable`` in place of ``python3``, with the step's environment (paths mapped), and outputs are
uploaded from their ``LocalPath``: ``EndOfJob`` outputs only when the job succeeded, ``Continuous``
outputs whatever exists when it ends, even on failure (uploaded at the end rather than while running:
the same for anything that reads them after the step).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local_aws.executor import cluster, process, s3io
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
from local_aws.executor.paths import ContainerPaths

log = logging.getLogger(__name__)

_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
BOOTSTRAP = Path(__file__).resolve().parent.parent / "container_bootstrap.py"


def download_inputs(
    ctx: StepContext, inputs: list[Mapping[str, Any]], paths: ContainerPaths, host: tuple[int, int] = (0, 1)
) -> None:
    """Inputs into the job tree; ``host`` = (index, count): ``ShardedByS3Key`` inputs get its share."""
    for item in inputs:
        s3_input = item.get("S3Input")
        name = item.get("InputName", "?")
        if not s3_input:
            raise StepFailedError(
                f"ClientError: processing input {name} is not an S3Input "
                "(DatasetDefinition inputs are not supported locally)"
            )
        local = paths.local(str(s3_input["LocalPath"]))
        local.mkdir(parents=True, exist_ok=True)
        sharded = s3_input.get("S3DataDistributionType") == "ShardedByS3Key"
        try:
            s3io.download_input(
                ctx.clients.s3,
                str(s3_input["S3Uri"]),
                local,
                str(s3_input.get("S3DataType", "S3Prefix")),
                shard=host if sharded else (0, 1),
            )
        except s3io.S3InputError as exc:
            raise StepFailedError(f"ClientError: {exc}") from None
        ctx.check_cancelled()


def output_specs(arguments: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    outputs = (arguments.get("ProcessingOutputConfig") or {}).get("Outputs", []) or []
    unsupported = [o.get("OutputName") for o in outputs if not o.get("S3Output")]
    if unsupported:
        raise StepFailedError(
            f"ClientError: outputs {', '.join(map(str, unsupported))} are not S3Output "
            "(FeatureStoreOutput is not supported locally)"
        )
    return list(outputs)


def prepare_outputs(outputs: list[Mapping[str, Any]], paths: ContainerPaths) -> None:
    """SageMaker creates every output directory before the container starts."""
    for output in outputs:
        paths.local(str(output["S3Output"]["LocalPath"])).mkdir(parents=True, exist_ok=True)


def upload_outputs(
    ctx: StepContext, outputs: list[Mapping[str, Any]], paths: ContainerPaths, *, succeeded: bool
) -> dict[str, str]:
    """Upload outputs (only Continuous ones when the job failed); returns output name → S3 URI."""
    uploaded: dict[str, str] = {}
    for output in outputs:
        spec = output["S3Output"]
        if not succeeded and spec.get("S3UploadMode", "EndOfJob") != "Continuous":
            continue
        local = paths.local(str(spec["LocalPath"]))
        files = s3io.upload_directory(ctx.clients.s3, local, str(spec["S3Uri"]))
        log.debug("%s: uploaded %d file(s) of output %s", ctx.step_name, len(files), output["OutputName"])
        uploaded[str(output["OutputName"])] = str(spec["S3Uri"])
    return uploaded


def map_argument(arg: str, paths: ContainerPaths) -> str:
    """A container path, or ``--flag=<container path>``, mapped into the job tree."""
    if paths.is_container_path(arg):
        return paths.map(arg)
    key, sep, value = arg.partition("=")
    if sep and paths.is_container_path(value):
        return f"{key}={paths.map(value)}"
    return arg


def command_for(app: Mapping[str, Any], paths: ContainerPaths, step: str) -> list[str]:
    entrypoint = [str(part) for part in app.get("ContainerEntrypoint") or []]
    if not entrypoint:
        raise StepFailedError(
            f"ClientError: step {step} runs the image's own entrypoint ({app.get('ImageUri')}); "
            "local mode runs script entrypoints only (ContainerEntrypoint ['python3', '<script>'])"
        )
    arguments = [str(a) for a in app.get("ContainerArguments") or []]
    mapped = [map_argument(part, paths) for part in [*entrypoint, *arguments]]
    if _PYTHON.match(Path(entrypoint[0]).name):
        if len(mapped) > 1 and not mapped[1].startswith("-"):
            # python <script> ...: run it through the bootstrap that maps its argparse defaults too.
            return [sys.executable, str(BOOTSTRAP), str(paths.root), *mapped[1:]]
        mapped[0] = sys.executable
    return mapped


def describe(
    name: str,
    job_arn: str,
    arguments: Mapping[str, Any],
    *,
    status: str,
    started: Any,
    ended: Any,
    reason: str,
) -> dict[str, Any]:
    """The DescribeProcessingJob document the step's properties are read from."""
    properties = {
        **{k: v for k, v in arguments.items() if k != "Tags"},
        "ProcessingJobName": name,
        "ProcessingJobArn": job_arn,
        "ProcessingJobStatus": status,
        "CreationTime": iso(started),
        "ProcessingStartTime": iso(started),
        "ProcessingEndTime": iso(ended),
        "LastModifiedTime": iso(ended),
    }
    if reason:
        properties["FailureReason"] = reason
        properties["ExitMessage"] = reason
    return properties


def run(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
    """The job on ``ClusterConfig.InstanceCount`` hosts: one local process each (``algo-1`` …), each
    with its own /opt/ml tree, its share of ``ShardedByS3Key`` inputs and ``resourceconfig.json``; every
    host's outputs are uploaded under the same S3 prefixes (a later host's file wins a name clash)."""
    args = step.arguments
    name = ctx.job_name()
    job_arn = ctx.arn("processing-job", name)
    ctx.record_job("CreateProcessingJob", {"ProcessingJobName": name, **args})
    ctx.started({"ProcessingJob": {"Arn": job_arn}})
    started = now()
    root = ctx.job_root(name)
    hosts = cluster.hosts(args)
    outputs = output_specs(args)
    app = args.get("AppSpecification") or {}
    try:
        trees = [cluster.host_root(root, hosts, index) for index in range(len(hosts))]
        commands = [command_for(app, ContainerPaths(tree), step.name) for tree in trees]
        for index, tree in enumerate(trees):
            paths = ContainerPaths(tree)
            download_inputs(ctx, list(args.get("ProcessingInputs") or []), paths, (index, len(hosts)))
            prepare_outputs(outputs, paths)
            cluster.write_resource_config(paths.local(cluster.RESOURCE_CONFIG), hosts, index)
        limit = runtime_limit(args)

        def run_host(index: int) -> process.ProcessResult:
            env = base_environment()
            env.update(ContainerPaths(trees[index]).map_environment(args.get("Environment") or {}))
            log_name = name if len(hosts) == 1 else f"{name}-{hosts[index]}"
            return process.run(
                commands[index],
                env=env,
                cwd=trees[index],
                log_dir=ctx.log_dir,
                name=log_name,
                cancel=ctx.cancel,
                timeout=limit,
            )

        results = cluster.run_all(run_host, len(hosts))
        ok = all(result.ok for result in results)
        uploaded: dict[str, str] = {}
        for tree in trees:
            uploaded.update(upload_outputs(ctx, outputs, ContainerPaths(tree), succeeded=ok))
        cluster.warn_clashes(trees, [str(o["S3Output"]["LocalPath"]) for o in outputs], name)
        failed = [(hosts[i], r) for i, r in enumerate(results) if not r.ok]
        if failed:
            host, result = failed[0]
            what = f"processing job {name}" + (f" (host {host})" if len(hosts) > 1 else "")
            reason = process.failure_reason(result, what, limit)
            raise StepFailedError(
                reason,
                describe(name, job_arn, args, status="Failed", started=started, ended=now(), reason=reason),
                outputs=uploaded,
            )
    finally:
        ctx.cleanup(root)
    return StepOutcome(
        properties=describe(name, job_arn, args, status="Completed", started=started, ended=now(), reason=""),
        metadata={"ProcessingJob": {"Arn": job_arn}},
        outputs=uploaded,
    )
