"""QualityCheck steps (DATA_QUALITY): the repo's ``scripts/data_quality.py`` in place of Model Monitor.

Model Monitor's analyzer (Deequ on Spark) cannot run locally; ``data_quality.py`` writes the same files
in the same layout. The step's processing inputs are downloaded as for any processing job; then

- always: ``data_quality.py baseline`` over the dataset → the calculated ``statistics.json`` and
  ``constraints.json``;
- unless ``SkipCheck``: ``data_quality.py check`` against the supplied baseline (or, when none is
  supplied, the latest Approved version's DriftCheckBaselines in ``ModelPackageGroupName``) →
  ``constraint_violations.json``; violations fail the step only with ``FailOnViolation``.

Outputs are uploaded (the check job itself succeeds) before a violation fails the step, as on AWS.
Properties and metadata: ``CalculatedBaseline*``, ``BaselineUsedForDriftCheck*`` (the calculated baseline
when ``RegisterNewBaseline``, else the one checked against), ``ViolationReport``, ``CheckJobArn``.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local_aws.executor import process, s3io
from local_aws.executor.handlers.base import (
    ResolvedStep,
    StepContext,
    StepFailedError,
    StepOutcome,
    base_environment,
    runtime_limit,
)
from local_aws.executor.handlers.processing import (
    download_inputs,
    output_specs,
    prepare_outputs,
    upload_outputs,
)
from local_aws.executor.paths import ContainerPaths

log = logging.getLogger(__name__)

SCRIPT = "data_quality.py"


def _registered_baseline(ctx: StepContext, group: str | None) -> tuple[str, str]:
    if not group:
        raise StepFailedError(
            "ClientError: no baseline supplied and no ModelPackageGroupName to take one from"
        )
    client = ctx.clients.sagemaker
    summaries = client.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        SortBy="CreationTime",
        SortOrder="Descending",
    ).get("ModelPackageSummaryList", [])
    for summary in summaries:
        described = client.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        baseline = (described.get("DriftCheckBaselines") or {}).get("ModelDataQuality") or {}
        statistics = (baseline.get("Statistics") or {}).get("S3Uri")
        constraints = (baseline.get("Constraints") or {}).get("S3Uri")
        if statistics and constraints:
            return str(statistics), str(constraints)
    raise StepFailedError(
        f"ClientError: no baseline supplied and no Approved version of {group} has a data-quality baseline"
    )


def _run_script(ctx: StepContext, name: str, arguments: list[str], root: Path, limit: float | None) -> None:
    env = base_environment()
    env["PYTHONPATH"] = str(ctx.scripts_dir)
    result = process.run(
        [sys.executable, str(ctx.scripts_dir / SCRIPT), *arguments],
        env=env,
        cwd=root,
        log_dir=ctx.log_dir,
        name=name,
        cancel=ctx.cancel,
        timeout=limit,
    )
    if not result.ok:
        raise StepFailedError(process.failure_reason(result, f"quality check job {name}", limit))


def _violations(path: Path) -> int:
    if not path.is_file():
        return 0
    return len(json.loads(path.read_text()).get("violations", []))


def _drift_check(
    ctx: StepContext,
    *,
    extra: Mapping[str, Any],
    metadata: dict[str, Any],
    root: Path,
    job: list[str],
    limit: float | None,
) -> int:
    """Check the dataset against the supplied (else the registered) baseline; returns the violations.
    ``job`` is the job name, the mapped dataset, the output folder and the header flag."""
    statistics = extra.get("SuppliedBaselineStatistics")
    constraints = extra.get("SuppliedBaselineConstraints")
    if not statistics or not constraints:
        group = metadata.get("ModelPackageGroupName")
        statistics, constraints = _registered_baseline(ctx, str(group) if group else None)
    metadata["BaselineUsedForDriftCheckStatistics"] = statistics
    metadata["BaselineUsedForDriftCheckConstraints"] = constraints
    baseline = root / "baseline"
    try:
        s3io.download_file(ctx.clients.s3, str(statistics), baseline / "statistics.json")
        s3io.download_file(ctx.clients.s3, str(constraints), baseline / "constraints.json")
    except s3io.S3InputError as exc:
        raise StepFailedError(f"ClientError: baseline: {exc}") from None
    name, dataset, out, flag = job
    check = ["check", "--input", dataset, "--output", out, flag]
    check += ["--baseline-statistics", str(baseline / "statistics.json")]
    check += ["--baseline-constraints", str(baseline / "constraints.json")]
    _run_script(ctx, f"{name}-check", check, root, limit)
    return _violations(Path(out) / "constraint_violations.json")


def run(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
    args, extra = step.arguments, step.extra
    check_type = str(extra.get("CheckType", "DATA_QUALITY"))
    if check_type != "DATA_QUALITY":
        raise StepFailedError(
            f"ClientError: QualityCheck {check_type} is not supported locally (DATA_QUALITY only)"
        )
    name = ctx.job_name()
    job_arn = ctx.arn("processing-job", name)
    skip_check = bool(extra.get("SkipCheck", False))
    register_new = bool(extra.get("RegisterNewBaseline", False))
    group = extra.get("ModelPackageGroupName")
    metadata: dict[str, Any] = {
        "CheckType": check_type,
        "ModelPackageGroupName": group,
        "CheckJobArn": job_arn,
        "SkipCheck": skip_check,
        "RegisterNewBaseline": register_new,
    }
    ctx.record_job("CreateProcessingJob", {"ProcessingJobName": name, **args})
    ctx.started({"QualityCheck": {k: v for k, v in metadata.items() if v is not None}})
    root = ctx.job_root(name)
    paths = ContainerPaths(root)
    environment: Mapping[str, str] = args.get("Environment") or {}
    outputs = output_specs(args)
    if len(outputs) != 1:
        raise StepFailedError("ClientError: a QualityCheck job has exactly one output")
    output_uri = str(outputs[0]["S3Output"]["S3Uri"]).rstrip("/")
    limit = runtime_limit(args)
    try:
        download_inputs(ctx, list(args.get("ProcessingInputs") or []), paths)
        prepare_outputs(outputs, paths)
        dataset = paths.map(
            str(environment.get("dataset_source", "/opt/ml/processing/input/baseline_dataset_input"))
        )
        out = paths.local(str(environment.get("output_path", outputs[0]["S3Output"]["LocalPath"])))
        header = bool(
            json.loads(environment.get("dataset_format") or "{}").get("csv", {}).get("header", False)
        )
        flag = "--header" if header else "--no-header"
        calculated = out if skip_check else root / "calculated"
        _run_script(
            ctx,
            f"{name}-baseline",
            ["baseline", "--input", dataset, "--output", str(calculated), flag],
            root,
            limit,
        )
        violations = 0
        if not skip_check:
            violations = _drift_check(
                ctx,
                extra=extra,
                metadata=metadata,
                root=root,
                job=[name, dataset, str(out), flag],
                limit=limit,
            )
            shutil.copyfile(calculated / "constraints.json", out / "constraints.json")
            metadata["ViolationReport"] = f"{output_uri}/constraint_violations.json"
        uploaded = upload_outputs(ctx, outputs, paths, succeeded=True)
    finally:
        ctx.cleanup(root)
    metadata["CalculatedBaselineStatistics"] = f"{output_uri}/statistics.json"
    metadata["CalculatedBaselineConstraints"] = f"{output_uri}/constraints.json"
    if register_new:
        metadata["BaselineUsedForDriftCheckStatistics"] = metadata["CalculatedBaselineStatistics"]
        metadata["BaselineUsedForDriftCheckConstraints"] = metadata["CalculatedBaselineConstraints"]
    elif skip_check:  # not checked: the supplied baseline (if any) stays the one to drift-check against
        metadata["BaselineUsedForDriftCheckStatistics"] = extra.get("SuppliedBaselineStatistics")
        metadata["BaselineUsedForDriftCheckConstraints"] = extra.get("SuppliedBaselineConstraints")
    properties = {
        "CalculatedBaselineStatistics": metadata["CalculatedBaselineStatistics"],
        "CalculatedBaselineConstraints": metadata["CalculatedBaselineConstraints"],
        "BaselineUsedForDriftCheckStatistics": metadata.get("BaselineUsedForDriftCheckStatistics"),
        "BaselineUsedForDriftCheckConstraints": metadata.get("BaselineUsedForDriftCheckConstraints"),
    }
    clean = {k: v for k, v in metadata.items() if v is not None}
    if violations and bool(extra.get("FailOnViolation", True)):
        raise StepFailedError(
            f"ClientError: Quality check failed: {violations} constraint violation(s) "
            f"against the baseline; see {clean['ViolationReport']}",
            properties,
            {"QualityCheck": clean},
        )
    return StepOutcome(properties=properties, metadata={"QualityCheck": clean}, outputs=uploaded)
