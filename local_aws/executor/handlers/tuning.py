"""Tuning steps: several script-mode training jobs over the declared ranges; the best one by objective.

Candidates come from :mod:`sampling` (seeded random search for Random/Bayesian/Hyperband, Grid as a grid).
Up to ``MaxParallelTrainingJobs`` trainings run at once (bounded by the CPU count). Each training job gets
the static hyperparameters, the candidate and ``_tuning_objective_metric``, as AWS passes them; its model
lands at ``<S3OutputPath>/<TrainingJobName>/output/model.tar.gz``. The step's properties are
DescribeHyperParameterTuningJob plus ``TrainingJobSummaries`` sorted best first, so the SDK's
``get_top_model_s3_uri(top_k=0, …)`` resolves to the best model.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local_aws.executor import ids
from local_aws.executor.handlers import sampling
from local_aws.executor.handlers.base import ResolvedStep, StepContext, StepFailedError, StepOutcome, iso, now
from local_aws.executor.handlers.training import TrainingJobResult, run_training_job
from local_aws.executor.process import FAILURE_REASON_LIMIT

log = logging.getLogger(__name__)

OBJECTIVE_HYPERPARAMETER = "_tuning_objective_metric"


def tuning_job_name(execution_id: str, step: str) -> str:
    """≤ 32 characters of letters, digits and hyphens."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", step)[:10].strip("-") or "tuning"
    return f"{execution_id}-{stem}-{ids.suffix(6, '0123456789abcdef')}"


def _seed(config: Mapping[str, Any], ctx: StepContext) -> int:
    if config.get("RandomSeed") is not None:
        return int(config["RandomSeed"])
    digest = hashlib.sha256(f"{ctx.execution.execution_id}/{ctx.step_name}".encode()).hexdigest()
    return int(digest[:8], 16)


def _summary(
    result: TrainingJobResult, tuned: dict[str, str], tuning_name: str, objective: Mapping[str, Any]
) -> dict[str, Any]:
    metric = str(objective.get("MetricName", ""))
    summary: dict[str, Any] = {
        "TrainingJobName": result.name,
        "TrainingJobArn": result.arn,
        "TuningJobName": tuning_name,
        "CreationTime": iso(result.started),
        "TrainingStartTime": iso(result.started),
        "TrainingEndTime": iso(result.ended),
        "TrainingJobStatus": result.status,
        "TunedHyperParameters": tuned,
    }
    if result.failure_reason:
        summary["FailureReason"] = result.failure_reason
    if result.status == "Completed" and metric in result.metrics:
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": objective.get("Type", "Minimize"),
            "MetricName": metric,
            "Value": result.metrics[metric],
        }
        summary["ObjectiveStatus"] = "Succeeded"
    else:
        summary["ObjectiveStatus"] = "Failed"
    return summary


def rank(summaries: list[dict[str, Any]], objective_type: str) -> list[dict[str, Any]]:
    """Best first: jobs with an objective value (lowest for Minimize, highest for Maximize), then the rest."""
    sign = -1.0 if objective_type == "Maximize" else 1.0
    scored = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
    others = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" not in s]
    scored.sort(key=lambda s: sign * float(s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]))
    return scored + others


def _job_definition(base: Mapping[str, Any], tuned: dict[str, str], metric: str) -> dict[str, Any]:
    definition = {k: v for k, v in base.items() if k not in ("StaticHyperParameters", "DefinitionName")}
    if "HyperParameterTuningResourceConfig" in definition and "ResourceConfig" not in definition:
        definition["ResourceConfig"] = definition.pop("HyperParameterTuningResourceConfig")
    definition["HyperParameters"] = {
        **{str(k): str(v) for k, v in (base.get("StaticHyperParameters") or {}).items()},
        **tuned,
        OBJECTIVE_HYPERPARAMETER: metric,
    }
    return definition


