"""Build the Lambda deployment zip deterministically: the same source gives the same bytes.

Terraform's ``source_code_hash`` is the zip's SHA-256, so a rebuild that changes nothing but timestamps
or file order would redeploy every function. Entries are sorted, dated 1980-01-01 (the earliest date a
zip can hold), have fixed permissions, and only ``*.py`` files outside ``__pycache__`` are included, plus
``contracts.json`` from the repository root at the zip root (the handlers read their shared names from it).

    python -m pipeline_scripts.tooling.lambda_package --out build/lambda/lambda_function.zip
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from pipeline_scripts.config.contracts import CONTRACTS_FILE
from pipeline_scripts.paths import PROJECT_ROOT

DEFAULT_SRC = PROJECT_ROOT / "code" / "lambda_function"
DEFAULT_OUT = PROJECT_ROOT / "build" / "lambda" / "lambda_function.zip"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--


class LambdaPackageError(RuntimeError):
    """The source folder is missing or holds no handler modules."""


def package_files(src: Path) -> list[Path]:
    """The files that go into the zip, sorted by their path inside it."""
    files = [
        path
        for path in src.rglob("*.py")
        if path.is_file() and "__pycache__" not in path.relative_to(src).parts
    ]
    return sorted(files, key=lambda path: path.relative_to(src).as_posix())


def build_package(src: Path, out: Path, contracts: Path = CONTRACTS_FILE) -> Path:
    """Write the zip of ``src``'s Python files and ``contracts`` to ``out`` and return ``out``."""
    if not src.is_dir():
        raise LambdaPackageError(f"Lambda source folder {src} does not exist: pass --src")
    files = package_files(src)
    if not files:
        raise LambdaPackageError(f"{src} holds no .py files: nothing to package")
    if not contracts.is_file():
        raise LambdaPackageError(f"{contracts} does not exist: the handlers need it at the zip root")
    entries = {path.relative_to(src).as_posix(): path for path in files}
    entries[CONTRACTS_FILE.name] = contracts  # where the handlers look for it
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(entries):
            path = entries[name]
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, so the mode bits mean the same on every build machine
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    tmp.replace(out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline_scripts.tooling.lambda_package", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--src", type=Path, default=DEFAULT_SRC, help="handler sources (default: %(default)s)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="zip to write (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        out = build_package(args.src, args.out)
    except LambdaPackageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
