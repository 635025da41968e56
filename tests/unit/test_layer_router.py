"""The layer's router: which handler a request reaches, by the rules AWS routes with, in their order."""

from __future__ import annotations

import io
from typing import Any

import pytest
from werkzeug.wrappers import Response

from local_aws.layer.http import Call
from local_aws.layer.router import RULES, Router


def scope(service: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host"
    )


class Recorder:
    def __init__(self, service: str, seen: list[str]) -> None:
        self.service, self.seen, self.resets = service, seen, 0

    def handle(self, call: Call) -> Response | None:
        self.seen.append(self.service)
        return None

    def reset(self) -> None:
        self.resets += 1


def environ(method: str = "GET", path: str = "/", body: bytes = b"", **headers: str) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    env.update(headers)
    return env


def build() -> tuple[Router, list[str], list[Recorder]]:
    seen: list[str] = []
    recorders = [Recorder(service, seen) for service, _ in RULES]
    return Router.for_services({r.service: r for r in recorders}), seen, recorders


SNS_FORM = b"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At&Message=hi"


@pytest.mark.parametrize(
    ("request_environ", "expected"),
    [
        (environ(path="/_local/health"), "local"),
        (environ(path="/_local"), "local"),
        (environ("POST", "/moto-api/reset"), "moto-reset"),
        (environ("GET", "/moto-api/reset"), "s3"),  # only POST resets; no scope, no target: S3's rule
        (
            environ(
                "POST",
                "/",
                HTTP_X_AMZ_TARGET="SageMaker.StartPipelineExecution",
                HTTP_AUTHORIZATION=scope("sagemaker"),
            ),
            "sagemaker",
        ),
        (environ("POST", "/", HTTP_X_AMZ_TARGET="AWSEvents.PutEvents"), "events"),
        (
            environ("POST", "/", HTTP_X_AMZ_TARGET="AWSEvents.PutRule", HTTP_AUTHORIZATION=scope("events")),
            None,
        ),
        (
            environ("POST", "/2015-03-31/functions/f/invocations", HTTP_AUTHORIZATION=scope("lambda")),
            "lambda",
        ),
        (environ("POST", "/2015-03-31/functions/f/invocations"), "lambda"),
        (environ("POST", "/", SNS_FORM, HTTP_AUTHORIZATION=scope("sns")), "sns"),
        (environ("POST", "/", SNS_FORM, CONTENT_TYPE="application/x-www-form-urlencoded"), "sns"),
        (environ("PUT", "/bucket/key", HTTP_AUTHORIZATION=scope("s3")), "s3"),
        (environ("PUT", "/bucket/key"), "s3"),
        (environ("POST", "/", HTTP_AUTHORIZATION=scope("sqs")), None),
    ],
)
def test_each_request_reaches_the_first_matching_handler(
    request_environ: dict[str, Any], expected: str | None
) -> None:
    router, seen, _ = build()
    assert router.route(Call(request_environ)) is None  # the recorders let moto answer
    assert seen == ([expected] if expected else [])


def test_the_rules_keep_their_order() -> None:
    assert [service for service, _ in RULES] == [
        "local",
        "moto-reset",
        "sagemaker",
        "events",
        "lambda",
        "sns",
        "s3",
    ]


def test_every_service_needs_its_handler() -> None:
    with pytest.raises(ValueError, match="one handler for each"):
        Router.for_services({"local": Recorder("local", [])})


def test_reset_asks_every_handler() -> None:
    router, _, recorders = build()
    router.reset()
    assert [r.resets for r in recorders] == [1] * len(RULES)
