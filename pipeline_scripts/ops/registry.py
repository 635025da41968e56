"""Model registry operations: list versions, resolve the latest Approved one, approve and reject.

Plain functions over an injected boto3 SageMaker client (AWS, or whatever ``AWS_ENDPOINT_URL`` points at).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline_scripts.build.approved import ApprovedModel
from pipeline_scripts.config.arns import check_model_package_arn
from pipeline_scripts.errors import NoApprovedModelError, RegistryError, UnknownGroupError

log = logging.getLogger(__name__)

APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"


@dataclass(frozen=True)
class ModelVersion:
    """One model package version, as ``mlops models list`` shows it."""

    arn: str
    version: int
    status: str
    created: datetime | None
    metadata: dict[str, str] = field(default_factory=dict)
    description: str = ""


def list_versions(sm: Any, group: str, status: str | None = None) -> list[ModelVersion]:
    """Versions of ``group``, newest first; an unknown group is a clear error."""
    _require_group(sm, group)
    kwargs: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
    }
    if status:
        kwargs["ModelApprovalStatus"] = status
    versions: list[ModelVersion] = []
    for page in sm.get_paginator("list_model_packages").paginate(**kwargs):
        for summary in page["ModelPackageSummaryList"]:
            versions.append(
                ModelVersion(
                    arn=summary["ModelPackageArn"],
                    version=int(
                        summary.get("ModelPackageVersion") or _version_of(summary["ModelPackageArn"])
                    ),
                    status=summary.get("ModelApprovalStatus", ""),
                    created=summary.get("CreationTime"),
                    description=summary.get("ModelPackageDescription", "") or "",
                )
            )
    versions.sort(key=lambda v: v.version, reverse=True)
    return versions


def describe_version(sm: Any, group: str, version: int | str | None = None) -> dict[str, Any]:
    """``describe_model_package`` of a version given by number or ARN (default: the newest)."""
    if version is None:
        versions = list_versions(sm, group)
        if not versions:
            raise RegistryError(
                f"model package group {group!r} has no versions yet",
                hint="run the training pipeline first "
                "(mlops data upload training, or mlops pipelines start training)",
            )
        arn = versions[0].arn
    else:
        arn = _arn_for(sm, group, version)
    try:
        return dict(sm.describe_model_package(ModelPackageName=arn))
    except sm.exceptions.ClientError as exc:  # pragma: no cover - depends on the backend's error shape
        raise RegistryError(
            f"cannot describe {arn}: {exc}", hint="check the version with mlops models list"
        ) from exc


def latest_approved(sm: Any, group: str) -> ApprovedModel:
    """The newest Approved version of ``group`` with what inference needs from it."""
    try:
        approved = list_versions(sm, group, status=APPROVED)
    except UnknownGroupError as exc:  # nothing trained yet: the same situation as nothing approved
        raise NoApprovedModelError(
            f"model package group {group!r} does not exist yet, so no version is Approved",
            hint="the first training run creates it: upload training data or mlops pipelines start "
            "training, then approve the version: mlops models approve",
        ) from exc
    if not approved:
        raise NoApprovedModelError(
            f"model package group {group!r} has no Approved version",
            hint="train one (mlops pipelines start training), then approve it: mlops models approve",
        )
    return approved_model(sm, approved[0].arn)


def approved_model(sm: Any, package_arn: str) -> ApprovedModel:
    """Read an Approved version's model data and data-quality baseline from the registry."""
    desc = sm.describe_model_package(ModelPackageName=package_arn)
    if desc.get("ModelApprovalStatus") != APPROVED:
        raise RegistryError(
            f"{package_arn} is {desc.get('ModelApprovalStatus')}, not Approved",
            hint="approve it first: mlops models approve VERSION",
        )
    containers = desc.get("InferenceSpecification", {}).get("Containers", [])
    if not containers or not containers[0].get("ModelDataUrl"):
        raise RegistryError(
            f"{package_arn} has no model data", hint="register it again from a training pipeline"
        )
    baseline = (desc.get("DriftCheckBaselines") or {}).get("ModelDataQuality") or {}
    metrics = (desc.get("ModelMetrics") or {}).get("ModelDataQuality") or {}
    statistics = (baseline.get("Statistics") or metrics.get("Statistics") or {}).get("S3Uri")
    constraints = (baseline.get("Constraints") or metrics.get("Constraints") or {}).get("S3Uri")
    if not statistics or not constraints:
        raise RegistryError(
            f"{package_arn} has no data-quality baseline (DriftCheckBaselines.ModelDataQuality)",
            hint="register versions through the training or HPO pipeline, which record the baseline",
        )
    return ApprovedModel(
        package_arn=package_arn,
        version=int(desc.get("ModelPackageVersion") or _version_of(package_arn)),
        model_data_url=containers[0]["ModelDataUrl"],
        image=containers[0].get("Image", ""),
        environment=dict(containers[0].get("Environment") or {}),
        statistics_uri=statistics,
        constraints_uri=constraints,
    )


