"""`mlops demo` and `mlops local …` reach the emulator's own parser (local_aws/cli.py) with their options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_scripts.cli import EXIT_ERROR, main


def test_demo_definitions_only_passes_its_options_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--definitions-only", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "built and validated 3 definitions for env local" in out
    assert "ModelQualityCalcStep" in out
    steps = json.loads((tmp_path / "definitions" / "training.json").read_text())["Steps"]
    assert steps[0]["Name"] == "PreprocessData"


def test_local_help_is_the_emulator_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["local", "--help"])
    assert exit_info.value.code == 0
    assert "usage: mlops local [-h] {up,notifications,events}" in capsys.readouterr().out


def test_demo_refuses_another_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env", "dev", "demo"]) == EXIT_ERROR
    assert "error: the demo runs the local environment, not 'dev'" in capsys.readouterr().err


def test_unknown_options_of_production_commands_are_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["pipelines", "status", "--bogus"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
