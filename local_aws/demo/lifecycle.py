"""The local lifecycle demo (``mlops demo``): the README's lifecycle, end to end, on the local endpoint.

Nothing here drives a pipeline directly. The demo does what people do — a data engineer uploads files,
a data scientist approves a version — and checks that the event rules, Lambdas, pipelines and the
deploy job (run by a stand-in GitLab) do the rest:

1. training data uploaded → training pipeline (started by the S3 event) → version 1 registered,
   PendingManualApproval → the data scientist is notified;
2. version 1 approved → "Model Package State Change" → deploy trigger → GitLab deploy job → the
   inference pipeline now uses version 1;
3. a clean inference batch (with ground truth) → inference pipeline: no data-quality violations,
   model quality within the threshold;
4. a drifted batch → violations notified, ``ModelQualityCalcStep`` fails → the HPO pipeline starts; a
   second model-quality failure while it runs does not start another → version 2 registered,
   flagged for enterprise review → notifications.

Every expected transition is a check; the demo exits non-zero if any did not happen. It prints a
timeline and writes an HTML report (``build/demo/report.html``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from local_aws.demo.report import epoch
from pipeline_scripts.config import Config
from pipeline_scripts.config.contracts import load as load_contracts
from pipeline_scripts.config.dataset import dataset_path

log = logging.getLogger(__name__)
STEPS = load_contracts().steps  # step key → name (contracts.json)

T = TypeVar("T")
# The demo's tuning budget (pipelines.yaml's hpo.max_jobs is for real accounts); MLOPS_HPO__MAX_JOBS wins.
DEMO_HPO_MAX_JOBS = "4"
GITLAB_TOKEN = "local-trigger-token"  # the fake GitLab's trigger token, stored in the local Secrets Manager  # noqa: S105  (the GitLab stand-in's fixed, local-only token)
PIPELINE_TIMEOUT = 180.0


@dataclass
class Check:
    what: str
    ok: bool
    detail: str
    at: float


@dataclass
class DemoResult:
    checks: list[Check]
    wall_seconds: float
    report: Path | None
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


class Lifecycle:
    """One run of the lifecycle against a started :class:`local_aws.server.LocalAWS`."""

    def __init__(self, config: Config, endpoint: Any, gitlab: Any, echo: Callable[[str], None]):
        self.config = config
        self.env = config.env
        self.endpoint = endpoint
        self.gitlab = gitlab
        self.echo = echo
        self.started = time.monotonic()
        self.checks: list[Check] = []
        self.sm = endpoint.clients.client("sagemaker")
        self.s3 = endpoint.clients.client("s3")
        self._seen_steps: dict[tuple[str, str], str] = {}
        self._seen_notifications = 0
        self._names = {
            self.env.pipeline_train: "training",
            self.env.pipeline_trainwhpo: "hpo",
            self.env.pipeline_inf: "inference",
        }

    # --- reporting --------------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, text: str) -> None:
        self.echo(f"{self.elapsed():6.1f}s  {text}")

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(what, ok, detail, self.elapsed()))
        self.say(f"{'✔' if ok else '✘'} {what}" + (f": {detail}" if detail else ""))
        return ok

    def progress(self) -> None:
        """Print step transitions and notifications that appeared since the last call."""
        for execution in self.endpoint.executions():
            pipeline = execution.get("PipelineArn", "").rsplit("/", 1)[-1]
            kind = self._names.get(pipeline, pipeline)
            for step in reversed(execution.get("Steps", [])):
                key = (execution["PipelineExecutionArn"], step["StepName"])
                status = step["StepStatus"]
                if self._seen_steps.get(key) == status or status in ("Starting",):
                    continue
                self._seen_steps[key] = status
                took = ""
                if step.get("EndTime") and step.get("StartTime"):
                    took = f" ({epoch(step['EndTime']) - epoch(step['StartTime']):.1f} s)"
                reason = f" — {step['FailureReason'][:140]}" if step.get("FailureReason") else ""
                self.say(f"  {kind:9} {step['StepName']:30} {status}{took}{reason}")
        notes = self.endpoint.notifications()
        for note in notes[self._seen_notifications :]:
            self.say(f"  ✉ {note.get('subject') or note.get('message', '')[:90]}")
        self._seen_notifications = len(notes)

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float = 60.0) -> T | None:
        """Poll ``probe`` (printing progress) until it returns something truthy, or time out."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            self.progress()
            if value:
                return value
            if time.monotonic() > deadline:
                self.check(what, False, f"not seen within {timeout:.0f} s")
                return None
            time.sleep(0.25)

    # --- queries ------------------------------------------------------------------------------------------

    def executions(self, pipeline: str) -> list[dict[str, Any]]:
        try:
            found = self.sm.list_pipeline_executions(PipelineName=pipeline, SortOrder="Ascending")
        except self.sm.exceptions.ResourceNotFound:
            return []
        return list(found.get("PipelineExecutionSummaries", []))

    def new_execution(self, pipeline: str, known: int) -> dict[str, Any] | None:
        runs = self.executions(pipeline)
        return runs[known] if len(runs) > known else None

    def finished(self, arn: str) -> dict[str, Any] | None:
        described: dict[str, Any] = self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        return described if described["PipelineExecutionStatus"] not in ("Executing", "Stopping") else None

    def step_outputs(self, arn: str, step: str) -> dict[str, str]:
        record = self.endpoint.executor.record(arn)
        for item in record.get("Steps", []):
            if item["StepName"] == step:
                return dict(item.get("Outputs") or {})
        return {}

    def read_json(self, uri: str, name: str) -> Any:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        body = self.s3.get_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{name}")["Body"].read()
        return json.loads(body)

    def versions(self) -> list[Any]:
        from pipeline_scripts.ops import registry

        return registry.list_versions(self.sm, self.env.model_package_group_name)

    def notified(self, needle: str) -> dict[str, Any] | None:
        return next((n for n in self.endpoint.notifications() if needle in (n.get("subject") or "")), None)

    # --- the lifecycle ----------------------------------------------------------------------------------

    def run_pipeline_from_upload(
        self, kind: str, pipeline: str, data_dir: Path, batch: str
    ) -> dict[str, Any]:
        from pipeline_scripts.ops import data

        known = len(self.executions(pipeline))
        uris = data.upload_data(self.s3, self.config, kind, data_dir, batch)
        self.say(f"uploaded {', '.join(u.rsplit('/', 2)[-2] + '/' + u.rsplit('/', 1)[-1] for u in uris)}")
        started = self.wait_for(
            f"the upload starts the {kind} pipeline", lambda: self.new_execution(pipeline, known), 30
        )
        if not started:
            return {}
        self.check(f"S3 event started {pipeline}", True, started["PipelineExecutionArn"].rsplit("/", 1)[-1])
        done = self.wait_for(
            f"{pipeline} finishes",
            lambda: self.finished(started["PipelineExecutionArn"]),
            PIPELINE_TIMEOUT,
        )
        return done or {}

    def run(self) -> None:
        env = self.env
        self.say(f"local AWS endpoint on {self.endpoint.endpoint_url}")
        # Pipelines as CI's build job creates them; inference needs an approved model, so it comes later.
        code = _mlops(self.config, "pipelines", "upsert", "--only", "training", "--only", "hpo")
        self.check("training and HPO pipelines upserted", code == 0, f"mlops exit {code}")

        # 1. training data → training pipeline → version 1 pending approval → notification
        data_dir = dataset_path(env).parent
        done = self.run_pipeline_from_upload("training", env.pipeline_train, data_dir, "batch-001")
        self.check(
            "training pipeline succeeded",
            done.get("PipelineExecutionStatus") == "Succeeded",
            done.get("FailureReason", ""),
        )
        versions = self.versions()
        self.check(
            "version 1 registered, PendingManualApproval",
            [(v.version, v.status) for v in versions] == [(1, "PendingManualApproval")],
            str([(v.version, v.status) for v in versions]),
        )
        note = self.wait_for(
            "data scientist notified of the new version",
            lambda: self.notified(STEPS["register"]),
            20,
        )
        if note:
            self.check("data scientist notified of the new version", True, note.get("subject", ""))
        if not versions:
            return

        # 2. approve → deploy trigger → GitLab deploy job → inference pipeline on version 1
        from pipeline_scripts.ops import registry

        v1 = registry.set_status(self.sm, env.model_package_group_name, 1, registry.APPROVED, "demo approval")
        self.say(f"data scientist approved version 1 ({v1.arn})")
        trigger = self.wait_for(
            "approval triggers the GitLab deploy job",
            lambda: next((t for t in self.gitlab.triggers if t.status in ("success", "failed")), None),
            90,
        )
        if trigger:
            self.check(
                "GitLab deploy-on-approval job ran",
                trigger.status == "success" and trigger.variables.get("MODEL_PACKAGE_ARN") == v1.arn,
                f"{trigger.status}: {trigger.variables} {trigger.error}".strip(),
            )
        deployed = _pipeline_model(self.sm, env.pipeline_inf)
        self.check(
            "inference pipeline uses version 1", deployed == v1.arn, deployed or "no inference pipeline"
        )

        # 3. a clean batch → no violations, model quality within the threshold
        done = self.run_pipeline_from_upload("inference", env.pipeline_inf, data_dir, "batch-001")
        arn = done.get("PipelineExecutionArn", "")
        self.check(
            "inference on the clean batch succeeded",
            done.get("PipelineExecutionStatus") == "Succeeded",
            done.get("FailureReason", ""),
        )
        if arn:
            self._quality_checks(arn, expect_drift=False)

        # 4. the drifted batch → violations, model quality fails → HPO (never two at once) → version 2
        hpo_known = len(self.executions(env.pipeline_trainwhpo))
        done = self.run_pipeline_from_upload("inference", env.pipeline_inf, data_dir / "drifted", "batch-002")
        arn = done.get("PipelineExecutionArn", "")
        self.check(
            "inference on the drifted batch failed at ModelQualityCalcStep",
            done.get("PipelineExecutionStatus") == "Failed"
            and STEPS["model_quality"] in _failed_steps(self.sm, arn),
            done.get("FailureReason", "")[:200],
        )
        if arn:
            self._quality_checks(arn, expect_drift=True)
        hpo = self.wait_for(
            "model-quality failure starts the HPO pipeline",
            lambda: self.new_execution(env.pipeline_trainwhpo, hpo_known),
            30,
        )
        if not hpo:
            return
        self.check("model-quality failure started the HPO pipeline", True, hpo["PipelineExecutionArn"])
        self._replay_failure_while_hpo_runs(arn, hpo["PipelineExecutionArn"], hpo_known)
        finished = self.wait_for(
            "HPO pipeline finishes", lambda: self.finished(hpo["PipelineExecutionArn"]), PIPELINE_TIMEOUT
        )
        self.check(
            "HPO pipeline succeeded",
            bool(finished) and finished.get("PipelineExecutionStatus") == "Succeeded",  # type: ignore[union-attr]
            (finished or {}).get("FailureReason", ""),
        )
        latest = next(iter(self.versions()), None)
        metadata = (
            self.sm.describe_model_package(ModelPackageName=latest.arn).get("CustomerMetadataProperties")
            or {}
            if latest
            else {}
        )
        self.check(
            "version 2 registered for enterprise review",
            latest is not None
            and latest.version == 2
            and latest.status == "PendingManualApproval"
            and metadata.get("enterprise_review_required") == "true",
            f"version {latest.version} {latest.status} {metadata}" if latest else "no versions",
        )
        self.endpoint.wait_idle(30)
        self.progress()
        hpo_notes = [
            n
            for n in self.endpoint.notifications()
            if env.pipeline_trainwhpo in (n.get("subject") or "")
            and "RegisterModel" in (n.get("subject") or "")
        ]
        self.check(
            "data scientist notified of the HPO version", bool(hpo_notes), f"{len(hpo_notes)} message(s)"
        )

    def _quality_checks(self, arn: str, *, expect_drift: bool) -> None:
        dq = self.step_outputs(arn, STEPS["data_quality_check"])
        mq = self.step_outputs(arn, STEPS["model_quality"])
        violations: list[Any] = []
        if dq:
            uri = next(iter(dq.values()))
            violations = self.read_json(uri, "constraint_violations.json").get("violations", [])
        label = "drifted" if expect_drift else "clean"
        self.check(
            f"data-quality check on the {label} batch: {'violations' if expect_drift else 'no violations'}",
            bool(dq) and (len(violations) > 0) == expect_drift,
            f"{len(violations)} violation(s)"
            + (f": {sorted({v.get('constraint_check_type') for v in violations})}" if violations else ""),
        )
        if mq:
            report = self.read_json(next(iter(mq.values())), "model_quality.json")
            check = report.get("threshold_check", {})
            self.check(
                f"model quality on the {label} batch "
                f"{'breaches' if expect_drift else 'within'} the threshold",
                check.get("passed") is (not expect_drift),
                f"{check.get('metric')} {check.get('value', float('nan')):.3f} vs {check.get('threshold')}",
            )
        else:
            self.check(
                f"model-quality results for the {label} batch", False, "no ModelQualityCalcStep output"
            )

    def _replay_failure_while_hpo_runs(self, failed_arn: str, hpo_arn: str, hpo_known: int) -> None:
        """Another ModelQualityCalcStep failure arrives while HPO runs: the guard must not start a second."""
        events = self.endpoint.events()
        original = next(
            (
                r["event"]
                for r in events
                if r.get("detail-type") == "SageMaker Model Building Pipeline Execution Step Status Change"
                and r["event"]["detail"].get("stepName") == STEPS["model_quality"]
                and r["event"]["detail"].get("currentStepStatus") == "Failed"
            ),
            None,
        )
        if original is None:
            self.check("HPO guard", False, "no ModelQualityCalcStep failure event to replay")
            return
        detail = dict(original["detail"])
        detail["pipelineExecutionArn"] = detail["pipelineExecutionArn"] + "-second-failure"
        if self.finished(hpo_arn):
            self.check(
                "HPO guard: HPO still running when the second failure arrives", False, "HPO already done"
            )
            return
        self.endpoint.clients.client("events").put_events(
            Entries=[
                {
                    "Source": original["source"],
                    "DetailType": original["detail-type"],
                    "Detail": json.dumps(detail),
                    "Resources": original.get("resources", []),
                }
            ]
        )
        self.endpoint.bus.wait_idle(30)
        self.endpoint.lambdas.wait_idle(30)
        count = len(self.executions(self.env.pipeline_trainwhpo)) - hpo_known
        self.check(
            "a second failure while HPO runs starts no second HPO execution", count == 1, f"{count} running"
        )


