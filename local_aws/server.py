"""The local AWS endpoint: moto's server app behind ``LocalLayer``, on one port, no Docker.

In-process::

    with LocalAWS(state_dir) as aws:        # port 0: a free port
        boto3.client("s3", endpoint_url=aws.endpoint_url)...
        aws.wait_idle(60)                  # until events, Lambda runs and pipeline executions settle

Foreground (``mlops local up`` or ``python -m local_aws.server``): ``serve_forever(state_dir, port)``.

One account (123456789012) and one region. moto keeps its state in this process's memory (a second
``LocalAWS`` in the same process shares it); ``state_dir`` holds what survives the process: the journal
of every AWS write (``journal/``, replayed on the next start: ``local_aws.layer.journal``), captured Lambda
code, Lambda logs, ``notifications.jsonl``, ``events.jsonl`` and the pipeline executor's work directories
(executions running when the process died come back Failed). ``fresh=True`` starts from nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import Client

from local_aws.common.endpoint import ACCOUNT_ID, DEFAULT_REGION, DUMMY_CREDENTIALS, EndpointClients
from local_aws.common.logs import EventLog, JsonlLog
from local_aws.events.bus import EventBus
from local_aws.events.scheduler import Scheduler
from local_aws.lambdas.runner import DEFAULT_RETRY_DELAYS, LambdaRunner
from local_aws.layer import Executor, LocalLayer
from local_aws.layer.journal import JOURNAL_DIR, Journal
from local_aws.layer.replay import Replayed, replay

log = logging.getLogger(__name__)

DEFAULT_PORT = 4566
# What the endpoint keeps in its state directory (``fresh`` removes these, and nothing else there).
STATE_ENTRIES = (
    JOURNAL_DIR,
    "executions",
    "functions",
    "logs",
    "cache",
    "notifications.jsonl",
    "events.jsonl",
)
ExecutorFactory = Callable[..., Executor]


class _QuietHandler(MotoRequestHandler):
    """moto's request handler (keeps underscored S3 metadata headers), logging requests at DEBUG."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug('"%s" %s %s', self.requestline, code, size)


def _default_executor_factory() -> ExecutorFactory:
    """The pipeline executor, emitting its events with contracts.json's detail-types."""
    import functools

    from local_aws.executor import PipelineExecutor
    from pipeline_scripts.config.contracts import load as load_contracts

    factory: ExecutorFactory = functools.partial(PipelineExecutor, detail_types=load_contracts().detail_types)
    return factory


