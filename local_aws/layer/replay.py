"""Replaying the journal (``journal.Journal``) through the layer when the endpoint starts again.

moto generates some ids anew (KMS key ids, Secrets Manager ARN suffixes, S3 version and upload ids, SNS
subscription ARNs): ``IdMap`` compares each journaled answer with the replayed one and rewrites the old
ids in the requests that follow, so a request naming a key by the id it was given still finds it.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from local_aws.layer.journal import INLINE_BODY_LIMIT, Entry, Journal

log = logging.getLogger("local_aws.layer")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{7,}")
_NOT_AN_ID = re.compile(r"[\d\-T:.Z]+")  # numbers, dates and times differ on replay and name nothing
_CHECKSUMS = ("HTTP_CONTENT_MD5", "HTTP_X_AMZ_CHECKSUM_", "HTTP_X_AMZ_CONTENT_SHA256")


@dataclass
class IdMap:
    """Old generated id → the one the replay generated."""

    ids: dict[str, str] = field(default_factory=dict)

    def learn(self, old: str, new: str) -> None:
        if not old or old == new:
            return
        before, after = _TOKEN.findall(old), _TOKEN.findall(new)
        if len(before) != len(after):
            return
        for a, b in zip(before, after, strict=True):
            if a != b and not _NOT_AN_ID.fullmatch(a):
                self.ids[a] = b

    def apply(self, text: str) -> str:
        if not self.ids:
            return text
        return _TOKEN.sub(lambda m: self.ids.get(m.group(), m.group()), text)


@dataclass
class Replayed:
    """What a replay did: entries sent, entries moto refused (logged), seconds, the last sequence."""

    requests: int = 0
    failed: int = 0
    seconds: float = 0.0
    last_seq: int = 0


def replay(app: WSGIApp, journal: Journal, host: str, port: int) -> Replayed:
    """Send every journaled request through ``app`` in sequence order (the journal paused meanwhile)."""
    started = time.monotonic()
    outcome = Replayed()
    ids = IdMap()
    journal.paused.set()
    try:
        for entry in journal.entries():
            outcome.requests += 1
            outcome.last_seq = max(outcome.last_seq, entry.seq)
            status, body, headers = _send(app, _environ(entry, ids, host, port))
            if status >= 300:
                outcome.failed += 1
                log.warning(
                    "replay: %s %s answered %d: %s",
                    entry.environ.get("REQUEST_METHOD"),
                    entry.environ.get("PATH_INFO"),
                    status,
                    body[:300].decode("utf-8", "replace"),
                )
                continue
            ids.learn(
                entry.response, body.decode("utf-8", "replace") if len(body) <= INLINE_BODY_LIMIT else ""
            )
            for name, old in entry.response_headers.items():
                ids.learn(old, headers.get(name, old))
    finally:
        journal.paused.clear()
    outcome.seconds = time.monotonic() - started
    return outcome


def _environ(entry: Entry, ids: IdMap, host: str, port: int) -> dict[str, Any]:
    environ: dict[str, Any] = {
        k: ids.apply(v) if k != "HTTP_AUTHORIZATION" else v for k, v in entry.environ.items()
    }
    body = entry.body
    if ids.ids and len(body) <= INLINE_BODY_LIMIT:
        try:
            rewritten = ids.apply(body.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            rewritten = body
        if rewritten != body:
            body = rewritten
            for key in [k for k in environ if k.startswith(_CHECKSUMS)]:
                del environ[key]
    environ.update(
        {
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "SCRIPT_NAME": "",
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
    )
    environ.setdefault("HTTP_HOST", f"{host}:{port}")
    return environ


def _send(app: WSGIApp, environ: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    captured: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[..., Any]:
        captured["status"], captured["headers"] = status, headers
        return lambda _data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    headers = {k.lower(): v for k, v in captured.get("headers", [])}
    return int(str(captured.get("status", "500")).split()[0]), body, headers
