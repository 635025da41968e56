"""The step scripts (``scripts/*.py``, run inside the SageMaker jobs) as modules, for the few places the
CLI must apply exactly their rules (the upload pre-check, the metric directions).

They are loaded from their files, not imported as a package: in the jobs they are flat modules, and
``scripts/`` imports nothing of this project.
"""

from __future__ import annotations

import functools
import importlib.util
from types import ModuleType

from pipeline_scripts.errors import MlopsError
from pipeline_scripts.paths import SCRIPTS_DIR, rel


@functools.cache
def load(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module, loaded once per process. Only for scripts that import no
    sibling script (``datafiles``, ``metrics``)."""
    path = SCRIPTS_DIR / f"{name}.py"
    if not path.is_file():
        raise MlopsError(f"{rel(path)} not found", hint="restore it from git")
    spec = importlib.util.spec_from_file_location(f"mlops_step_scripts.{name}", path)
    if spec is None or spec.loader is None:
        raise MlopsError(f"{rel(path)} cannot be loaded as a module", hint="restore it from git")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
