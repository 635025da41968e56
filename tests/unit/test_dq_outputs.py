"""The data-quality outputs (scripts/dq_outputs.py): all of them or none, and the output directory."""

from __future__ import annotations

import os
from pathlib import Path

import data_quality as dq
import dq_report
import pytest

from tests.unit.test_data_quality import abalone_frame, load, validate, write_csv


def test_failed_run_keeps_previous_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "statistics.json").write_text("previous")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    assert dq.main(["baseline", "--input", str(bad), "--output", str(out), "--header"]) == 2
    capsys.readouterr()
    assert os.listdir(out) == ["statistics.json"]
    assert (out / "statistics.json").read_text() == "previous"


def test_failure_while_writing_leaves_nothing_half_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "constraints.json").write_text("previous")
    source = write_csv(abalone_frame(50), tmp_path / "in.csv")

    def broken(payload: object, path: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dq_report, "write_baseline_report", broken)
    with pytest.raises(OSError, match="No space left"):
        dq.run_baseline(str(source), str(out), header=True)
    assert os.listdir(out) == ["constraints.json"]  # no statistics.json, no temporary directory
    assert (out / "constraints.json").read_text() == "previous"
    monkeypatch.undo()
    dq.run_baseline(str(source), str(out), header=True)
    assert sorted(os.listdir(out)) == ["constraints.json", "report.html", "statistics.json"]
    validate(load(out, "constraints.json"), "constraints")


def test_output_directory_that_cannot_be_written_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(abalone_frame(50), tmp_path / "in.csv")
    (tmp_path / "file").write_text("not a directory")
    out = tmp_path / "file" / "out"
    assert dq.main(["baseline", "--input", str(source), "--output", str(out), "--header"]) == 2
    err = capsys.readouterr().err
    what = "output directory cannot be written: Not a directory"
    assert err == f"ERROR: {what} ({out}). Fix: pass a writable --output\n"


def test_failed_run_removes_the_output_directory_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_csv(abalone_frame(50), tmp_path / "in.csv")

    def broken(payload: object, path: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dq_report, "write_baseline_report", broken)
    with pytest.raises(OSError, match="No space left"):
        dq.run_baseline(str(source), str(tmp_path / "new" / "out"), header=True)
    assert os.listdir(tmp_path / "new") == []


def test_statistics_are_written_compact_and_the_rest_indented(tmp_path: Path) -> None:
    source = write_csv(abalone_frame(50), tmp_path / "in.csv")
    result = dq.run_baseline(str(source), str(tmp_path / "out"), header=True, report=False)
    assert result.files == [str(tmp_path / "out" / name) for name in ("statistics.json", "constraints.json")]
    statistics = (tmp_path / "out" / "statistics.json").read_text()
    constraints = (tmp_path / "out" / "constraints.json").read_text()
    assert (
        statistics.startswith('{"version":0.0,"dataset":{"item_count":50},') and statistics.count("\n") == 1
    )
    assert constraints.startswith('{\n  "version": 0.0,\n  "features": [\n') and constraints.endswith("}\n")
