"""The WSGI layer in front of moto's server: what moto lacks, at the HTTP level, nothing patched.

Requests are recognised the way AWS routes them (``router``: SigV4 credential scope, ``X-Amz-Target`` for
the JSON protocols, the REST path for Lambda and S3, ``Action=`` for SNS's query protocol) and go to one
handler object per service. Intercepted:

- ``sagemaker``: pipeline executions (start, describe, list, steps, stop, definition, parameters) are
  served by the local pipeline executor; ``DescribePipeline`` always returns the definition as a string;
  ``CreateModelPackage``/``UpdateModelPackage`` emit "SageMaker Model Package State Change" and updates
  no longer wipe the fields they do not name (moto sets them to None).
- ``events``: ``PutEvents`` goes to the local ``EventBus`` (moto never delivers).
- ``s3``: the bucket's EventBridge flag is kept here (moto never sees it, so its own emission, which
  ignores rule state and aborts on Lambda targets, cannot run) and object creation emits "Object Created".
- ``lambda_api``: Lambda code is captured on CreateFunction/UpdateFunctionCode; Invoke runs the handler
  (no Docker).
- ``sns``: ``Publish``/``PublishBatch`` are recorded in ``notifications.jsonl``.
- ``local``: ``/_local/{notifications,events,executions,reset,health,wait,schedule/<rule>}``, and
  ``/moto-api/reset`` resets the layer too.

Everything else reaches moto untouched. With a ``journal.Journal``, every mutating request answered with
success is journaled (fsync'd) before its answer goes out, and ``replay`` sends it through again on the
next start (nothing is emitted meanwhile: ``LayerContext.quiet``). Each handler owns its own state and
receives what it shares (``context.LayerContext``: account, region, clients, moto, bus; plus its Lambda
runner, logs, executor or server ``Control``); ``http`` holds the request, AWS-shaped errors and
forwarding to moto.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Response

from local_aws.common.endpoint import EndpointClients
from local_aws.common.logs import EventLog, JsonlLog
from local_aws.events.bus import EventBus
from local_aws.lambdas.runner import LambdaRunner
from local_aws.layer.context import Control, Executor, LayerContext
from local_aws.layer.events import EventsHandler
from local_aws.layer.http import ApiError, Call, Forwarded, Moto, WSGIApp, aws_json_error
from local_aws.layer.journal import Entry, Journal, answer_of, is_journaled, request_environ
from local_aws.layer.lambda_api import LambdaHandler
from local_aws.layer.local import LocalHandler, MotoResetHook
from local_aws.layer.router import Router
from local_aws.layer.s3 import S3Handler
from local_aws.layer.sagemaker import SageMakerHandler, merge_package_update
from local_aws.layer.sns import SnsHandler

__all__ = ["ApiError", "Call", "Control", "Executor", "Forwarded", "LocalLayer", "merge_package_update"]

log = logging.getLogger(__name__)


class LocalLayer:
    """The WSGI app: the router's handler answers, or moto does."""

    def __init__(
        self,
        moto_app: WSGIApp,
        *,
        account_id: str,
        region: str,
        clients: EndpointClients,
        bus: EventBus,
        lambdas: LambdaRunner,
        notifications: JsonlLog,
        records: EventLog,
        executor: Callable[[], Executor | None],
        control: Control,
        journal: Journal | None = None,
    ) -> None:
        self.moto = Moto(moto_app)
        self.journal = journal
        quiet = journal.paused if journal is not None else threading.Event()
        context = LayerContext(account_id, region, clients, self.moto, bus, quiet=quiet)
        self.sagemaker = SageMakerHandler(context, executor)
        self.router = Router.for_services(
            {
                "local": LocalHandler(
                    context,
                    notifications=notifications,
                    records=records,
                    executions=self.sagemaker.executions,
                    control=control,
                ),
                "moto-reset": MotoResetHook(control),
                "sagemaker": self.sagemaker,
                "events": EventsHandler(context),
                "lambda": LambdaHandler(context, lambdas),
                "sns": SnsHandler(context, notifications),
                "s3": S3Handler(context),
            }
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        call = Call(environ)
        journal = self.journal
        if journal is not None and not journal.paused.is_set() and is_journaled(call):
            return self._journaled(call, journal)(environ, start_response)
        response = self._route(call)
        if response is None:
            return self.moto(environ, start_response)
        return response(environ, start_response)

    def _route(self, call: Call) -> Response | None:
        try:
            return self.router.route(call)
        except Exception:
            log.exception("local layer failed on %s %s", call.method, call.path)
            return aws_json_error(ApiError("InternalFailure", "local endpoint error (see its log)", 500))

    def _journaled(self, call: Call, journal: Journal) -> Response:
        """Answer a mutating request; a success is in the journal (fsync'd) before the client hears of it."""
        seq = journal.claim()  # the order requests arrived in: dependent requests replay in order
        body = call.body()
        response = self._route(call)
        forwarded = self.moto.forward(call) if response is None else None
        if forwarded is None:
            assert response is not None  # noqa: S101  (narrows a type the line above guarantees)
            forwarded = Forwarded(response.status_code, list(response.headers.items()), response.get_data())
        if forwarded.ok:
            text, headers = answer_of(forwarded)
            journal.append(Entry(seq, request_environ(call), body, text, headers))
        return forwarded.response() if response is None else response

    def executions(self) -> list[dict[str, Any]]:
        """The executions started through the endpoint, described (``/_local/executions``)."""
        return self.sagemaker.executions()

    def running_executions(self) -> list[str]:
        return self.sagemaker.running_executions()

    def reset(self) -> None:
        """Every handler forgets its own state (the server resets the bus, Lambdas, logs and executor); the
        journal is emptied."""
        self.router.reset()
        if self.journal is not None:
            self.journal.clear()
