"""The step scripts (``scripts/*.py``, run inside the SageMaker jobs) as modules, for the few places the
CLI must apply exactly their rules: the data set schema's validation (``dataset``), the metric table
(``metrics``) and the upload pre-check (``datafiles``).

In the jobs they are flat modules that import each other by plain name (``import metrics``), and
``scripts/`` imports nothing of this project; here they are imported the same way, with ``scripts/`` first
on ``sys.path`` only while they load. They keep their plain names in ``sys.modules`` (as in the test suite,
where ``scripts/`` is on the path), so a script module is one module whichever side imports it.
"""

from __future__ import annotations

import importlib
import sys
import threading
from pathlib import Path
from types import ModuleType

from pipeline_scripts.errors import MlopsError
from pipeline_scripts.paths import SCRIPTS_DIR, rel

_lock = threading.Lock()


def load(name: str) -> ModuleType:
    """``scripts/<name>.py`` as the module ``name`` (loaded once per process)."""
    path = SCRIPTS_DIR / f"{name}.py"
    if not path.is_file():
        raise MlopsError(f"{rel(path)} not found", hint="restore it from git")
    with _lock:
        loaded = sys.modules.get(name)
        if loaded is not None:
            _check_origin(loaded, path)
            return loaded
        sys.path.insert(0, str(SCRIPTS_DIR))
        try:
            module = importlib.import_module(name)
        finally:
            sys.path.remove(str(SCRIPTS_DIR))
    _check_origin(module, path)
    return module


def _check_origin(module: ModuleType, path: Path) -> None:
    origin = getattr(module, "__file__", None)
    if origin is None or Path(origin).resolve() != path.resolve():
        raise MlopsError(
            f"a module named {module.__name__!r} from {origin} shadows {rel(path)}",
            hint="rename or uninstall the other module; the step scripts need their plain names",
        )
