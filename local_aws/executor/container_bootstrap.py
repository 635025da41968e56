"""Run a job's Python program as if ``/opt/ml`` were the job's local tree: ``python container_bootstrap.py
ROOT PROGRAM [ARGS...]``.

The step scripts keep their container paths as argparse defaults (``--input`` defaults to
``/opt/ml/processing/input``), and a definition may rely on them. Arguments that name container paths
are mapped by the step handler; this maps the rest:

- argparse defaults: every string (or list of strings) default under ``/opt/ml`` becomes
  ``ROOT/opt/ml/...``;
- literal paths: Python's file functions (``open``, the ``os`` functions that take paths, and what is built
  on them: ``os.path``, ``pathlib``, ``glob``, ``shutil``, pandas' and numpy's file reading and writing)
  read and write ``ROOT/opt/ml/...`` when given a path under ``/opt/ml``, so
  ``pd.read_csv("/opt/ml/processing/input/data.csv")`` works as in the container. Not mapped: paths handed
  to native code that opens files itself (e.g. ``xgboost.Booster.save_model(path)``, pyarrow's own
  filesystem) and commands the program runs in subprocesses.

Then PROGRAM runs as ``__main__`` with ``sys.argv = [PROGRAM, *ARGS]`` and its directory first on
``sys.path``, as ``python PROGRAM`` runs it.

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


# os functions whose leading arguments are paths: name → how many leading arguments are paths.
PATH_FUNCTIONS = {
    "open": 1,
    "stat": 1,
    "lstat": 1,
    "listdir": 1,
    "scandir": 1,
    "mkdir": 1,
    "rmdir": 1,
    "remove": 1,
    "unlink": 1,
    "chmod": 1,
    "access": 1,
    "utime": 1,
    "chdir": 1,
    "truncate": 1,
    "readlink": 1,
    "rename": 2,
    "replace": 2,
    "link": 2,
    "symlink": 2,
}


def remap_file_functions(root: str) -> None:
    """Make Python's file functions read and write ``root/opt/ml/...`` for paths under ``/opt/ml``."""
    import builtins
    import io

    root = root.rstrip("/")

    def mapped(path: Any) -> Any:
        raw = os.fspath(path) if isinstance(path, os.PathLike) else path
        if isinstance(raw, bytes):
            text = raw.decode(errors="surrogateescape")
            result = mapped(text)
            return result.encode(errors="surrogateescape") if result is not text else path
        under_container = isinstance(raw, str) and (raw + "/").startswith(CONTAINER_ROOT + "/")
        return root + raw if under_container and not raw.startswith(root + "/") else path

    def wrap(function: Any, count: int) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            args = tuple(mapped(a) if i < count else a for i, a in enumerate(args))
            for key in ("path", "file", "src", "dst"):
                if key in kwargs:
                    kwargs[key] = mapped(kwargs[key])
            return function(*args, **kwargs)

        wrapper.__name__ = getattr(function, "__name__", "wrapper")
        wrapper.__doc__ = function.__doc__
        return wrapper

    capabilities = [os.supports_dir_fd, os.supports_fd, os.supports_follow_symlinks]
    for name, count in PATH_FUNCTIONS.items():
        if hasattr(os, name):
            original = getattr(os, name)
            wrapper = wrap(original, count)
            setattr(os, name, wrapper)
            for supported in capabilities:  # shutil.rmtree and others check these sets for the functions
                if original in supported:
                    supported.add(wrapper)
    opener = wrap(io.open, 1)
    builtins.open = opener
    io.open = opener


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: container_bootstrap.py ROOT PROGRAM [ARGS...]")
    root, program, *arguments = sys.argv[1:]
    install(root)
    remap_file_functions(root)
    sys.argv = [program, *arguments]
    sys.path[0] = os.path.dirname(os.path.abspath(program))
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