class LocalAWS:
    def __init__(
        self,
        state_dir: Path,
        port: int = 0,
        host: str = "127.0.0.1",
        region: str = DEFAULT_REGION,
        *,
        executor_factory: ExecutorFactory | None = None,
        max_workers: int = 2,
        lambda_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        schedule_interval: float = 1.0,
        durable: bool = True,
        fresh: bool = False,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()  # subprocesses (Lambdas, steps) run elsewhere
        self.port = port
        self.host = host
        self.region = region
        self.account_id = ACCOUNT_ID
        self.max_workers = max_workers
        self.lambda_retry_delays = lambda_retry_delays
        self.schedule_interval = schedule_interval
        self._executor_factory = executor_factory
        self.durable = durable
        self.fresh = fresh
        self.restored = Replayed()
        self._executor: Executor | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._moto: DomainDispatcherApplication | None = None
        self.clients: EndpointClients
        self.lambdas: LambdaRunner
        self.bus: EventBus
        self.scheduler: Scheduler
        self.layer: LocalLayer
        self.records = EventLog()
        self.notifications_log: JsonlLog

    # --- lifecycle ----------------------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalAWS is not started: call start() first")
        return f"http://{self.host}:{self._server.server_port}"

    @property
    def executor(self) -> Executor | None:
        return self._executor

    def start(self) -> LocalAWS:
        if self._server is not None:
            return self
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.fresh:
            clear_state(self.state_dir)
        self.records = EventLog(path=self.state_dir / "events.jsonl" if self.durable else None)
        self.notifications_log = JsonlLog(self.state_dir / "notifications.jsonl")
        journal = Journal(self.state_dir / JOURNAL_DIR) if self.durable else None
        self._moto = DomainDispatcherApplication(create_backend_app)
        # Bind first (port 0 → a free port), then build what needs the endpoint URL, then serve.
        self._server = make_server(
            self.host, self.port, self._dispatch, threaded=True, request_handler=_QuietHandler
        )
        self.clients = EndpointClients(self.endpoint_url, self.region)
        self.lambdas = LambdaRunner(
            self.state_dir, self.clients, account_id=self.account_id, retry_delays=self.lambda_retry_delays
        )
        self.bus = EventBus(
            self.clients, self.lambdas, self.records, account_id=self.account_id, region=self.region
        )
        self.layer = LocalLayer(
            self._moto,
            account_id=self.account_id,
            region=self.region,
            clients=self.clients,
            bus=self.bus,
            lambdas=self.lambdas,
            notifications=self.notifications_log,
            records=self.records,
            executor=lambda: self._executor,
            control=self,
            journal=journal,
        )
        self._executor = self._new_executor()  # executions of an earlier run: reloaded, running ones Failed
        self.layer.sagemaker.restore()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="local-aws", daemon=True
        )
        self._thread.start()
        if self.fresh:
            self._reset_moto()  # moto's state is per process: nothing of an earlier LocalAWS in it either
        if journal is not None:
            self._replay(journal)
        self.scheduler = Scheduler(self.bus, interval=self.schedule_interval)
        self.scheduler.start()
        log.debug("local AWS endpoint on %s (state in %s)", self.endpoint_url, self.state_dir)
        return self

    def _replay(self, journal: Journal) -> None:
        """Bring back the AWS state of an earlier run: its journal, through the layer, on an empty moto
        (replayed requests call the endpoint back, e.g. a Lambda's code from S3: the server is up)."""
        if journal.path.exists() and journal.path.stat().st_size:
            self._reset_moto()
            self.restored = replay(self.layer, journal, self.host, self.port_bound)
            log.info(
                "restored %d AWS requests from %s in %.1f s (%d refused)",
                self.restored.requests,
                journal.path,
                self.restored.seconds,
                self.restored.failed,
            )
        journal.start(self.restored.last_seq)

    @property
    def port_bound(self) -> int:
        return self._server.server_port if self._server is not None else self.port

    def _reset_moto(self) -> None:
        assert self._moto is not None  # noqa: S101  (narrows a type the line above guarantees)
        response = Client(self._moto).post("/moto-api/reset")
        if response.status_code != 200:
            raise RuntimeError(f"moto reset failed: {response.status_code} {response.get_data(as_text=True)}")

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.layer(environ, start_response)

    def _new_executor(self) -> Executor:
        factory = self._executor_factory or _default_executor_factory()
        return factory(
            self.clients,
            self.state_dir,  # the executor keeps its records under <state_dir>/executions/<id>/
            self.bus.put,
            self.account_id,
            self.region,
            max_workers=self.max_workers,
        )

    def stop(self) -> None:
        if self._server is None:
            return
        self.scheduler.stop()
        if self._executor is not None:
            self._executor.shutdown()
        self.bus.shutdown()
        self.lambdas.shutdown()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        log.info("local AWS endpoint stopped")

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- control (also behind /_local/reset and /_local/wait) ---------------------------------------------

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until the cascade settles: no queued events, Lambda runs or executing pipelines."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not self.bus.wait_idle(remaining):
                return False
            running = self.layer.running_executions()
            if not running and not self.bus.busy:
                return True
            for arn in running:
                if self._executor is not None:
                    with contextlib.suppress(TimeoutError, LookupError):
                        self._executor.wait(arn, max(0.0, deadline - time.monotonic()))
            time.sleep(0.05)

    def reset_extensions(self) -> None:
        """Forget everything the layer adds (events, notifications, executions, captured code)."""
        self.scheduler.reset()
        self.bus.reset()
        self.lambdas.reset()
        if self._executor is not None:
            self._executor.shutdown()
        shutil.rmtree(self.state_dir / "executions", ignore_errors=True)
        self._executor = self._new_executor()
        self.layer.reset()
        self.records.clear()
        self.notifications_log.clear()

    def reset(self) -> None:
        """A clean endpoint: moto's state (through its own /moto-api/reset) and the layer's."""
        self.reset_extensions()
        self._reset_moto()

    # --- what happened ----------------------------------------------------------------------------------

    def notifications(self) -> list[dict[str, Any]]:
        return self.notifications_log.read()

    def events(self) -> list[dict[str, Any]]:
        return self.records.snapshot()

    def executions(self) -> list[dict[str, Any]]:
        return self.layer.executions()


