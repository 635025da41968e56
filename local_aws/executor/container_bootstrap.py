"""Run a job's Python program as if ``/opt/ml`` were the job's local tree: ``python container_bootstrap.py
ROOT PROGRAM [ARGS...]``.

The step scripts keep their container paths as argparse defaults (``--input`` defaults to
``/opt/ml/processing/input``), and a definition may rely on them. Arguments that name container paths
are mapped by the step handler; this maps the defaults: every string (or list of strings) default under
``/opt/ml`` given to argparse becomes ``ROOT/opt/ml/...``. Then PROGRAM runs as ``__main__`` with
``sys.argv = [PROGRAM, *ARGS]`` and its directory first on ``sys.path``, as ``python PROGRAM`` runs it.
Literal container paths elsewhere in a program are not mapped.

Standard library only: it runs in the job's interpreter before the program's own imports.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from typing import Any

CONTAINER_ROOT = "/opt/ml"


def map_value(value: Any, root: str) -> Any:
    if isinstance(value, str) and (value == CONTAINER_ROOT or value.startswith(CONTAINER_ROOT + "/")):
        return root.rstrip("/") + value
    if isinstance(value, list | tuple):
        return type(value)(map_value(item, root) for item in value)
    return value


def install(root: str) -> None:
    """Patch argparse so container-path defaults point into ``root``."""
    container: Any = argparse._ActionsContainer
    add_argument = container.add_argument
    set_defaults = container.set_defaults

    def mapped_add_argument(self: Any, *args: Any, **kwargs: Any) -> Any:
        if "default" in kwargs:
            kwargs["default"] = map_value(kwargs["default"], root)
        return add_argument(self, *args, **kwargs)

    def mapped_set_defaults(self: Any, **kwargs: Any) -> Any:
        return set_defaults(self, **{key: map_value(value, root) for key, value in kwargs.items()})

    container.add_argument = mapped_add_argument
    container.set_defaults = mapped_set_defaults


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: container_bootstrap.py ROOT PROGRAM [ARGS...]")
    root, program, *arguments = sys.argv[1:]
    install(root)
    sys.argv = [program, *arguments]
    sys.path[0] = os.path.dirname(os.path.abspath(program))
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
