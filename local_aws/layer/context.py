"""What the layer's handlers share, handed to each explicitly: ``LayerContext`` (who the endpoint is,
clients to it, moto behind it, the bus for the events a write causes), and the interfaces of the
pipeline executor (``Executor``) and of the server that owns the layer (``Control``). ``Handler`` is what
each service's handler offers the router."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from werkzeug.wrappers import Response

from local_aws.common.endpoint import EndpointClients
from local_aws.events.bus import EventBus
from local_aws.layer.http import Call, Moto

log = logging.getLogger("local_aws.layer")


class Handler(Protocol):
    """One service on the layer: answers a request or returns None (moto answers); keeps its own state."""

    def handle(self, call: Call, /) -> Response | None: ...

    def reset(self) -> None: ...


class Executor(Protocol):
    """The pipeline executor's interface (``local_aws.executor.PipelineExecutor``).

    ``start`` is where StartPipelineExecution's idempotency lives: the same ``client_request_token`` for
    the same pipeline returns the execution it started first (``local_aws.executor.idempotency``)."""

    def start(
        self,
        pipeline_arn: str,
        pipeline_name: str,
        definition: Any,
        parameters: list[dict[str, str]],
        /,
        *,
        display_name: str | None = None,
        description: str | None = None,
        client_request_token: str | None = None,
    ) -> str: ...

    def describe(self, arn: str, /) -> dict[str, Any]: ...

    def list_executions(self, pipeline_arn: str, /) -> Any: ...

    def list_steps(self, arn: str, /) -> Any: ...

    def stop(self, arn: str, /) -> Any: ...

    def wait(self, arn: str, timeout: float, /) -> Any: ...

    def shutdown(self) -> None: ...


class Control(Protocol):
    """What ``/_local/reset``, ``/_local/wait`` and ``/moto-api/reset`` ask of the server owning the layer."""

    def reset(self) -> None: ...

    def reset_extensions(self) -> None: ...

    def wait_idle(self, timeout: float = 60.0) -> bool: ...


@dataclass(frozen=True)
class LayerContext:
    """Who the endpoint is, clients to it, moto behind it and the bus: what every handler may use."""

    account_id: str
    region: str
    clients: EndpointClients
    moto: Moto
    bus: EventBus
    quiet: threading.Event = field(default_factory=threading.Event)  # set: replaying, nothing is emitted

    def emit(self, build: Callable[[], dict[str, Any]]) -> None:
        """Put the event ``build()`` makes on the bus. Like AWS's own emission this never fails the API call
        that caused it: the write has happened; a problem building the event is logged. Nothing is emitted
        while the journal is replayed (``quiet``): those events were emitted when the writes happened."""
        if self.quiet.is_set():
            return
        try:
            self.bus.put(build())
        except Exception:
            log.exception("could not emit the event for this request")
