"""The deploy trigger against a real local HTTP server standing in for GitLab, token from moto."""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import common
import deploy_trigger
import pytest
from deploy_trigger import GitLabTriggerError, gitlab_error_message, token_from_secret
from moto import mock_aws

Event = Callable[[str], dict[str, Any]]
TOKEN = "glptt-0123456789abcdef0123"
PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-local-abalone/3"


@dataclass
class FakeGitLab:
    """What the server received, and what it answers next."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 201
    body: bytes = b""
    url: str = ""


CREATED = json.dumps(
    {"id": 4711, "status": "created", "ref": "main", "web_url": "http://gitlab.test/mlops/-/pipelines/4711"}
).encode()


@pytest.fixture(scope="module")
def gitlab_server() -> Iterator[FakeGitLab]:
    state = FakeGitLab()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "form": urllib.parse.parse_qs(self.rfile.read(length).decode()),
                }
            )
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test asserts on ``state.requests`` instead."""

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def gitlab(gitlab_server: FakeGitLab) -> FakeGitLab:
    """The shared server, reset to answer 201 Created with a pipeline."""
    gitlab_server.requests.clear()
    gitlab_server.status, gitlab_server.body = 201, CREATED
    return gitlab_server


@pytest.fixture
def secrets(aws_session: Any) -> Iterator[Any]:
    with mock_aws():
        client = aws_session.client("secretsmanager")
        common.set_client("secretsmanager", client)
        yield client


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, gitlab: FakeGitLab, secrets: Any) -> str:
    """Configure the function; returns the secret's ARN (the secret is created by each test)."""
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    arn = secrets.create_secret(Name="mlops-local-gitlab-trigger-token", SecretString=TOKEN)["ARN"]
    monkeypatch.setenv("GITLAB_URL", gitlab.url + "/")
    monkeypatch.setenv("GITLAB_PROJECT_ID", "42")
    monkeypatch.setenv("GITLAB_REF", "main")
    monkeypatch.setenv("GITLAB_TOKEN_SECRET_ARN", arn)
    monkeypatch.setenv("ENVIRONMENT", "local")
    monkeypatch.setenv("MODEL_PACKAGE_GROUP_NAME", "mlops-local-abalone")
    return str(arn)


def test_approval_triggers_the_gitlab_pipeline(event: Event, gitlab: FakeGitLab, env: str) -> None:
    result = deploy_trigger.handler(event("model_package_approved"), None)
    assert result == {
        "status": "triggered",
        "pipeline_id": 4711,
        "web_url": "http://gitlab.test/mlops/-/pipelines/4711",
        "model_package_arn": PACKAGE_ARN,
    }
    (request,) = gitlab.requests
    assert request["method"] == "POST"
    assert request["path"] == "/api/v4/projects/42/trigger/pipeline"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "token": [TOKEN],
        "ref": ["main"],
        "variables[DEPLOY_ENVIRONMENT]": ["local"],
        "variables[MODEL_PACKAGE_ARN]": [PACKAGE_ARN],
        "variables[MLOPS_JOB]": ["deploy-on-approval"],
    }


