"""Runs one Lambda invocation in a fresh interpreter, like the Python runtime's bootstrap does.

Started by ``local_aws.lambdas.LambdaRunner`` as ``python -I bootstrap.py HANDLER CODE_DIR RESULT_FILE``
with the event on stdin and the function's environment. Standard library only: it must not import the
project (the function sees only its own code and the interpreter's site-packages, as on Lambda).
Writes ``{"ok": true, "payload": "<json>"}`` or ``{"ok": false, "error": {errorMessage, errorType,
stackTrace}}`` to RESULT_FILE; the handler's own output goes to stdout/stderr (the function's log).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any


class LambdaContext:
    """The attributes and method of the Python runtime's context object that handlers use."""

    def __init__(self, request_id: str, deadline: float) -> None:
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = env.get("LOCAL_LAMBDA_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": os.environ.get("LOCAL_LAMBDA_REQUEST_ID", ""),
        "stackTrace": [line.rstrip("\n") for line in traceback.format_list(frames)],
    }


def _configure_logging(request_id: str) -> None:
    # The runtime installs a root handler so that `logging.getLogger(__name__).info(...)` shows up once a
    # handler sets its logger's level; the root level stays at WARNING like AWS_LAMBDA_LOG_LEVEL's default.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            f"[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t{request_id}\t%(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


def _timed_out(result_file: Path, request_id: str, timeout: float) -> None:
    """The function's Timeout counts from the handler call (not the interpreter start), as on AWS."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    error = {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds",
    }
    sys.stdout.flush()
    result_file.write_text(json.dumps({"ok": False, "error": error}), encoding="utf-8")
    os._exit(0)


def run(handler_spec: str, code_dir: Path, event_text: str, result_file: Path) -> dict[str, Any]:
    request_id = os.environ.get("LOCAL_LAMBDA_REQUEST_ID", "")
    timeout = float(os.environ.get("LOCAL_LAMBDA_TIMEOUT", "3"))
    _configure_logging(request_id)
    sys.path.insert(0, str(code_dir))
    os.chdir(code_dir)
    try:
        module_name, function_name = handler_spec.rsplit(".", 1)
        module = importlib.import_module(module_name.replace("/", "."))
        function = getattr(module, function_name)
    except (ValueError, ImportError, AttributeError) as exc:
        return {"ok": False, "error": _error(exc, "Runtime.ImportModuleError")}
    try:
        event = json.loads(event_text) if event_text.strip() else {}
    except ValueError as exc:
        return {"ok": False, "error": _error(exc, "Runtime.UnmarshalError")}
    context = LambdaContext(request_id, deadline=time.time() + timeout)
    watchdog = threading.Timer(timeout, _timed_out, args=(result_file, request_id, timeout))
    watchdog.daemon = True
    watchdog.start()
    try:
        result = function(event, context)
    except Exception as exc:
        traceback.print_exc()
        return {"ok": False, "error": _error(exc)}
    try:
        return {"ok": True, "payload": json.dumps(result)}
    except (TypeError, ValueError) as exc:
        return {"ok": False, "error": _error(exc, "Runtime.MarshalError")}


def main(argv: list[str] | None = None) -> int:
    handler_spec, code_dir, result_file = (argv if argv is not None else sys.argv[1:])[:3]
    outcome = run(handler_spec, Path(code_dir), sys.stdin.read(), Path(result_file))
    sys.stdout.flush()
    sys.stderr.flush()
    Path(result_file).write_text(json.dumps(outcome), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
