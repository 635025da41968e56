"""The Lambda zip is deterministic and holds exactly the handler modules and contracts.json
(pipeline_scripts.tooling.lambda_package); the handlers import from the unpacked zip alone."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline_scripts.config.contracts import CONTRACTS_FILE
from pipeline_scripts.tooling.lambda_package import LambdaPackageError, build_package, main

from .conftest import LAMBDA_SRC

HANDLER_MODULES = ["common.py", "deploy_trigger.py", "notifier.py", "pipeline_trigger.py"]
PACKAGE = sorted([*HANDLER_MODULES, "contracts.json"])


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(LAMBDA_SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    first = build_package(copy, tmp_path / "a" / "lambda_function.zip")
    # a checkout on another machine: other timestamps and permissions, same content
    for path in copy.glob("*.py"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
        path.chmod(0o600)
    second = build_package(copy, tmp_path / "b" / "lambda_function.zip")
    assert first.read_bytes() == second.read_bytes()
    assert build_package(LAMBDA_SRC, tmp_path / "c.zip").read_bytes() == first.read_bytes()


def test_content_is_exactly_the_handler_modules_and_the_contract(tmp_path: Path) -> None:
    out = build_package(LAMBDA_SRC, tmp_path / "lambda_function.zip")
    with zipfile.ZipFile(out) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == PACKAGE
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            source = CONTRACTS_FILE if info.filename == "contracts.json" else LAMBDA_SRC / info.filename
            assert archive.read(info) == source.read_bytes()


def test_the_handlers_run_from_the_unpacked_zip_alone(tmp_path: Path) -> None:
    """In the zip, contracts.json sits next to the modules (the repository root is not there)."""
    task = tmp_path / "task"
    with zipfile.ZipFile(build_package(LAMBDA_SRC, tmp_path / "lambda_function.zip")) as archive:
        archive.extractall(task)

    def import_handlers() -> subprocess.CompletedProcess[str]:
        probe = (
            "import sys; sys.path.insert(0, '.'); import common, pipeline_trigger; "
            "print(common.CONTRACTS_PATH, pipeline_trigger.MODEL_QUALITY_STEP)"
        )
        command = [sys.executable, "-I", "-c", probe]
        return subprocess.run(command, cwd=task, capture_output=True, text=True, check=False)

    done = import_handlers()
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str((task / "contracts.json").resolve()), "ModelQualityCalcStep"]
    (task / "contracts.json").unlink()
    done = import_handlers()
    assert done.returncode != 0
    assert "ConfigurationError: contracts.json not found at" in done.stderr
    assert "make lambda-package" in done.stderr


def test_a_missing_contract_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LambdaPackageError, match=re.escape("nope.json does not exist")):
        build_package(LAMBDA_SRC, tmp_path / "out.zip", tmp_path / "nope.json")


def test_only_python_sources_are_packaged(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "__pycache__").mkdir(parents=True)
    (src / "__pycache__" / "b.cpython-312.pyc").write_bytes(b"\0")
    (src / "__pycache__" / "stale.py").write_text("x = 1\n")
    (src / "pkg").mkdir()
    (src / "pkg" / "z.py").write_text("z = 1\n")
    (src / "b.py").write_text("b = 1\n")
    (src / "a.py").write_text("a = 1\n")
    (src / "notes.md").write_text("not code\n")
    os.utime(src / "a.py", (0, 10**9))
    out = build_package(src, tmp_path / "out.zip")
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["a.py", "b.py", "contracts.json", "pkg/z.py"]
    # content changes do change the hash
    before = hashlib.sha256(out.read_bytes()).hexdigest()
    (src / "a.py").write_text("a = 2\n")
    after = hashlib.sha256(build_package(src, out).read_bytes()).hexdigest()
    assert before != after


def test_main_writes_the_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "build" / "lambda" / "lambda_function.zip"
    assert main(["--src", str(LAMBDA_SRC), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == PACKAGE


def test_main_reports_a_missing_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--src", str(tmp_path / "nope"), "--out", str(tmp_path / "x.zip")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["--src", str(tmp_path / "empty"), "--out", str(tmp_path / "x.zip")]) == 2
    assert "no .py files" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()
