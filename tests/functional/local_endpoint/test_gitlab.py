"""The fake GitLab's pipeline trigger API."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from local_aws.gitlab import FakeGitLab, PipelineTrigger


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    seen: list[PipelineTrigger] = []
    release = threading.Event()

    def job(trigger: PipelineTrigger) -> None:
        seen.append(trigger)
        release.wait(5)
        if trigger.variables.get("FAIL"):
            raise RuntimeError("job failed")

    with FakeGitLab("glptt-secret", job, project_id="42") as server:
        server.seen = seen  # type: ignore[attr-defined]
        server.release = release  # type: ignore[attr-defined]
        yield server


def _post(url: str, form: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_trigger_runs_the_job_with_the_variables(gitlab: FakeGitLab) -> None:
    status, body = _post(
        f"{gitlab.url}/api/v4/projects/42/trigger/pipeline",
        {
            "token": "glptt-secret",
            "ref": "main",
            "variables[MLOPS_JOB]": "deploy-on-approval",
            "variables[MODEL_PACKAGE_ARN]": "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/3",
        },
    )
    assert status == 201
    assert body["ref"] == "main"
    assert body["status"] == "pending"
    assert body["source"] == "trigger"
    assert body["web_url"].endswith(f"/-/pipelines/{body['id']}")
    gitlab.release.set()  # type: ignore[attr-defined]
    assert gitlab.wait_idle(10)
    (trigger,) = gitlab.seen  # type: ignore[attr-defined]
    assert trigger.variables == {
        "MLOPS_JOB": "deploy-on-approval",
        "MODEL_PACKAGE_ARN": "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/3",
    }
    with urllib.request.urlopen(
        f"{gitlab.url}/api/v4/projects/42/pipelines/{body['id']}", timeout=10
    ) as response:
        assert json.loads(response.read())["status"] == "success"


def test_failing_job_is_reported_failed(gitlab: FakeGitLab) -> None:
    gitlab.release.set()  # type: ignore[attr-defined]
    _post(
        f"{gitlab.url}/api/v4/projects/42/trigger/pipeline",
        {"token": "glptt-secret", "ref": "main", "variables[FAIL]": "1"},
    )
    assert gitlab.wait_idle(10)
    assert gitlab.triggers[0].status == "failed"
    assert gitlab.triggers[0].error == "job failed"


@pytest.mark.parametrize(
    ("form", "project", "status", "body"),
    [
        ({"token": "wrong", "ref": "main"}, "42", 404, {"message": "404 Not Found"}),
        ({"token": "glptt-secret", "ref": "main"}, "43", 404, {"message": "404 Not Found"}),
        ({"ref": "main"}, "42", 400, {"error": "token is missing"}),
        ({"token": "glptt-secret"}, "42", 400, {"error": "ref is missing"}),
    ],
)
def test_rejected_triggers(
    gitlab: FakeGitLab, form: dict[str, str], project: str, status: int, body: Any
) -> None:
    assert _post(f"{gitlab.url}/api/v4/projects/{project}/trigger/pipeline", form) == (status, body)
    assert gitlab.triggers == []
