"""`mlops local up` as a user runs it: a foreground process whose printed exports are all a client gets."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
Started = tuple["subprocess.Popen[str]", dict[str, str], list[str]]


@contextmanager
def local_up(state: Path, *extra: str, home: Path | None = None, timeout: float = 60) -> Iterator[Started]:
    """`mlops local up --port 0 --state-dir state`; yields the process, the env it exports and its output.
    ``home``: no ~/.aws of the developer's (default: the state's parent)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLOPS_"))}
    env["HOME"] = str(home or state.parent)
    server = subprocess.Popen(
        [str(BIN / "mlops"), "local", "up", "--port", "0", "--state-dir", str(state), *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in server.stdout or []], daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while not any(line.strip().startswith("export AWS_REGION=") for line in seen):
            assert server.poll() is None, "mlops local up exited:\n" + "".join(seen)
            assert time.monotonic() < deadline, "no exports:\n" + "".join(seen)
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        for line in seen:
            key, sep, value = line.strip().removeprefix("export ").partition("=")
            if sep and key.startswith("AWS_"):
                env[key] = value
        yield server, env, seen
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(30)
        if server.stdout is not None:
            server.stdout.close()
