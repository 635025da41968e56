"""Deploy trigger: an approved model version starts the GitLab deploy pipeline.

"SageMaker Model Package State Change" with ``ModelApprovalStatus`` ``Approved`` in this project's model
package group -> ``POST {GITLAB_URL}/api/v4/projects/{GITLAB_PROJECT_ID}/trigger/pipeline`` (GitLab
"Pipeline trigger tokens API": form fields ``token``, ``ref``, ``variables[KEY]``), which runs the
``deploy-on-approval`` job. The trigger token comes from Secrets Manager (``GITLAB_TOKEN_SECRET_ARN``:
a plain string, or JSON with key ``token``) and is never logged.

Environment: ``GITLAB_URL``, ``GITLAB_PROJECT_ID``, ``GITLAB_REF``, ``GITLAB_TOKEN_SECRET_ARN``,
``ENVIRONMENT``, ``MODEL_PACKAGE_GROUP_NAME``, ``LOG_LEVEL``.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import common
from common import MalformedEventError, ModelPackageStateChange

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
DEPLOY_JOB = "deploy-on-approval"


class GitLabTriggerError(RuntimeError):
    """GitLab refused or could not be reached. Raised, so Lambda retries and then dead-letters the event."""


@dataclass(frozen=True)
class DeployConfig:
    gitlab_url: str
    project_id: str
    ref: str
    token_secret_arn: str
    environment: str
    model_package_group: str


@dataclass(frozen=True)
class TriggerRequest:
    url: str
    form: tuple[tuple[str, str], ...]

    def encoded(self) -> bytes:
        return urllib.parse.urlencode(self.form).encode("ascii")


@dataclass(frozen=True)
class Ignore:
    reason: str


def load_config() -> DeployConfig:
    url = common.env("GITLAB_URL").rstrip("/")
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise common.ConfigurationError(f"GITLAB_URL {url!r} must start with https:// (or http://)")
    return DeployConfig(
        gitlab_url=url,
        project_id=common.env("GITLAB_PROJECT_ID"),
        ref=common.env("GITLAB_REF"),
        token_secret_arn=common.env("GITLAB_TOKEN_SECRET_ARN"),
        environment=common.env("ENVIRONMENT"),
        model_package_group=common.env("MODEL_PACKAGE_GROUP_NAME"),
    )


# --------------------------------------------------------------------------- decisions (pure)


def build_trigger(
    event: ModelPackageStateChange, config: DeployConfig, token: str
) -> TriggerRequest | Ignore:
    """The GitLab trigger request for an approval of this group's model, or why nothing is deployed."""
    if event.group_name != config.model_package_group:
        return Ignore(
            f"model package group {event.group_name!r} is not this project's ({config.model_package_group!r})"
        )
    if event.approval_status != "Approved":
        return Ignore(f"{event.package_arn} is {event.approval_status}, only Approved versions are deployed")
    # A project may be given by numeric id or by its URL-encoded path ("group%2Fproject").
    project = urllib.parse.quote(config.project_id, safe="")
    return TriggerRequest(
        url=f"{config.gitlab_url}/api/v4/projects/{project}/trigger/pipeline",
        form=(
            ("token", token),
            ("ref", config.ref),
            ("variables[DEPLOY_ENVIRONMENT]", config.environment),
            ("variables[MODEL_PACKAGE_ARN]", event.package_arn),
            ("variables[MLOPS_JOB]", DEPLOY_JOB),
        ),
    )


def token_from_secret(secret_string: str) -> str:
    """The trigger token: the secret itself, or its JSON ``token`` key."""
    text = secret_string.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text).get("token", "")
        except (json.JSONDecodeError, AttributeError):
            value = ""
        text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise common.ConfigurationError(
            "the GitLab token secret is empty: store the pipeline trigger token as the secret string "
            'or as {"token": "..."}'
        )
    return text


def gitlab_error_message(status: int, body: bytes) -> str:
    """GitLab answers ``{"message": ...}`` (or ``{"error": ...}``); fall back to the raw text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        payload = None
    if isinstance(payload, dict):
        found = payload.get("message") or payload.get("error")
        if found is not None:
            text = found if isinstance(found, str) else json.dumps(found, sort_keys=True)
    hint = {
        400: "check GITLAB_REF names an existing branch or tag",
        401: "the trigger token is invalid or revoked: rotate the secret",
        403: "the trigger token may not run pipelines on this ref",
        404: "check GITLAB_PROJECT_ID and that the trigger token belongs to that project",
    }.get(status, "")
    return f"{text[:500] or 'no message'}" + (f" ({hint})" if hint else "")


# --------------------------------------------------------------------------- side effects


def read_token(secrets: Any, secret_arn: str) -> str:
    response = secrets.get_secret_value(SecretId=secret_arn)
    if "SecretString" not in response:
        raise common.ConfigurationError(f"secret {secret_arn} has no SecretString: store the token as text")
    return token_from_secret(str(response["SecretString"]))


def post_trigger(request: TriggerRequest) -> dict[str, Any]:
    """POST the form; GitLabTriggerError on an HTTP error or an unreachable server."""
    # The URL is GITLAB_URL, whose scheme load_config restricts to http(s): no file: or custom schemes.
    http_request = urllib.request.Request(  # noqa: S310  (scheme checked in load_config)
        request.url,
        data=request.encoded(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(http_request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  (http(s) only)
            body = response.read()
    except urllib.error.HTTPError as exc:
        try:
            message = gitlab_error_message(exc.code, exc.read())
        finally:
            exc.close()
        raise GitLabTriggerError(f"GitLab answered HTTP {exc.code} to POST {request.url}: {message}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GitLabTriggerError(f"could not reach GitLab at {request.url}: {reason}") from exc
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as exc:
        raise GitLabTriggerError(f"GitLab answered POST {request.url} with non-JSON: {body[:200]!r}") from exc
    if not isinstance(payload, dict) or "id" not in payload:
        raise GitLabTriggerError(f"GitLab answered POST {request.url} without a pipeline id: {payload!r}")
    return payload


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    common.configure_logging()
    try:
        parsed = common.parse_event(event)
    except MalformedEventError as exc:
        return common.dropped(exc.reason, event)
    if not isinstance(parsed, ModelPackageStateChange):
        return common.dropped(f"the deploy trigger does not handle {parsed.envelope.detail_type!r}", event)
    config = load_config()
    # Decide before reading the secret: ignored events need no token and no Secrets Manager call.
    decision = build_trigger(parsed, config, token="")
    if isinstance(decision, Ignore):
        return common.ignored(decision.reason)
    token = read_token(common.client("secretsmanager"), config.token_secret_arn)
    request = build_trigger(parsed, config, token)
    if not isinstance(request, TriggerRequest):  # the same event and config decided "trigger" above
        raise RuntimeError(f"the deploy decision changed between two calls: {request!r}")
    payload = post_trigger(request)
    log.info(
        "GitLab pipeline %s started for %s: %s", payload["id"], parsed.package_arn, payload.get("web_url")
    )
    return {
        "status": "triggered",
        "pipeline_id": payload["id"],
        "web_url": payload.get("web_url", ""),
        "model_package_arn": parsed.package_arn,
    }