def run_demo(
    config: Config, out_dir: Path, *, echo: Callable[[str], None] = print, terraform: bool | None = False
) -> DemoResult:
    """Start a fresh local endpoint, provision it from the repo's Terraform, run the lifecycle."""
    from local_aws.gitlab import FakeGitLab
    from local_aws.provisioning.provision import provision
    from local_aws.server import LocalAWS

    wall = time.monotonic()
    out_dir = out_dir.resolve()  # the Lambdas and step scripts run in subprocesses with their own cwd
    state = out_dir / "state"
    shutil.rmtree(state, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    checks: list[Check] = []
    report: Path | None = None
    with (
        LocalAWS(state, region=config.env.aws_region) as endpoint,
        _pointed_at(endpoint, config),
        FakeGitLab(GITLAB_TOKEN, deploy_job(config)) as gitlab,
    ):
        # moto keeps its state per process: start from nothing, whatever ran before in this process.
        endpoint.reset()
        lifecycle = Lifecycle(config, endpoint, gitlab, echo)
        try:
            how = provision(
                endpoint, config, gitlab_url=gitlab.url, gitlab_token=GITLAB_TOKEN, terraform=terraform
            )
            lifecycle.check("infrastructure provisioned from the repo's Terraform", True, how)
            lifecycle.run()
        except Exception as exc:  # the demo reports what broke instead of a traceback only
            log.debug("demo aborted", exc_info=True)
            lifecycle.check("lifecycle ran to the end", False, f"{type(exc).__name__}: {exc}")
        finally:
            endpoint.wait_idle(30)
            lifecycle.progress()
            checks = lifecycle.checks
            from local_aws.demo.report import collect, write_report

            data = collect(endpoint, config, checks, time.monotonic() - wall, out_dir)
            report = write_report(data, out_dir / "report.html")
    return DemoResult(checks, time.monotonic() - wall, report, data.get("timeline", []))


# --- helpers ---------------------------------------------------------------------------------------------


def _mlops(config: Config, *args: str) -> int:
    """Run the CLI as CI and the deploy job do (a subprocess, against the endpoint in AWS_ENDPOINT_URL)."""
    command = [sys.executable, "-m", "pipeline_scripts.cli", "--env", config.name, *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=dict(os.environ))  # noqa: S603  (this interpreter running the repo's CLI; no shell)
    for line in (done.stdout + done.stderr).splitlines():
        log.info("    %s", line)
    if done.returncode != 0:
        log.warning("%s exited %d:\n%s", " ".join(command[2:]), done.returncode, done.stderr[-2000:])
    return done.returncode


def deploy_job(config: Config) -> Callable[[Any], None]:
    """The deploy-on-approval job the GitLab trigger runs (.gitlab-ci.yml `deploy-approved`), against the
    endpoint in AWS_ENDPOINT_URL (the demo's and `mlops local up --provision`'s GitLab stand-in)."""

    def job(trigger: Any) -> None:
        arn = trigger.variables.get("MODEL_PACKAGE_ARN", "")
        env = trigger.variables.get("DEPLOY_ENVIRONMENT", "")
        if env != config.name:
            raise RuntimeError(f"deploy job for environment {env!r}, but the demo runs {config.name!r}")
        code = _mlops(config, "pipelines", "upsert", "--only", "inference", "--model-package-arn", arn)
        if code != 0:
            raise RuntimeError(f"mlops pipelines upsert exited {code}")

    return job


@contextlib.contextmanager
def _pointed_at(endpoint: Any, config: Config) -> Iterator[None]:
    """Point boto3, the SDK and subprocesses (the CLI, Terraform) at the endpoint for the demo's duration;
    the CLI subprocesses (upsert, the deploy job) use the demo's data set."""
    from local_aws.server import export_to

    saved = dict(os.environ)
    os.environ.setdefault("MLOPS_HPO__MAX_JOBS", DEMO_HPO_MAX_JOBS)
    os.environ["MLOPS_DATASET_DIR"] = str(dataset_path(config.env).parent)
    export_to(os.environ, endpoint.endpoint_url, endpoint.region)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _pipeline_model(sm: Any, pipeline: str) -> str | None:
    try:
        definition = json.loads(sm.describe_pipeline(PipelineName=pipeline)["PipelineDefinition"])
    except Exception:
        return None
    for parameter in definition.get("Parameters", []):
        if parameter.get("Name") == "ModelPackageArn":
            return str(parameter.get("DefaultValue"))
    return None


def _failed_steps(sm: Any, arn: str) -> list[str]:
    if not arn:
        return []
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return [s["StepName"] for s in steps if s["StepStatus"] == "Failed"]
