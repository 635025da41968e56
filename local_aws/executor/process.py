"""Run a job's program as a subprocess: logs to files, a runtime limit, cancellation, a failure summary."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FAILURE_REASON_LIMIT = 1024  # PipelineExecutionStep.FailureReason's maximum length
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    stdout: Path
    stderr: Path
    seconds: float
    timed_out: bool = False
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.cancelled

    def output_text(self) -> str:
        """stdout then stderr (where metric regexes look, as CloudWatch has both)."""
        return _read(self.stdout) + "\n" + _read(self.stderr)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def run(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_dir: Path,
    name: str,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
) -> ProcessResult:
    """Run ``command``; ``<log_dir>/<name>.stdout.log`` and ``.stderr.log`` receive its output."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = log_dir / f"{name}.stdout.log"
    stderr_path = log_dir / f"{name}.stderr.log"
    started = time.monotonic()
    timed_out = cancelled = False
    log.debug("running %s in %s", " ".join(command), cwd)
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(  # noqa: S603  (the step's own command from the definition, no shell)
            list(command),
            env=dict(env),
            cwd=str(cwd),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        while True:
            try:
                proc.wait(timeout=_POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                cancelled = True
            elif timeout is not None and time.monotonic() - started > timeout:
                timed_out = True
            if cancelled or timed_out:
                _terminate(proc)
                break
    return ProcessResult(
        returncode=proc.returncode if proc.returncode is not None else -1,
        stdout=stdout_path,
        stderr=stderr_path,
        seconds=time.monotonic() - started,
        timed_out=timed_out,
        cancelled=cancelled,
    )


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL after 5 s (as SageMaker stops a job)."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(text: str, limit: int = FAILURE_REASON_LIMIT) -> str:
    """The last non-empty line of ``text`` (the scripts print one-line errors), at most ``limit`` chars;
    a longer line keeps its end."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    return last if len(last) <= limit else "..." + last[-(limit - 3) :]


def failure_reason(result: ProcessResult, what: str, runtime_limit: float | None = None) -> str:
    """SageMaker-style reason: ``AlgorithmError: <last stderr line>`` (≤ 1024 chars)."""
    if result.timed_out:
        return _clip(
            f"ClientError: {what} exceeded MaxRuntimeInSeconds ({runtime_limit:g} s) and was stopped"
        )
    if result.cancelled:
        return _clip(f"ClientError: {what} was stopped")
    prefix = "AlgorithmError: "
    detail = tail(_read(result.stderr), FAILURE_REASON_LIMIT - len(prefix)) or tail(
        _read(result.stdout), FAILURE_REASON_LIMIT - len(prefix)
    )
    if not detail:
        code = result.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        detail = f"{what} {how} and printed nothing (logs: {result.stderr.parent})"
    return _clip(prefix + detail)


def _clip(text: str) -> str:
    return text if len(text) <= FAILURE_REASON_LIMIT else text[: FAILURE_REASON_LIMIT - 3] + "..."
