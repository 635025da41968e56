"""One pipeline execution: schedules its steps as their dependencies succeed and records every change.

A step starts when every step it depends on has Succeeded and, inside a condition branch, when the
condition's outcome selects that branch; steps of the branch not taken never start (and are not
listed). After a step fails no new step starts; the running ones finish, then the execution is Failed
with the first failure's reason (a Fail step's ErrorMessage, or the failed step's FailureReason). A stop
request turns the execution Stopping, stops the running jobs, and ends it Stopped.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_aws.executor import events, ids, s3io
from local_aws.executor.clients import Clients
from local_aws.executor.definition import PipelineDefinition, StepSpec
from local_aws.executor.expressions import ExpressionContext, ExpressionError, resolve
from local_aws.executor.handlers import handler_for
from local_aws.executor.handlers.base import (
    ExecutionInfo,
    ResolvedStep,
    StepContext,
    StepFailedError,
    StepOutcome,
    iso,
    now,
)
from local_aws.executor.records import ExecutionRecord, StepRecord, write_record

log = logging.getLogger(__name__)

_WAKE_SECONDS = 0.5


@dataclass(frozen=True)
class RunEnvironment:
    """What every execution shares: clients, the step pool, where to write, how to emit."""

    clients: Clients
    pool: ThreadPoolExecutor
    workdir: Path
    scripts_dir: Path
    emit: Callable[[dict[str, Any]], None]
    lock: threading.RLock
    account_id: str
    region: str
    detail_types: Mapping[str, str]  # contracts.json's: step_status, execution_status


class ExecutionRun:
    def __init__(
        self,
        env: RunEnvironment,
        definition: PipelineDefinition,
        record: ExecutionRecord,
        parameters: dict[str, Any],
        max_parallel_steps: int | None = None,
    ) -> None:
        self.env = env
        self.definition = definition
        self.record = record
        self.parameters = parameters
        self.max_parallel = max_parallel_steps
        self.cancel = threading.Event()
        self.done = threading.Event()
        self.directory = env.workdir / "executions" / record.execution_id
        self._properties: dict[str, dict[str, Any]] = {}
        self._outcomes: dict[str, bool] = {}
        self._json_cache: dict[str, Any] = {}
        self.info = ExecutionInfo(
            pipeline_name=record.pipeline_name,
            pipeline_arn=record.pipeline_arn,
            execution_id=record.execution_id,
            execution_arn=record.execution_arn,
            account_id=env.account_id,
            region=env.region,
        )

    # ----------------------------------------------------------------------------------------------------
    # Recording and events
    # ----------------------------------------------------------------------------------------------------

    def _persist(self) -> None:
        write_record(self.record, self.directory)

    def _emit(self, event: dict[str, Any]) -> None:
        try:
            self.env.emit(event)
        except Exception:
            log.exception("emitting %s for %s failed", event.get("detail-type"), self.record.execution_arn)

    def _set_execution(self, status: str, reason: str | None = None) -> None:
        with self.env.lock:
            previous = self.record.status if self.record.status != status else None
            self.record.status = status
            self.record.last_modified_time = now()
            if reason:
                self.record.failure_reason = reason
            if status in ("Succeeded", "Failed", "Stopped"):
                self.record.end_time = self.record.last_modified_time
            self._persist()
            event = events.execution_event(
                self.record,
                previous,
                self.env.account_id,
                self.env.region,
                detail_types=self.env.detail_types,
            )
        self._emit(event)

    def _set_step(self, step: StepRecord, status: str, **changes: Any) -> None:
        with self.env.lock:
            previous = step.status if step.name in self.record.steps else None
            step.status = status
            for key, value in changes.items():
                setattr(step, key, value)
            if status in ("Succeeded", "Failed", "Stopped"):
                step.end_time = now()
                if step.log_dir and not Path(step.log_dir).is_dir():
                    step.log_dir = None
            self.record.steps[step.name] = step
            self.record.last_modified_time = now()
            self._persist()
            event = events.step_event(
                self.record,
                step,
                previous,
                self.env.account_id,
                self.env.region,
                detail_types=self.env.detail_types,
            )
        self._emit(event)

    # ----------------------------------------------------------------------------------------------------
    # Expressions
    # ----------------------------------------------------------------------------------------------------

    def _read_json(self, uri: str) -> Any:
        if uri not in self._json_cache:
            self._json_cache[uri] = s3io.read_json(self.env.clients.s3, uri)
        return self._json_cache[uri]

    def expression_context(self, step: str, job_name: str | None = None) -> ExpressionContext:
        execution = {
            "PipelineExecutionId": self.record.execution_id,
            "PipelineExecutionArn": self.record.execution_arn,
            "PipelineName": self.record.pipeline_name,
            "PipelineArn": self.record.pipeline_arn,
            "StartDateTime": iso(self.record.creation_time),
        }
        if job_name:
            execution["ProcessingJobName"] = job_name
            execution["TrainingJobName"] = job_name
        with self.env.lock:
            properties = dict(self._properties)
        return ExpressionContext(
            parameters=self.parameters,
            execution=execution,
            properties=properties,
            property_files={s.name: s.property_files for s in self.definition.steps.values()},
            read_json=self._read_json,
            step=step,
            current_time=lambda: iso(now()) or "",
        )

    # ----------------------------------------------------------------------------------------------------
    # Steps
    # ----------------------------------------------------------------------------------------------------

    def _execute(self, spec: StepSpec) -> None:
        """Run one step to its end; never raises."""
        record = StepRecord(
            name=spec.name,
            type=spec.type,
            status="Starting",
            start_time=now(),
            display_name=spec.display_name,
            description=spec.description,
            log_dir=str(self.directory / "steps" / spec.name / "logs"),
        )
        self._set_step(record, "Starting")
        executing = threading.Event()

        def on_started(metadata: dict[str, Any]) -> None:
            if not executing.is_set():
                executing.set()
                self._set_step(record, "Executing", metadata=metadata)

        job_name = ids.job_name(self.record.execution_id, spec.name)
        try:
            resolved = resolve(spec.expressions, self.expression_context(spec.name, job_name))
            arguments = dict(resolved.get("Arguments") or {})
            extra = {k: v for k, v in resolved.items() if k != "Arguments"}
            with self.env.lock:
                record.arguments = copy.deepcopy({**extra, "Arguments": arguments})
            ctx = StepContext(
                clients=self.env.clients,
                execution=self.info,
                step_name=spec.name,
                step_type=spec.type,
                step_dir=self.directory / "steps" / spec.name,
                scripts_dir=self.env.scripts_dir,
                cancel=self.cancel,
                on_started=on_started,
                main_job_name=job_name,
            )
            outcome: StepOutcome = handler_for(spec.type)(
                ResolvedStep(name=spec.name, type=spec.type, arguments=arguments, extra=extra), ctx
            )
        except ExpressionError as exc:
            self._finish_failed(record, executing, f"ClientError: {exc}", None, {})
        except StepFailedError as exc:
            self._finish_failed(
                record, executing, exc.reason, exc.properties or None, exc.metadata, outputs=exc.outputs
            )
        except Exception as exc:
            log.exception("step %s of %s crashed", spec.name, self.record.execution_arn)
            self._finish_failed(
                record,
                executing,
                f"InternalError: the local executor failed on this step: {exc!r}"[:1024],
                None,
                {},
            )
        else:
            on_started(outcome.metadata)
            with self.env.lock:
                self._properties[spec.name] = outcome.properties
                if spec.type == "Condition":
                    self._outcomes[spec.name] = outcome.properties.get("Outcome") == "True"
            self._set_step(
                record,
                "Succeeded",
                metadata=outcome.metadata,
                properties=outcome.properties,
                outputs=outcome.outputs,
            )

    def _finish_failed(
        self,
        record: StepRecord,
        executing: threading.Event,
        reason: str,
        properties: dict[str, Any] | None,
        metadata: dict[str, Any],
        *,
        outputs: dict[str, str] | None = None,
    ) -> None:
        if not executing.is_set():
            executing.set()
            self._set_step(record, "Executing", metadata=metadata or record.metadata)
        status = "Stopped" if self.cancel.is_set() and record.type != "Fail" else "Failed"
        changes: dict[str, Any] = {"failure_reason": reason[:1024]}
        if properties:
            changes["properties"] = properties
        if metadata:
            changes["metadata"] = metadata
        if outputs:
            changes["outputs"] = outputs
        self._set_step(record, status, **changes)

    # ----------------------------------------------------------------------------------------------------
    # Scheduling
    # ----------------------------------------------------------------------------------------------------

    def _ready(self, spec: StepSpec, started: set[str]) -> bool:
        if spec.name in started:
            return False
        with self.env.lock:
            steps = self.record.steps
            for dep in spec.depends_on:
                if dep not in steps or steps[dep].status != "Succeeded":
                    return False
            if spec.branch:
                condition, branch = spec.branch
                if self._outcomes.get(condition) is not branch:
                    return False
        return True

    def run(self) -> None:
        """The execution's coordinator (its own thread)."""
        try:
            self._set_execution("Executing")
            self._schedule()
        except Exception as exc:  # the coordinator itself must never die silently
            log.exception("execution %s crashed", self.record.execution_arn)
            self._set_execution("Failed", f"InternalError: the local executor failed: {exc!r}"[:1024])
        finally:
            self.done.set()

    def _schedule(self) -> None:
        started: set[str] = set()
        running: dict[Future[None], str] = {}
        stopping = False
        while True:
            failed = self._first_failure() is not None
            if not (failed or stopping):
                for spec in self.definition.steps.values():
                    if self.max_parallel and len(running) >= self.max_parallel:
                        break
                    if self._ready(spec, started):
                        started.add(spec.name)
                        running[self.env.pool.submit(self._execute, spec)] = spec.name
            if not running:
                break
            done, _ = wait(list(running), timeout=_WAKE_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                running.pop(future)
            if self.cancel.is_set() and not stopping:
                stopping = True
                self._set_execution("Stopping")
        if stopping or self.cancel.is_set():
            if not stopping:
                self._set_execution("Stopping")
            self._set_execution("Stopped")
            return
        failure = self._first_failure()
        if failure is not None:
            self._set_execution("Failed", failure)
        else:
            self._set_execution("Succeeded")

    def _first_failure(self) -> str | None:
        with self.env.lock:
            failed = [s for s in self.record.steps.values() if s.status == "Failed"]
        if not failed:
            return None
        first = min(failed, key=lambda s: s.end_time or s.start_time)
        return first.failure_reason or f"Step {first.name} failed"

    def stop(self) -> None:
        self.cancel.set()
