"""How the layer recognises the service a request is for, the way AWS routes it, and dispatches it.

``RULES`` are tried in order; the first that matches names the service, whose handler answers or returns
None (moto answers). No rule matches: moto answers.

1. ``local``: the path is ``/_local`` or under it (the endpoint's extensions);
2. ``moto-reset``: ``POST /moto-api/reset`` (the layer resets too, then moto);
3. ``sagemaker``: ``X-Amz-Target: SageMaker.<Action>`` (JSON 1.1);
4. ``events``: ``X-Amz-Target: AWSEvents.PutEvents`` (other EventBridge actions: moto);
5. ``lambda``: the SigV4 credential scope says ``lambda`` (or nothing) and the path is Lambda's REST
   ``/<version>/functions[/<name>[/<sub>]]``;
6. ``sns``: the credential scope says ``sns``, or, with no scope, a form POST whose ``Action=`` is
   ``Publish``/``PublishBatch`` to an SNS ARN;
7. ``s3``: the credential scope says ``s3`` (or nothing) and there is no ``X-Amz-Target``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from werkzeug.wrappers import Response

from local_aws.layer.context import Handler
from local_aws.layer.http import Call
from local_aws.layer.lambda_api import LAMBDA_PATH


def is_local(call: Call) -> bool:
    return call.path == "/_local" or call.path.startswith("/_local/")


def is_moto_reset(call: Call) -> bool:
    return call.path.startswith("/moto-api/reset") and call.method == "POST"


def is_sagemaker(call: Call) -> bool:
    return call.target.startswith("SageMaker.")


def is_put_events(call: Call) -> bool:
    return call.target == "AWSEvents.PutEvents"


def is_lambda(call: Call) -> bool:
    return call.service in ("lambda", None) and LAMBDA_PATH.match(call.path) is not None


def is_sns(call: Call) -> bool:
    service = call.service
    return service == "sns" or (service is None and call.method == "POST" and _looks_like_sns(call))


def is_s3(call: Call) -> bool:
    return call.service in ("s3", None) and not call.target


def _looks_like_sns(call: Call) -> bool:
    if not call.environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return False
    form = call.form()
    return form.get("Action") in ("Publish", "PublishBatch") and ":sns:" in (
        form.get("TopicArn", "") + form.get("TargetArn", "")
    )


Rule = Callable[[Call], bool]
RULES: tuple[tuple[str, Rule], ...] = (
    ("local", is_local),
    ("moto-reset", is_moto_reset),
    ("sagemaker", is_sagemaker),
    ("events", is_put_events),
    ("lambda", is_lambda),
    ("sns", is_sns),
    ("s3", is_s3),
)


@dataclass(frozen=True)
class Route:
    """A service: the rule that recognises its requests and the handler that serves them."""

    service: str
    matches: Rule
    handler: Handler


class Router:
    """The first matching route's handler answers (None: moto does); ``reset`` resets every handler."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = tuple(routes)

    @classmethod
    def for_services(cls, handlers: Mapping[str, Handler]) -> Router:
        """``RULES`` in their order, each service served by ``handlers[service]`` (one for each)."""
        if set(handlers) != {service for service, _ in RULES}:
            raise ValueError(f"one handler for each of {[service for service, _ in RULES]}")
        return cls([Route(service, matches, handlers[service]) for service, matches in RULES])

    def route(self, call: Call) -> Response | None:
        for route in self.routes:
            if route.matches(call):
                return route.handler.handle(call)
        return None

    def reset(self) -> None:
        """Each handler forgets its own state."""
        for route in self.routes:
            route.handler.reset()
