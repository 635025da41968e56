"""Operations on the SageMaker pipelines: upload the step code, upsert, start, status, delete.

boto3 clients honour ``AWS_ENDPOINT_URL`` (the local endpoint) like the AWS CLI does. Functions take
clients as arguments so tests pass moto-backed ones.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from pipeline_scripts.build.approved import ApprovedModel
from pipeline_scripts.build.code_bundle import code_bundle
from pipeline_scripts.build.definitions import KINDS, BuiltPipeline, build_pipeline
from pipeline_scripts.build.validate import validate_definition
from pipeline_scripts.config import Config
from pipeline_scripts.errors import NoApprovedModelError, PipelineOpsError
from pipeline_scripts.ops import registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpsertResult:
    kind: str
    name: str
    arn: str
    action: str  # created | updated | recreated


def upsert(sm: Any, config: Config, built: BuiltPipeline, *, recreate: bool = False) -> UpsertResult:
    """Create or update one pipeline. Updating keeps its execution history; ``recreate`` deletes it first."""
    env = config.env
    description = f"{built.kind} pipeline of {env.environment} (managed by mlops pipelines upsert)"
    tags = [
        {"Key": "project", "Value": "batch-inference-mlops"},
        {"Key": "environment", "Value": env.environment},
        {"Key": "owner", "Value": env.user_id},
    ]
    exists = _pipeline_exists(sm, built.name)
    action = "updated" if exists else "created"
    if exists and recreate:
        sm.delete_pipeline(PipelineName=built.name)
        exists = False
        action = "recreated"
    try:
        if exists:
            response = sm.update_pipeline(
                PipelineName=built.name,
                PipelineDefinition=built.definition_json,
                PipelineDescription=description,
                RoleArn=env.role_arn,
            )
        else:
            response = sm.create_pipeline(
                PipelineName=built.name,
                PipelineDefinition=built.definition_json,
                PipelineDescription=description,
                RoleArn=env.role_arn,
                Tags=tags,
            )
    except Exception as exc:
        raise PipelineOpsError(
            f"could not {action.rstrip('d')} pipeline {built.name}: {exc}",
            hint="check the role_arn and your credentials (aws sts get-caller-identity)",
        ) from exc
    return UpsertResult(kind=built.kind, name=built.name, arn=response["PipelineArn"], action=action)


@dataclass(frozen=True)
class DeployOutcome:
    """What ``deploy`` did: the upserted pipelines, the problems that stopped it, or the missing model."""

    code_uri: str
    results: list[tuple[UpsertResult, ApprovedModel | None]]
    problems: list[str]
    missing_model: NoApprovedModelError | None = None


def deploy(
    sm: Any,
    s3: Any,
    config: Config,
    kinds: tuple[str, ...] = KINDS,
    *,
    model_package_arn: str | None = None,
    recreate: bool = False,
) -> DeployOutcome:
    """Upload the step scripts, then build, validate and upsert each pipeline of ``kinds``.

    Inference records ``model_package_arn`` or else the latest Approved version; without one, the other
    kinds are still upserted and the outcome carries the ``NoApprovedModelError``. The first pipeline whose
    definition has problems stops the deploy before it is upserted."""
    code = code_bundle(config)
    for uri in code.upload(s3):
        log.debug("uploaded %s", uri)
    outcome = DeployOutcome(code_uri=code.prefix_uri, results=[], problems=[])
    for kind in kinds:
        approved = None
        if kind == "inference":
            try:
                approved = (
                    registry.approved_model(sm, model_package_arn)
                    if model_package_arn
                    else registry.latest_approved(sm, config.env.model_package_group_name)
                )
            except NoApprovedModelError as exc:
                outcome = dataclasses.replace(outcome, missing_model=exc)
                continue
        built = build_pipeline(kind, config, approved, code)
        problems = validate_definition(built.definition, len(built.definition_json))
        if problems:
            return dataclasses.replace(outcome, problems=[f"{kind}: {p}" for p in problems])
        outcome.results.append((upsert(sm, config, built, recreate=recreate), approved))
    return outcome


def delete_pipelines(sm: Any, config: Config) -> list[str]:
    """Delete the three pipelines if they exist (terraform destroy does not know them)."""
    deleted = []
    for name in config.env.pipeline_names.values():
        if _pipeline_exists(sm, name):
            sm.delete_pipeline(PipelineName=name)
            deleted.append(name)
    return deleted


def start(sm: Any, config: Config, kind: str, parameters: dict[str, str]) -> str:
    name = _name_of(config, kind)
    if not _pipeline_exists(sm, name):
        raise PipelineOpsError(f"pipeline {name} does not exist", hint="run mlops pipelines upsert first")
    kwargs: dict[str, Any] = {
        "PipelineName": name,
        "PipelineExecutionDisplayName": f"{kind}-{datetime.now():%Y%m%d-%H%M%S}",
    }
    if parameters:
        kwargs["PipelineParameters"] = [{"Name": k, "Value": v} for k, v in parameters.items()]
    return str(sm.start_pipeline_execution(**kwargs)["PipelineExecutionArn"])


@dataclass(frozen=True)
class ExecutionStatus:
    pipeline: str
    arn: str
    status: str
    started: datetime | None
    failure_reason: str = ""


def status(sm: Any, config: Config, limit: int = 3) -> list[ExecutionStatus]:
    """The latest executions of each of the three pipelines."""
    rows: list[ExecutionStatus] = []
    for name in config.env.pipeline_names.values():
        if not _pipeline_exists(sm, name):
            rows.append(ExecutionStatus(pipeline=name, arn="", status="NotCreated", started=None))
            continue
        summaries = sm.list_pipeline_executions(
            PipelineName=name, SortBy="CreationTime", SortOrder="Descending", MaxResults=limit
        )["PipelineExecutionSummaries"]
        if not summaries:
            rows.append(ExecutionStatus(pipeline=name, arn="", status="NoExecutions", started=None))
        for summary in summaries:
            rows.append(
                ExecutionStatus(
                    pipeline=name,
                    arn=summary["PipelineExecutionArn"],
                    status=summary.get("PipelineExecutionStatus", ""),
                    started=summary.get("StartTime"),
                    failure_reason=summary.get("PipelineExecutionFailureReason", "") or "",
                )
            )
    return rows


def _pipeline_exists(sm: Any, name: str) -> bool:
    try:
        sm.describe_pipeline(PipelineName=name)
    except ClientError as exc:  # connection and credential problems go up to the CLI's own messages
        if any(s in str(exc) for s in ("ResourceNotFound", "does not exist", "Could not find")):
            return False
        raise PipelineOpsError(
            f"cannot describe pipeline {name}: {exc}",
            hint="check that your credentials allow sagemaker:DescribePipeline",
        ) from exc
    return True


def _name_of(config: Config, kind: str) -> str:
    names = config.env.pipeline_names
    if kind in names:
        return names[kind]
    if kind in names.values():
        return kind
    raise PipelineOpsError(
        f"unknown pipeline {kind!r}", hint=f"use one of {', '.join(names)} or a pipeline name"
    )