def test_project_path_and_json_secret(
    event: Event, gitlab: FakeGitLab, env: str, secrets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets.put_secret_value(SecretId=env, SecretString=json.dumps({"token": "from-json"}))
    monkeypatch.setenv("GITLAB_PROJECT_ID", "ml-team/abalone mlops")
    deploy_trigger.handler(event("model_package_approved"), None)
    (request,) = gitlab.requests
    assert request["path"] == "/api/v4/projects/ml-team%2Fabalone%20mlops/trigger/pipeline"
    assert request["form"]["token"] == ["from-json"]


def test_gitlab_400_surfaces_its_message(event: Event, gitlab: FakeGitLab, env: str) -> None:
    gitlab.status = 400
    gitlab.body = json.dumps({"message": {"base": ["Reference not found"]}}).encode()
    with pytest.raises(GitLabTriggerError) as info:
        deploy_trigger.handler(event("model_package_approved"), None)
    text = str(info.value)
    assert f"GitLab answered HTTP 400 to POST {gitlab.url}/api/v4/projects/42/trigger/pipeline" in text
    assert "Reference not found" in text
    assert "check GITLAB_REF" in text
    assert TOKEN not in text


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, b'{"message": "401 Unauthorized"}', "401 Unauthorized (the trigger token is invalid"),
        (404, b'{"message": "404 Project Not Found"}', "404 Project Not Found (check GITLAB_PROJECT_ID"),
        (500, b"<html>Internal Server Error</html>", "<html>Internal Server Error</html>"),
        (422, b'{"error": "variables is invalid"}', "variables is invalid"),
        (502, b"", "no message"),
    ],
)
@pytest.mark.usefixtures("env")
def test_gitlab_errors_raise_clearly(
    event: Event, gitlab: FakeGitLab, status: int, body: bytes, expected: str
) -> None:
    gitlab.status, gitlab.body = status, body
    with pytest.raises(GitLabTriggerError, match=f"HTTP {status}") as info:
        deploy_trigger.handler(event("model_package_approved"), None)
    assert expected in str(info.value)


def test_unreachable_gitlab_raises(event: Event, env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("GITLAB_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(GitLabTriggerError, match=f"could not reach GitLab at http://127.0.0.1:{port}/api/v4"):
        deploy_trigger.handler(event("model_package_approved"), None)


def test_success_without_pipeline_id_raises(event: Event, gitlab: FakeGitLab, env: str) -> None:
    gitlab.body = b'{"status": "created"}'
    with pytest.raises(GitLabTriggerError, match="without a pipeline id"):
        deploy_trigger.handler(event("model_package_approved"), None)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("model_package_rejected", "is Rejected, only Approved versions are deployed"),
        ("model_package_pending", "is PendingManualApproval"),
        ("model_package_approved_other_group", "'another-team-churn' is not this project's"),
    ],
)
def test_other_package_events_are_ignored_without_reading_the_secret(
    event: Event, gitlab: FakeGitLab, env: str, name: str, reason: str
) -> None:
    common.client("secretsmanager").delete_secret(SecretId=env, ForceDeleteWithoutRecovery=True)
    result = deploy_trigger.handler(event(name), None)
    assert result["status"] == "ignored"
    assert reason in result["reason"]
    assert gitlab.requests == []


def test_malformed_and_foreign_events_are_dropped(event: Event, gitlab: FakeGitLab, env: str) -> None:
    raw = event("model_package_approved")
    raw["detail"] = None
    assert deploy_trigger.handler(raw, None)["status"] == "dropped"
    result = deploy_trigger.handler(event("step_register_succeeded"), None)
    assert result["status"] == "dropped"
    assert "does not handle" in result["reason"]
    assert gitlab.requests == []


def test_missing_secret_raises(event: Event, gitlab: FakeGitLab, env: str, secrets: Any) -> None:
    secrets.delete_secret(SecretId=env, ForceDeleteWithoutRecovery=True)
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        deploy_trigger.handler(event("model_package_approved"), None)
    assert gitlab.requests == []


@pytest.mark.parametrize(
    ("secret", "expected"),
    [(f"  {TOKEN}\n", TOKEN), (json.dumps({"token": " t-1 "}), "t-1")],
)
def test_token_from_secret(secret: str, expected: str) -> None:
    assert token_from_secret(secret) == expected


@pytest.mark.parametrize(
    "secret", ["", "   ", json.dumps({"password": "x"}), "{not json", json.dumps({"token": 5})]
)
def test_unusable_secret_raises(secret: str) -> None:
    with pytest.raises(common.ConfigurationError, match="GitLab token secret is empty"):
        token_from_secret(secret)


def test_gitlab_url_must_be_http(event: Event, env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITLAB_URL", "file:///etc/passwd")
    with pytest.raises(common.ConfigurationError, match="must start with https://"):
        deploy_trigger.handler(event("model_package_approved"), None)


def test_error_message_is_bounded() -> None:
    message = gitlab_error_message(500, b"x" * 5000)
    assert len(message) < 600