def set_status(
    sm: Any, group: str, version: int | str | None, status: str, reason: str = "", *, force: bool = False
) -> ModelVersion:
    """Approve or reject a version (default: the newest one waiting for approval).

    Approving a Rejected version needs ``force``; the rejection's reason is kept in the new
    ``ApprovalDescription`` (the registry keeps one description per version)."""
    if status not in (APPROVED, REJECTED):
        raise RegistryError(f"cannot set status {status!r}", hint="use Approved or Rejected")
    if version is None:
        pending = list_versions(sm, group, status=PENDING)
        if not pending:
            raise RegistryError(
                f"model package group {group!r} has no version waiting for approval",
                hint="name the version explicitly (mlops models list shows them)",
            )
        arn = pending[0].arn
    else:
        arn = _arn_for(sm, group, version)
    desc = sm.describe_model_package(ModelPackageName=arn)
    current = desc.get("ModelApprovalStatus")
    if current == status:
        log.info("%s is already %s", arn, status)
    previous = str(desc.get("ApprovalDescription") or "")
    description = _description(arn, current, status, reason, previous, force=force)
    kwargs: dict[str, Any] = {"ModelPackageArn": arn, "ModelApprovalStatus": status}
    if description:
        kwargs["ApprovalDescription"] = description
    metadata = desc.get("CustomerMetadataProperties") or {}
    if metadata:
        # Harmless on AWS (same values); keeps emulators that reset omitted fields from losing them.
        kwargs["CustomerMetadataProperties"] = metadata
    sm.update_model_package(**kwargs)
    return ModelVersion(
        arn=arn,
        version=int(desc.get("ModelPackageVersion") or _version_of(arn)),
        status=status,
        created=desc.get("CreationTime"),
        metadata=dict(metadata),
        description=description,
    )


MAX_DESCRIPTION = 1024  # ApprovalDescription: max 1024 characters (botocore's shape)


def _description(arn: str, current: Any, status: str, reason: str, previous: str, *, force: bool) -> str:
    """The ApprovalDescription to write. Overturning a rejection needs ``force`` and keeps its reason."""
    if current != REJECTED or status != APPROVED:
        return reason[:MAX_DESCRIPTION]
    if not force:
        why = f" (reason: {previous})" if previous else ""
        raise RegistryError(
            f"{arn} was Rejected{why}; approving it would deploy a rejected model",
            hint="if that is intended, run again with --force and a --reason; the rejection reason is kept",
        )
    kept = f"previously Rejected: {previous or '(no reason given)'}"
    text = f"{reason or 'approved with --force'} | {kept}"
    log.warning("%s: overturning a rejection; the description keeps it: %s", arn, kept)
    return text[:MAX_DESCRIPTION]


def _require_group(sm: Any, group: str) -> None:
    try:
        sm.describe_model_package_group(ModelPackageGroupName=group)
    except Exception as exc:
        if (
            "does not exist" in str(exc)
            or "ValidationException" in str(exc)
            or "ResourceNotFound" in str(exc)
        ):
            raise UnknownGroupError(
                f"model package group {group!r} does not exist",
                hint="it is created by the first training pipeline run (or check model_package_group_name)",
            ) from exc
        raise


def _arn_for(sm: Any, group: str, version: int | str) -> str:
    text = str(version)
    if text.startswith("arn:"):
        check_model_package_arn(text, "the version")
        if f"model-package/{group}/" not in text:
            raise RegistryError(f"{text} is not in model package group {group!r}", hint="check the ARN")
        return text
    if not text.isdigit():
        raise RegistryError(f"{text!r} is not a version number or model package ARN", hint="e.g. 3")
    for candidate in list_versions(sm, group):
        if candidate.version == int(text):
            return candidate.arn
    raise RegistryError(
        f"model package group {group!r} has no version {text}", hint="mlops models list shows the versions"
    )


def _version_of(arn: str) -> int:
    tail = arn.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0
