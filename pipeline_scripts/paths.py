"""Where the project's files are: one project root, and every path derived from it.

The root is the repository checkout the ``mlops`` command works on. In a source checkout (an editable
install, the tests, CI) it is the folder above this package. When the package is installed into a
virtual environment (``pip install .``), the command is run from the checkout: the root is then found
by walking up from the current directory to the folder that holds ``env_files/``. ``MLOPS_PROJECT_ROOT``
names it explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

MARKER = "env_files"  # a folder every checkout of this template has at its root


def find_project_root(start: Path | None = None) -> Path:
    """The checkout's root (see the module docstring); the package's parent when nothing else fits."""
    explicit = os.environ.get("MLOPS_PROJECT_ROOT")
    if explicit:
        return Path(explicit).resolve()
    source_checkout = Path(__file__).resolve().parent.parent
    if (source_checkout / MARKER).is_dir():
        return source_checkout
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_dir():
            return folder
    return source_checkout


PROJECT_ROOT = find_project_root()
ENV_DIR = PROJECT_ROOT / "env_files"
SCRIPTS_DIR = PROJECT_ROOT / "scripts"
DATA_DIR = PROJECT_ROOT / "data"
BUILD_DIR = PROJECT_ROOT / "build"
LAMBDA_SOURCE_DIR = PROJECT_ROOT / "code" / "lambda_function"
LAMBDA_ZIP = BUILD_DIR / "lambda" / "lambda_function.zip"
CONTRACTS_FILE = PROJECT_ROOT / "contracts.json"


def rel(path: Path) -> str:
    """``path`` relative to the project root when it is inside it (for messages), else as given."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
