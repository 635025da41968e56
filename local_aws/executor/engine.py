"""``PipelineExecutor``: runs SageMaker pipeline executions locally from their definition JSON.

The local endpoint calls :meth:`PipelineExecutor.start` for StartPipelineExecution and serves
DescribePipelineExecution, ListPipelineExecutions, ListPipelineExecutionSteps,
ListPipelineParametersForExecution and StopPipelineExecution from :meth:`describe`,
:meth:`list_executions`, :meth:`list_steps`, :meth:`list_parameters` and :meth:`stop`. Each execution
runs in its own coordinator thread; steps of all executions share one pool of ``max_workers`` threads.
Status changes are emitted as SageMaker's EventBridge events through ``emit`` and recorded under
``<workdir>/executions/<execution id>/`` (``execution.json``, ``definition.json``, per-step logs).
A ``ClientRequestToken`` seen before for the same pipeline returns the execution it started
(``idempotency.RequestTokens``, filled again from the records of earlier runs).
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from local_aws.executor import ids
from local_aws.executor.clients import Clients
from local_aws.executor.definition import parse_definition, resolve_parameters
from local_aws.executor.expressions import to_text
from local_aws.executor.handlers.base import now
from local_aws.executor.idempotency import RequestTokens
from local_aws.executor.records import RECORD_FILE, ExecutionRecord, read_record, write_record
from local_aws.executor.run import ExecutionRun, RunEnvironment

log = logging.getLogger(__name__)

DEFAULT_SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "scripts"
INTERRUPTED = "the local endpoint stopped while this execution was running"


class ExecutionNotFoundError(LookupError):
    """No execution with that ARN (SageMaker: ResourceNotFound)."""


class PipelineExecutor:
    """Runs pipeline executions from definition JSON; see the module docstring."""

    def __init__(
        self,
        clients: Clients,
        workdir: Path,
        emit: Callable[[dict[str, Any]], None],
        account_id: str,
        region: str,
        *,
        detail_types: Mapping[str, str],
        max_workers: int = 2,
        scripts_dir: Path | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="pipeline-step")
        self._env = RunEnvironment(
            clients=clients,
            pool=self._pool,
            workdir=self.workdir,
            scripts_dir=Path(scripts_dir or DEFAULT_SCRIPTS_DIR),
            emit=emit,
            lock=self._lock,
            account_id=account_id,
            region=region,
            detail_types=dict(detail_types),
        )
        self._records: dict[str, ExecutionRecord] = {}
        self._runs: dict[str, ExecutionRun] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._tokens = RequestTokens()
        self._load()

    # ----------------------------------------------------------------------------------------------------
    # Starting
    # ----------------------------------------------------------------------------------------------------

    def start(
        self,
        pipeline_arn: str,
        pipeline_name: str,
        definition: Mapping[str, Any] | str,
        parameters: Sequence[Mapping[str, Any]] | None = None,
        *,
        display_name: str | None = None,
        description: str | None = None,
        client_request_token: str | None = None,
        parallelism: Mapping[str, Any] | None = None,
    ) -> str:
        """Start an execution; returns its ARN. Raises ValueError for a bad definition or parameters.
        The same ``client_request_token`` for the same pipeline returns the first execution's ARN."""
        existing = self._tokens.find(pipeline_arn, client_request_token)
        if existing:
            return existing
        parsed = parse_definition(definition)
        values = resolve_parameters(parsed, parameters)
        execution = ids.execution_id()
        execution_arn = ids.execution_arn(pipeline_arn, execution)
        created = now()
        record = ExecutionRecord(
            pipeline_name=pipeline_name,
            pipeline_arn=pipeline_arn,
            execution_id=execution,
            execution_arn=execution_arn,
            display_name=display_name or f"execution-{int(time.time())}",
            description=description,
            status="Executing",
            creation_time=created,
            last_modified_time=created,
            parameters=[{"Name": k, "Value": to_text(v)} for k, v in values.items()],
            client_request_token=client_request_token,
            experiment_config=self._experiment_config(parsed.raw, pipeline_name, execution),
        )
        max_parallel = (parallelism or {}).get("MaxParallelExecutionSteps")
        run = ExecutionRun(self._env, parsed, record, values, int(max_parallel) if max_parallel else None)
        run.directory.mkdir(parents=True, exist_ok=True)
        (run.directory / "definition.json").write_text(json.dumps(parsed.raw, indent=2) + "\n")
        thread = threading.Thread(target=run.run, name=f"pipeline-execution-{execution}", daemon=True)
        with self._lock:
            claimed = self._tokens.claim(pipeline_arn, client_request_token, execution_arn)
            if claimed != execution_arn:  # the same token, started meanwhile by another request
                return claimed
            self._records[execution_arn] = record
            self._runs[execution_arn] = run
            self._threads[execution_arn] = thread
            write_record(record, run.directory)
        log.info("starting %s (%s)", execution_arn, ", ".join(f"{k}={v}" for k, v in values.items()))
        thread.start()
        return execution_arn

    @staticmethod
    def _experiment_config(raw: Mapping[str, Any], pipeline: str, execution: str) -> dict[str, str] | None:
        config = raw.get("PipelineExperimentConfig")
        if not config:
            return None
        names = {"Execution.PipelineName": pipeline, "Execution.PipelineExecutionId": execution}
        resolved = {}
        for key, value in config.items():
            ref = value.get("Get") if isinstance(value, Mapping) else None
            resolved[key] = names.get(str(ref), to_text(value)) if ref else to_text(value)
        return resolved

    # ----------------------------------------------------------------------------------------------------
    # Reading
    # ----------------------------------------------------------------------------------------------------

    def _record(self, execution_arn: str) -> ExecutionRecord:
        record = self._records.get(execution_arn)
        if record is None:
            raise ExecutionNotFoundError(f"pipeline execution {execution_arn} does not exist")
        return record

    def describe(self, execution_arn: str) -> dict[str, Any]:
        """A DescribePipelineExecution response (datetimes are timezone-aware ``datetime``s)."""
        with self._lock:
            return copy.deepcopy(self._record(execution_arn).describe())

    def list_executions(
        self,
        pipeline: str,
        status: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        sort_order: str = "Descending",
    ) -> list[dict[str, Any]]:
        """ListPipelineExecutions summaries of a pipeline (ARN or name), newest first by default."""
        with self._lock:
            records = [
                r
                for r in self._records.values()
                if pipeline in (r.pipeline_arn, r.pipeline_name)
                and (status is None or r.status == status)
                and (created_after is None or r.creation_time > created_after)
                and (created_before is None or r.creation_time < created_before)
            ]
            records.sort(key=lambda r: r.creation_time, reverse=sort_order != "Ascending")
            return [copy.deepcopy(r.summary()) for r in records]

    def list_steps(self, execution_arn: str, sort_order: str = "Descending") -> list[dict[str, Any]]:
        """ListPipelineExecutionSteps entries, most recently started first by default."""
        with self._lock:
            steps = list(self._record(execution_arn).steps.values())
            steps.sort(key=lambda s: s.start_time, reverse=sort_order != "Ascending")
            return [s.to_api() for s in steps]

    def list_parameters(self, execution_arn: str) -> list[dict[str, str]]:
        """ListPipelineParametersForExecution: every parameter with the value the execution used."""
        with self._lock:
            return copy.deepcopy(self._record(execution_arn).parameters)

    def record(self, execution_arn: str) -> dict[str, Any]:
        """The full execution record (what ``execution.json`` holds), for reports."""
        with self._lock:
            return copy.deepcopy(self._record(execution_arn).to_json())

    def executions_on_record(self) -> list[tuple[str, str, float, list[dict[str, str]]]]:
        """(ARN, definition text, creation time, parameters) of every execution known, oldest first."""
        with self._lock:
            records = sorted(self._records.values(), key=lambda r: r.creation_time)
        known = []
        for record in records:
            path = self.workdir / "executions" / record.execution_id / "definition.json"
            try:
                definition = json.dumps(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                definition = "{}"
            known.append(
                (
                    record.execution_arn,
                    definition,
                    record.creation_time.timestamp(),
                    copy.deepcopy(record.parameters),
                )
            )
        return known

    def execution_dir(self, execution_arn: str) -> Path:
        with self._lock:
            return self.workdir / "executions" / self._record(execution_arn).execution_id

    # ----------------------------------------------------------------------------------------------------
    # Controlling
    # ----------------------------------------------------------------------------------------------------

    def stop(self, execution_arn: str) -> None:
        """Stop an Executing execution (StopPipelineExecution). Raises ValueError when it has ended."""
        with self._lock:
            record = self._record(execution_arn)
            run = self._runs.get(execution_arn)
            if record.finished or run is None:
                raise ValueError(
                    f"pipeline execution {execution_arn} is {record.status}: it cannot be stopped"
                )
        run.stop()

    def wait(self, execution_arn: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the execution has ended; returns its description. Raises TimeoutError."""
        with self._lock:
            self._record(execution_arn)
            run = self._runs.get(execution_arn)
        if run is not None and not run.done.wait(timeout):
            raise TimeoutError(f"pipeline execution {execution_arn} did not finish within {timeout} s")
        return self.describe(execution_arn)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every running execution and wait (up to ``timeout`` s) for them to end."""
        with self._lock:
            runs = [r for arn, r in self._runs.items() if not self._records[arn].finished]
        for run in runs:
            run.stop()
        deadline = time.monotonic() + timeout
        for run in runs:
            run.done.wait(max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ----------------------------------------------------------------------------------------------------
    # Records of earlier runs
    # ----------------------------------------------------------------------------------------------------

    def _load(self) -> None:
        """Executions recorded by an earlier executor on the same workdir: listed and described again;
        those that were still running are marked Failed."""
        for path in sorted((self.workdir / "executions").glob(f"*/{RECORD_FILE}")):
            try:
                record = read_record(path)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring unreadable execution record %s: %s", path, exc)
                continue
            if not record.finished:
                record.status = "Failed"
                record.failure_reason = INTERRUPTED
                record.end_time = record.last_modified_time = now()
                for step in record.steps.values():
                    if step.status not in ("Succeeded", "Failed", "Stopped"):
                        step.status, step.failure_reason = "Failed", INTERRUPTED
                        step.end_time = record.end_time
                write_record(record, path.parent)
            self._records[record.execution_arn] = record
            self._tokens.claim(record.pipeline_arn, record.client_request_token, record.execution_arn)
