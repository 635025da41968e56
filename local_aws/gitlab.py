"""A fake GitLab for local mode: the pipeline trigger API the deploy-trigger Lambda calls.

``POST /api/v4/projects/<id>/trigger/pipeline`` (form or JSON: ``token``, ``ref``, ``variables[KEY]``)
answers like GitLab (201 and the pipeline JSON; 400 when ``token`` or ``ref`` is missing; 404 for a wrong
token or project) and runs ``on_trigger`` in the background, as a GitLab runner would run the pipeline
(the demo passes the deploy-on-approval job). ``GET /api/v4/projects/<id>/pipelines/<pipeline_id>``
reports its status: ``pending`` → ``running`` → ``success`` or ``failed``.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)

TRIGGER_PATH = "/trigger/pipeline"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class PipelineTrigger:
    """One triggered pipeline: what was asked for and how its job went."""

    id: int
    project_id: str
    ref: str
    variables: dict[str, str]
    status: str = "pending"
    created_at: str = field(default_factory=_now)
    finished_at: str | None = None
    error: str = ""

    def as_gitlab(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "iid": self.id,
            "project_id": int(self.project_id) if self.project_id.isdigit() else self.project_id,
            "sha": "0" * 40,
            "ref": self.ref,
            "status": self.status,
            "source": "trigger",
            "created_at": self.created_at,
            "updated_at": self.finished_at or self.created_at,
            "finished_at": self.finished_at,
            "tag": False,
            "web_url": f"{base_url}/{self.project_id}/-/pipelines/{self.id}",
        }


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug('"%s" %s %s', self.requestline, code, size)


class FakeGitLab:
    def __init__(
        self,
        token: str,
        on_trigger: Callable[[PipelineTrigger], Any] | None = None,
        *,
        project_id: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.on_trigger = on_trigger
        self.project_id = project_id
        self.host = host
        self.port = port
        self.triggers: list[PipelineTrigger] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeGitLab is not started: call start() first")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> FakeGitLab:
        self._server = make_server(
            self.host, self.port, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-gitlab", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitLab:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every triggered job has finished."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._running, timeout)

    # --- HTTP -----------------------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        return self._handle(request)(environ, start_response)

    def _handle(self, request: Request) -> Response:
        path = request.path
        if not path.startswith("/api/v4/projects/"):
            return _json({"message": "404 Not Found"}, 404)
        rest = path.removeprefix("/api/v4/projects/")
        if request.method == "POST" and rest.endswith(TRIGGER_PATH):
            return self._trigger(unquote(rest.removesuffix(TRIGGER_PATH)), request)
        if request.method == "GET" and "/pipelines/" in rest:
            project, _, pipeline_id = rest.partition("/pipelines/")
            for trigger in self.triggers:
                if str(trigger.id) == pipeline_id and trigger.project_id == unquote(project):
                    return _json(trigger.as_gitlab(self.url))
        return _json({"message": "404 Not Found"}, 404)

    def _trigger(self, project: str, request: Request) -> Response:
        params = _params(request)
        if not params.get("token"):
            return _json({"error": "token is missing"}, 400)
        if not params.get("ref"):
            return _json({"error": "ref is missing"}, 400)
        if params["token"] != self.token or (self.project_id is not None and project != self.project_id):
            return _json({"message": "404 Not Found"}, 404)
        variables = {k[len("variables[") : -1]: v for k, v in params.items() if k.startswith("variables[")}
        variables.update(params.get("variables_json") or {})
        trigger = PipelineTrigger(next(self._ids), project, params["ref"], variables)
        answer = _json(trigger.as_gitlab(self.url), 201)  # as created: the job has not started yet
        with self._lock:
            self.triggers.append(trigger)
            self._running += 1
        threading.Thread(
            target=self._run, args=(trigger,), name=f"gitlab-job-{trigger.id}", daemon=True
        ).start()
        log.info("GitLab pipeline %d triggered on %s with %s", trigger.id, trigger.ref, variables)
        return answer

    def _run(self, trigger: PipelineTrigger) -> None:
        trigger.status = "running"
        try:
            if self.on_trigger is not None:
                self.on_trigger(trigger)
            trigger.status = "success"
        except Exception as exc:
            log.exception("GitLab pipeline %d failed", trigger.id)
            trigger.status, trigger.error = "failed", str(exc)
        finally:
            trigger.finished_at = _now()
            with self._lock:
                self._running -= 1
                self._idle.notify_all()


def _params(request: Request) -> dict[str, Any]:
    """GitLab takes the trigger's parameters from the query string, a form, or a JSON body."""
    params: dict[str, Any] = dict(request.args.items())
    if request.is_json:
        body = request.get_json(silent=True) or {}
        params.update({k: v for k, v in body.items() if k != "variables"})
        if isinstance(body.get("variables"), dict):
            params["variables_json"] = {str(k): str(v) for k, v in body["variables"].items()}
    else:
        params.update(request.form.items())
    return params


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")