def run(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
    args = step.arguments
    if args.get("TrainingJobDefinitions"):
        raise StepFailedError(
            "ClientError: tuning jobs with several TrainingJobDefinitions are not supported locally"
        )
    config = args.get("HyperParameterTuningJobConfig") or {}
    base = args.get("TrainingJobDefinition") or {}
    objective = config.get("HyperParameterTuningJobObjective") or {}
    metric = str(objective.get("MetricName", ""))
    defined = {
        d.get("Name") for d in (base.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
    }
    if metric not in defined:
        raise StepFailedError(
            f"ClientError: the objective metric {metric!r} is not one of the MetricDefinitions "
            f"({', '.join(sorted(map(str, defined))) or 'none'})"
        )
    try:
        candidates = sampling.candidates(config, _seed(config, ctx))
    except sampling.RangeError as exc:
        raise StepFailedError(f"ClientError: {exc}") from None
    name = tuning_job_name(ctx.execution.execution_id, step.name)
    tuning_arn = ctx.arn("hyper-parameter-tuning-job", name)
    ctx.record_job("CreateHyperParameterTuningJob", {"HyperParameterTuningJobName": name, **args})
    ctx.started({"TuningJob": {"Arn": tuning_arn}})
    started = now()
    limits = config.get("ResourceLimits") or {}
    workers = max(1, min(int(limits.get("MaxParallelTrainingJobs") or 1), ctx.cpu_count, len(candidates)))
    log.info(
        "%s: tuning job %s trains %d candidates, %d at a time", step.name, name, len(candidates), workers
    )

    def train(index: int, tuned: dict[str, str]) -> dict[str, Any]:
        job = f"{name}-{index + 1:03d}-{ids.suffix(8, '0123456789abcdef')}"
        if ctx.cancel.is_set():
            return {
                "TrainingJobName": job,
                "TuningJobName": name,
                "TrainingJobStatus": "Stopped",
                "TunedHyperParameters": tuned,
                "ObjectiveStatus": "Failed",
            }
        result = run_training_job(
            ctx, job, _job_definition(base, tuned, metric), tuning_arn, cpus=ctx.cpu_count // workers
        )
        return _summary(result, tuned, name, objective)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"tune-{step.name}") as pool:
        summaries = list(pool.map(train, range(len(candidates)), candidates))
    ctx.check_cancelled()
    ranked = rank(summaries, str(objective.get("Type", "Minimize")))
    counters = {
        "Completed": sum(s["TrainingJobStatus"] == "Completed" for s in summaries),
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": sum(s["TrainingJobStatus"] == "Failed" for s in summaries),
        "Stopped": sum(s["TrainingJobStatus"] == "Stopped" for s in summaries),
    }
    ended = now()
    properties: dict[str, Any] = {
        **{k: v for k, v in args.items() if k != "Tags"},
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": tuning_arn,
        "CreationTime": iso(started),
        "HyperParameterTuningEndTime": iso(ended),
        "LastModifiedTime": iso(ended),
        "TrainingJobStatusCounters": counters,
        "ObjectiveStatusCounters": {
            "Succeeded": sum(s["ObjectiveStatus"] == "Succeeded" for s in summaries),
            "Pending": 0,
            "Failed": sum(s["ObjectiveStatus"] == "Failed" for s in summaries),
        },
        "TrainingJobSummaries": ranked,
    }
    if not ranked or "FinalHyperParameterTuningJobObjectiveMetric" not in ranked[0]:
        first = next((s.get("FailureReason") for s in summaries if s.get("FailureReason")), "no reason given")
        reason = (
            f"AlgorithmError: none of the {len(summaries)} training jobs of {name} reported {metric}: {first}"
        )
        properties["HyperParameterTuningJobStatus"] = "Failed"
        properties["FailureReason"] = reason[:FAILURE_REASON_LIMIT]
        raise StepFailedError(reason[:FAILURE_REASON_LIMIT], properties)
    properties["HyperParameterTuningJobStatus"] = "Completed"
    properties["BestTrainingJob"] = ranked[0]
    best = ranked[0]["TrainingJobName"]
    output_path = str((base.get("OutputDataConfig") or {}).get("S3OutputPath", "")).rstrip("/")
    return StepOutcome(
        properties=properties,
        metadata={"TuningJob": {"Arn": tuning_arn}},
        outputs={"best_model": f"{output_path}/{best}/output/model.tar.gz"},
    )
