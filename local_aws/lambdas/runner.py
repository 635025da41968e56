"""Run Lambda functions without Docker: the captured zip, a subprocess, AWS's sync and async semantics.

``LambdaRunner`` keeps each function's code (captured by the WSGI layer from CreateFunction and
UpdateFunctionCode), reads the function's configuration from the local endpoint (handler, timeout,
memory, environment, dead-letter queue, reserved concurrency, event invoke config) and runs the handler
with ``bootstrap.py`` in the project's interpreter. Asynchronous invocations (``Event``, EventBridge
targets) are retried like AWS does (2 retries by default, ``MaximumRetryAttempts`` when configured),
then the event goes to the function's ``DeadLetterConfig`` SQS queue or SNS topic with the
``RequestID``/``ErrorCode``/``ErrorMessage`` attributes. Retry delays are seconds here, not minutes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local_aws.common.endpoint import ACCOUNT_ID, DUMMY_CREDENTIALS, EndpointClients
from local_aws.common.times import iso_time

log = logging.getLogger(__name__)

RUNNER = Path(__file__).with_name("bootstrap.py")
DEFAULT_RETRY_DELAYS = (1.0, 2.0)  # AWS waits ~1 min, then ~2 min
# The runner enforces Timeout from the handler call; this backstop also covers interpreter start and imports
# (AWS does not count the init phase in Timeout either).
INIT_GRACE_SECONDS = 10.0
LOG_TAIL_BYTES = 4096
_PASS_ENV = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "TZ")


class LambdaError(Exception):
    """A Lambda API-level failure (not a function error): unknown function, no code, throttled."""

    code = "ServiceException"
    status = 500


class FunctionNotFoundError(LambdaError):
    code = "ResourceNotFoundException"
    status = 404


class CodeNotCapturedError(LambdaError):
    code = "ResourceNotReadyException"
    status = 502


class ThrottledError(LambdaError):
    code = "TooManyRequestsException"
    status = 429


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    handler: str
    timeout: float
    memory: int
    environment: dict[str, str]
    dead_letter_arn: str
    reserved_concurrency: int | None
    max_retry_attempts: int


@dataclass
class InvokeResult:
    """One invocation: ``payload`` is the response body; ``error_type`` is set on a function error."""

    request_id: str
    payload: bytes
    error_type: str | None = None
    log_tail: str = ""
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error_type is None

    @property
    def error_message(self) -> str:
        if self.ok:
            return ""
        try:
            return str(json.loads(self.payload).get("errorMessage", ""))
        except (ValueError, AttributeError):
            return self.payload.decode("utf-8", "replace")


@dataclass
class AsyncOutcome:
    """How an asynchronous invocation ended, after retries."""

    function_name: str
    request_id: str
    ok: bool
    attempts: int
    error: str = ""
    dead_letter_arn: str = ""
    results: list[InvokeResult] = field(default_factory=list)


def function_name_of(identifier: str) -> str:
    """``name``, ``name:qualifier``, a partial ARN or a full ARN → the function name."""
    if identifier.startswith("arn:"):
        parts = identifier.split(":")
        return parts[6] if len(parts) > 6 else identifier
    if ":function:" in identifier:  # 123456789012:function:name
        return identifier.split(":function:", 1)[1].split(":", 1)[0]
    return identifier.split(":", 1)[0]


class LambdaRunner:
    def __init__(
        self,
        state_dir: Path,
        clients: EndpointClients,
        *,
        account_id: str = ACCOUNT_ID,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        async_workers: int = 4,
    ) -> None:
        self.state_dir = state_dir
        self.clients = clients
        self.account_id = account_id
        self.retry_delays = retry_delays
        self._functions_dir = state_dir / "functions"
        self._cache_dir = state_dir / "cache" / "lambda"
        self._logs_dir = state_dir / "logs"
        for directory in (self._functions_dir, self._cache_dir, self._logs_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(max_workers=async_workers, thread_name_prefix="lambda-async")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._timers: set[threading.Timer] = set()
        self._limits: dict[str, tuple[int, threading.Semaphore]] = {}
        self._closed = False

    # --- code -----------------------------------------------------------------------------------------

    def capture(self, function_name: str, zip_bytes: bytes) -> Path:
        """Keep a function's deployment package (from CreateFunction/UpdateFunctionCode)."""
        folder = self._functions_dir / function_name_of(function_name)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "code.zip"
        partial = folder / "code.zip.partial"
        partial.write_bytes(zip_bytes)
        partial.replace(target)
        (folder / "code.sha256").write_text(hashlib.sha256(zip_bytes).hexdigest(), encoding="utf-8")
        log.debug("captured %d bytes of code for %s", len(zip_bytes), function_name)
        return target

    def remember_dead_letter(self, function_name: str, target_arn: str) -> None:
        """moto drops ``DeadLetterConfig``; the layer keeps it here (``""`` removes it)."""
        folder = self._functions_dir / function_name_of(function_name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dead_letter_arn").write_text(target_arn, encoding="utf-8")

    def dead_letter(self, function_name: str) -> str:
        path = self._functions_dir / function_name_of(function_name) / "dead_letter_arn"
        return path.read_text(encoding="utf-8").strip() if path.exists() else ""

    def forget(self, function_name: str) -> None:
        shutil.rmtree(self._functions_dir / function_name_of(function_name), ignore_errors=True)

    def code_dir(self, function_name: str) -> Path:
        """The extracted package, cached by the zip's sha256 (shared by identical packages)."""
        folder = self._functions_dir / function_name_of(function_name)
        package = folder / "code.zip"
        if not package.exists():
            raise CodeNotCapturedError(
                f"no code captured for function {function_name}: create or update it through this endpoint"
            )
        digest = (folder / "code.sha256").read_text(encoding="utf-8").strip()
        target = self._cache_dir / digest
        if not target.exists():
            staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=self._cache_dir))
            with zipfile.ZipFile(package) as archive:
                archive.extractall(staging)
            try:
                staging.rename(target)
            except OSError:  # another invocation extracted it first
                shutil.rmtree(staging, ignore_errors=True)
        return target

    # --- configuration --------------------------------------------------------------------------------

    def config(self, function_name: str) -> FunctionConfig:
        name = function_name_of(function_name)
        lam = self.clients.client("lambda")
        try:
            conf = lam.get_function_configuration(FunctionName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                arn = f"arn:aws:lambda:{self.clients.region}:{self.account_id}:function:{name}"
                raise FunctionNotFoundError(f"Function not found: {arn}") from exc
            raise
        try:
            reserved = lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
        except ClientError:
            reserved = None
        try:
            invoke_config = lam.get_function_event_invoke_config(FunctionName=name)
            retries = int(invoke_config.get("MaximumRetryAttempts", 2))
        except ClientError:
            retries = 2
        return FunctionConfig(
            name=name,
            arn=conf["FunctionArn"],
            handler=conf.get("Handler") or "lambda_function.lambda_handler",
            timeout=float(conf.get("Timeout") or 3),
            memory=int(conf.get("MemorySize") or 128),
            environment=dict((conf.get("Environment") or {}).get("Variables") or {}),
            dead_letter_arn=(conf.get("DeadLetterConfig") or {}).get("TargetArn") or self.dead_letter(name),
            reserved_concurrency=None if reserved is None else int(reserved),
            max_retry_attempts=retries,
        )

    def _limit(self, conf: FunctionConfig) -> threading.Semaphore | None:
        """Reserved concurrency N runs at most N invocations at once (1 serialises them); 0 throttles."""
        if conf.reserved_concurrency is None:
            return None
        if conf.reserved_concurrency == 0:
            raise ThrottledError("Rate Exceeded.")
        with self._lock:
            known = self._limits.get(conf.name)
            if known is None or known[0] != conf.reserved_concurrency:
                known = (conf.reserved_concurrency, threading.Semaphore(conf.reserved_concurrency))
                self._limits[conf.name] = known
            return known[1]

    # --- invocation -----------------------------------------------------------------------------------

    def invoke(self, function_name: str, payload: bytes, request_id: str | None = None) -> InvokeResult:
        """A synchronous (RequestResponse) invocation. Function errors are in the result, not raised."""
        conf = self.config(function_name)
        code_dir = self.code_dir(conf.name)
        limit = self._limit(conf)
        request_id = request_id or str(uuid.uuid4())
        if limit is None:
            return self._run(conf, code_dir, payload, request_id)
        with limit:
            return self._run(conf, code_dir, payload, request_id)

    def _run(self, conf: FunctionConfig, code_dir: Path, payload: bytes, request_id: str) -> InvokeResult:
        env = {key: os.environ[key] for key in _PASS_ENV if key in os.environ}
        env.update(conf.environment)
        env.update(DUMMY_CREDENTIALS)
        env.update(
            {
                "AWS_ENDPOINT_URL": self.clients.endpoint_url,
                "AWS_REGION": self.clients.region,
                "AWS_DEFAULT_REGION": self.clients.region,
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_LAMBDA_FUNCTION_NAME": conf.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(conf.memory),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{conf.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{request_id.replace('-', '')}",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python_local",
                "LAMBDA_TASK_ROOT": str(code_dir),
                "_HANDLER": conf.handler,
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONUNBUFFERED": "1",
                "LOCAL_LAMBDA_FUNCTION_ARN": conf.arn,
                "LOCAL_LAMBDA_REQUEST_ID": request_id,
                "LOCAL_LAMBDA_TIMEOUT": str(conf.timeout),
            }
        )
        with tempfile.TemporaryDirectory(prefix="lambda-") as scratch:
            result_file = Path(scratch) / "result.json"
            command = [sys.executable, "-I", str(RUNNER), conf.handler, str(code_dir), str(result_file)]
            started = time.perf_counter()
            try:
                proc = subprocess.run(  # noqa: S603  (this interpreter running bootstrap.py; no shell)
                    command,
                    input=payload,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=code_dir,
                    timeout=conf.timeout + INIT_GRACE_SECONDS,
                    check=False,
                )
                output = proc.stdout.decode("utf-8", "replace")
                outcome = self._read_outcome(result_file, proc.returncode, output)
            except subprocess.TimeoutExpired as exc:
                output = (exc.stdout or b"").decode("utf-8", "replace")
                outcome = {
                    "ok": False,
                    "error": {
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"{iso_time()} {request_id} Task timed out after "
                        f"{conf.timeout:.2f} seconds",
                    },
                }
            duration_ms = (time.perf_counter() - started) * 1000
        tail = self._write_log(conf, request_id, output, duration_ms)
        if outcome.get("ok"):
            return InvokeResult(request_id, outcome["payload"].encode("utf-8"), None, tail, duration_ms)
        error = dict(outcome["error"])
        return InvokeResult(
            request_id, json.dumps(error).encode("utf-8"), str(error.get("errorType")), tail, duration_ms
        )

    @staticmethod
    def _read_outcome(result_file: Path, returncode: int, output: str) -> dict[str, Any]:
        if result_file.exists():
            return dict(json.loads(result_file.read_text(encoding="utf-8")))
        last = output.strip().splitlines()[-1:] or [""]
        return {
            "ok": False,
            "error": {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"Runtime exited with error: exit status {returncode}. {last[0]}".strip(),
            },
        }

    def _write_log(self, conf: FunctionConfig, request_id: str, output: str, duration_ms: float) -> str:
        lines = [
            f"START RequestId: {request_id} Version: $LATEST",
            output.rstrip("\n"),
            f"END RequestId: {request_id}",
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tMemory Size: {conf.memory} MB",
        ]
        text = "\n".join(line for line in lines if line) + "\n"
        with self._lock, (self._logs_dir / f"{conf.name}.log").open("a", encoding="utf-8") as handle:
            handle.write(text)
        return text.encode("utf-8")[-LOG_TAIL_BYTES:].decode("utf-8", "ignore")

    # --- asynchronous invocation -------------------------------------------------------------------------

    def invoke_async(
        self,
        function_name: str,
        payload: bytes,
        on_done: Callable[[AsyncOutcome], None] | None = None,
    ) -> str:
        """Queue an ``Event`` invocation; returns its request id. Unknown functions raise right away."""
        conf = self.config(function_name)
        request_id = str(uuid.uuid4())
        outcome = AsyncOutcome(conf.name, request_id, ok=False, attempts=0)
        with self._lock:
            if self._closed:
                raise LambdaError("the local Lambda runner is shut down")
            self._pending += 1
        self._pool.submit(self._attempt, conf.name, payload, outcome, on_done)
        return request_id

    def _attempt(
        self,
        function_name: str,
        payload: bytes,
        outcome: AsyncOutcome,
        on_done: Callable[[AsyncOutcome], None] | None,
    ) -> None:
        outcome.attempts += 1
        try:
            result = self.invoke(function_name, payload, request_id=outcome.request_id)
            outcome.results.append(result)
            error = "" if result.ok else f"{result.error_type}: {result.error_message}"
            conf = self.config(function_name)
        except Exception as exc:
            log.warning("async invocation of %s failed: %s", function_name, exc)
            error, conf = f"{type(exc).__name__}: {exc}", None
        if not error:
            outcome.ok = True
            self._finish(outcome, on_done)
            return
        outcome.error = error
        max_retries = conf.max_retry_attempts if conf else 2
        if outcome.attempts <= max_retries and not self._closed:
            delay = (
                self.retry_delays[min(outcome.attempts - 1, len(self.retry_delays) - 1)]
                if self.retry_delays
                else 0
            )
            log.info(
                "retrying %s (attempt %d failed: %s) in %.1f s", function_name, outcome.attempts, error, delay
            )
            self._schedule(
                delay, lambda: self._pool.submit(self._attempt, function_name, payload, outcome, on_done)
            )
            return
        if conf and conf.dead_letter_arn:
            outcome.dead_letter_arn = conf.dead_letter_arn
            self._dead_letter(conf, payload, outcome)
        self._finish(outcome, on_done)

    def _schedule(self, delay: float, action: Callable[[], Any]) -> None:
        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
            if not self._closed:
                action()

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _dead_letter(self, conf: FunctionConfig, payload: bytes, outcome: AsyncOutcome) -> None:
        """AWS sends the original event with RequestID, ErrorCode and ErrorMessage attributes."""
        body = payload.decode("utf-8", "replace")
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": outcome.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": outcome.error[:1024] or "error"},
        }
        target = conf.dead_letter_arn
        try:
            if ":sqs:" in target:
                sqs = self.clients.client("sqs")
                name, owner = target.rsplit(":", 1)[1], target.split(":")[4]
                url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=owner)["QueueUrl"]
                sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
            elif ":sns:" in target:
                self.clients.client("sns").publish(
                    TopicArn=target, Message=body, MessageAttributes=attributes
                )
            else:
                log.warning("dead-letter target %s of %s is neither SQS nor SNS", target, conf.name)
        except ClientError as exc:
            log.warning("could not send %s's failed event to %s: %s", conf.name, target, exc)

    def _finish(self, outcome: AsyncOutcome, on_done: Callable[[AsyncOutcome], None] | None) -> None:
        try:
            if on_done is not None:
                on_done(outcome)
        finally:
            with self._lock:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every queued asynchronous invocation finished (retries and dead-lettering included)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending, timeout)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._pending > 0

    def reset(self) -> None:
        """Forget captured code and pending retries (the functions themselves live in moto)."""
        with self._lock:
            timers = list(self._timers)
            self._timers.clear()
            self._pending -= len(timers)
            self._idle.notify_all()
        for timer in timers:
            timer.cancel()
        shutil.rmtree(self._functions_dir, ignore_errors=True)
        self._functions_dir.mkdir(parents=True, exist_ok=True)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            timers = list(self._timers)
            self._timers.clear()
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