def clear_state(state_dir: Path) -> list[str]:
    """Remove what an endpoint keeps in ``state_dir`` (``STATE_ENTRIES``); returns the names removed."""
    removed = []
    for name in STATE_ENTRIES:
        path = state_dir / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed


def exports(endpoint_url: str, region: str) -> list[str]:
    """The shell lines that point the AWS CLI, boto3, the SageMaker SDK and Terraform at the endpoint."""
    lines = [f"export AWS_ENDPOINT_URL={endpoint_url}"]
    lines += [f"export {key}={value}" for key, value in DUMMY_CREDENTIALS.items()]
    lines += [f"export AWS_DEFAULT_REGION={region}", f"export AWS_REGION={region}"]
    return lines


def export_to(environ: MutableMapping[str, str], endpoint_url: str, region: str) -> None:
    """Set what ``exports`` prints in ``environ`` (e.g. ``os.environ``, for subprocesses started later)."""
    for line in exports(endpoint_url, region):
        key, _, value = line.removeprefix("export ").partition("=")
        environ[key] = value


def serve_forever(
    state_dir: Path,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    region: str = DEFAULT_REGION,
    on_start: Callable[[LocalAWS], None] | None = None,
    *,
    fresh: bool = False,
) -> int:
    """Run the endpoint in the foreground until Ctrl-C (``mlops local up``).

    ``on_start`` runs once the endpoint answers (``mlops local up --provision`` creates the resources).
    The state of an earlier run in ``state_dir`` comes back, unless ``fresh``.
    """
    server = LocalAWS(state_dir, port=port, host=host, region=region, fresh=fresh)
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        print("hint: another endpoint is running there; pick another port with --port", file=sys.stderr)
        return 2
    if on_start is not None:
        try:
            on_start(server)
        except Exception as exc:
            server.stop()
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(_state_line(server))
    print(f"local AWS endpoint on {server.endpoint_url} (state: {server.state_dir}); Ctrl-C stops it")
    print("point your shell at it:")
    for line in exports(server.endpoint_url, region):
        print(f"  {line}")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        server.stop()
    return 0


def _state_line(server: LocalAWS) -> str:
    if server.fresh:
        return f"starting fresh: the state in {server.state_dir} was removed"
    restored = server.restored
    if not restored.requests:
        return f"no earlier state in {server.state_dir}: starting empty"
    refused = f", {restored.failed} refused (see the log)" if restored.failed else ""
    return (
        f"restored the earlier state from {server.state_dir}: {restored.requests} AWS requests replayed in "
        f"{restored.seconds:.1f} s{refused}; --fresh starts empty"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_aws.server", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, default=Path(".local_aws"))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--fresh", action="store_true", help="start empty (remove the earlier state)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s"
    )
    return serve_forever(args.state_dir, args.port, args.host, args.region, fresh=args.fresh)


if __name__ == "__main__":
    sys.exit(main())
