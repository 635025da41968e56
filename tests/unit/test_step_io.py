"""Errors, exit codes and staged writing shared by every step script and the data-quality scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from step_io import StepError, report_error, staged_outputs


def test_step_error_renders_one_line_with_location() -> None:
    error = StepError("bad\nthing", fix="do this", file="f.csv", row=3, column="2 'length'")
    assert str(error) == "bad thing (f.csv, row 3, column 2 'length'). Fix: do this"
    assert str(StepError("x", fix="y")) == "x. Fix: y"


def test_report_error_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert report_error(StepError("oops", fix="fix it", file="a.csv")) == 2
    err = capsys.readouterr().err
    assert err == "ERROR: oops (a.csv). Fix: fix it\n"


def test_staged_outputs_commit_and_discard(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [1.5, 2.0]})
    with pytest.raises(RuntimeError), staged_outputs() as stage:
        stage.write_csv(tmp_path / "out" / "x.csv", frame)
        temporary = stage.path(tmp_path / "out" / "model.json")
        assert Path(temporary).name.startswith(".") and temporary.endswith("model.json")
        raise RuntimeError("boom")
    assert list((tmp_path / "out").iterdir()) == []


def test_json_indented_or_compact(tmp_path: Path) -> None:
    document = {"a": [1, 2.5], "b": {"c": None}}
    with staged_outputs() as stage:
        stage.write_json(tmp_path / "indented.json", document)
        stage.write_json(tmp_path / "compact.json", document, compact=True)
    assert (tmp_path / "indented.json").read_bytes() == (
        b'{\n  "a": [\n    1,\n    2.5\n  ],\n  "b": {\n    "c": null\n  }\n}\n'
    )
    assert (tmp_path / "compact.json").read_bytes() == b'{"a":[1,2.5],"b":{"c":null}}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compact.json", "indented.json"]
