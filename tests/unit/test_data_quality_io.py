"""data_quality.py at its edges: the command line, bad inputs, atomic outputs, CSV engines, reports."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import data_quality as dq
import dq_report
import numpy as np
import pytest
from dq_errors import InputDataError
from step_io import StepError, report_error

from tests.unit.test_data_quality import abalone_frame, load, write_csv

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
# data_quality.py and the flat modules it imports (shipped beside it, on PYTHONPATH in the jobs).
MY_SCRIPTS = ("data_quality.py", "step_io.py", *sorted(path.name for path in SCRIPTS.glob("dq_*.py")))


# ------------------------------------------------------------------------------- container Python


@pytest.mark.parametrize("name", MY_SCRIPTS)
def test_scripts_parse_as_python_3_8(name: str) -> None:
    source = (SCRIPTS / name).read_text()
    ast.parse(source, feature_version=(3, 8))
    assert "removeprefix" not in source and "removesuffix" not in source
    assert "from __future__ import annotations" in source


@pytest.mark.parametrize("name", MY_SCRIPTS)
def test_scripts_import_only_stdlib_and_numpy_unconditionally(name: str) -> None:
    tree = ast.parse((SCRIPTS / name).read_text())
    top_level = set()
    for node in tree.body:  # imports inside try/except are the optional ones
        if isinstance(node, ast.Import):
            top_level.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.add(node.module.split(".")[0])
    siblings = {Path(script).stem for script in MY_SCRIPTS}  # not datafiles: it imports pandas
    third_party = top_level - set(sys.stdlib_module_names) - {"__future__"} - siblings
    assert third_party <= {"numpy"}


def test_runs_without_pyarrow(tmp_path: Path) -> None:
    """The SKLearn container may lack pyarrow: the pandas engine takes over, same results."""
    source = write_csv(abalone_frame(300), tmp_path / "in" / "data.csv")
    code = (
        f"import runpy, sys; sys.path.insert(0, {str(SCRIPTS)!r}); sys.modules['pyarrow'] = None; "
        f"sys.argv = ['data_quality.py', 'baseline', '--input', {str(source.parent)!r}, "
        f"'--output', {str(tmp_path / 'out')!r}, '--header', '--no-report']; "
        f"runpy.run_path({str(SCRIPTS / 'data_quality.py')!r}, run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    dq.run_baseline(str(source), str(tmp_path / "arrow"), header=True, report=False, engine="arrow")
    assert load(tmp_path / "out", "statistics.json") == load(tmp_path / "arrow", "statistics.json")


# ------------------------------------------------------------------------------------ command line


def test_command_line_contract(tmp_path: Path) -> None:
    """The exact command lines the pipeline runs, with inputs laid out as processing inputs deliver them."""
    training = write_csv(abalone_frame(), tmp_path / "opt" / "input" / "training-data.csv")
    script = str(SCRIPTS / "data_quality.py")
    baseline_out = tmp_path / "opt" / "baseline-output"
    done = subprocess.run(
        [
            sys.executable,
            script,
            "baseline",
            "--input",
            str(training.parent),
            "--output",
            str(baseline_out),
            "--header",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(baseline_out)) == ["constraints.json", "report.html", "statistics.json"]
    # The check's processing inputs: one directory per baseline file.
    stats_dir, constraints_dir = tmp_path / "baseline" / "statistics", tmp_path / "baseline" / "constraints"
    stats_dir.mkdir(parents=True)
    constraints_dir.mkdir(parents=True)
    (stats_dir / "statistics.json").write_bytes((baseline_out / "statistics.json").read_bytes())
    (constraints_dir / "constraints.json").write_bytes((baseline_out / "constraints.json").read_bytes())
    current = abalone_frame(seed=2)
    current["length"] += 0.1
    batch = write_csv(current, tmp_path / "opt" / "check-input" / "inference-data.csv")
    check_out = tmp_path / "opt" / "check-output"
    done = subprocess.run(
        [
            sys.executable,
            script,
            "check",
            "--input",
            str(batch.parent),
            "--baseline-statistics",
            str(stats_dir),
            "--baseline-constraints",
            str(constraints_dir),
            "--output",
            str(check_out),
            "--header",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr  # violations notify; they do not fail the step
    assert "1 violations (baseline_drift_check: 1)" in done.stdout
    assert sorted(os.listdir(check_out)) == [
        "constraint_violations.json",
        "drift_metrics.json",
        "report.html",
        "statistics.json",
        "summary.json",
    ]
    assert load(check_out, "summary.json")["violations_by_type"]["baseline_drift_check"] == 1


def test_fail_on_violations_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv(abalone_frame(), tmp_path / "train.csv")
    assert (
        dq.main(
            ["baseline", "--input", str(source), "--output", str(tmp_path / "b"), "--header", "--no-report"]
        )
        == 0
    )
    batch = write_csv(abalone_frame().drop(columns=["sex"]), tmp_path / "batch.csv")
    args = ["check", "--input", str(batch), "--baseline-statistics", str(tmp_path / "b" / "statistics.json")]
    args += [
        "--baseline-constraints",
        str(tmp_path / "b"),
        "--output",
        str(tmp_path / "c"),
        "--header",
        "--no-report",
    ]
    assert dq.main(args) == 0
    assert dq.main([*args, "--fail-on-violations"]) == 3
    clean = write_csv(abalone_frame(), tmp_path / "clean.csv")
    assert dq.main([*args[:2], str(clean), *args[3:], "--fail-on-violations"]) == 0
    capsys.readouterr()


def test_defaults_are_the_container_paths() -> None:
    args = dq.build_parser().parse_args(["check"])
    assert args.input == "/opt/ml/processing/input"
    assert args.output == "/opt/ml/processing/output"
    assert args.baseline_statistics == "/opt/ml/processing/baseline/statistics"
    assert args.baseline_constraints == "/opt/ml/processing/baseline/constraints"
    assert args.header is False and args.fail_on_violations is False


# --------------------------------------------------------------------------------------- bad input

BAD_INPUTS = [
    ("empty file", "", "the input file is empty", None),
    ("only a header", "a,b,c\n", "the input file has no data rows (only a header)", None),
    (
        "ragged: too many fields",
        "a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n",
        "ragged row: 4 fields where the header has 3",
        "row 4",
    ),
    (
        "ragged: too few fields",
        "a,b,c\n1,2,3\n4,5\n7,8,9\n",
        "ragged row: 2 fields where the header has 3",
        "row 3",
    ),
    ("column entirely missing", "a,b,c\n1,,3\n4,,6\n", "the column has no values at all", "column b"),
    ("infinite value", "a,b,c\n1,2,3\n4,inf,6\n", "infinite value inf", "row 3 / column b"),
    ("duplicate names", "a,b,a\n1,2,3\n", "column name 'a' appears twice in the header", "row 1 / column a"),
    ("unnamed column", "a,,c\n1,2,3\n", "header column 2 has no name", "row 1"),
]


@pytest.mark.parametrize("engine", ["arrow", "pandas"])
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_one_clear_line_and_leaves_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str, case: tuple[str, str, str, str | None]
) -> None:
    label, content, what, where = case
    source = tmp_path / "in.csv"
    source.write_text(content)
    out = tmp_path / "out"
    code = dq.main(
        ["baseline", "--input", str(source), "--output", str(out), "--header", "--csv-engine", engine]
    )
    err = capsys.readouterr().err
    assert code == 2, label
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ERROR: {what} ({source}")
    assert where is None or f"{source}, {where})" in lines[0]
    assert ". Fix: " in lines[0]
    assert not out.exists()


def test_errors_are_step_errors_in_the_data_quality_layout(capsys: pytest.CaptureFixture[str]) -> None:
    error = InputDataError("bad\nthing", file="f.csv", row=3, column="a  b", fix="do\nthis")
    assert isinstance(error, StepError)
    assert str(error) == "bad thing (f.csv, row 3 / column a  b). Fix: do this"
    assert report_error(error) == 2
    assert capsys.readouterr().err == f"ERROR: {error}\n"


def test_text_in_a_numeric_column_makes_it_a_string_as_model_monitor_does(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("a,b,c\n1,2,3\n4,Unknown,6\n7,8,9\n10,11,12\n")
    dq.run_baseline(str(source), str(tmp_path / "out"), header=True, report=False)
    features = json.loads((tmp_path / "out" / "statistics.json").read_text())["features"]
    assert [f["inferred_type"] for f in features] == ["Integral", "String", "Integral"]


def test_baseline_file_that_is_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv(abalone_frame(50), tmp_path / "in.csv")
    broken = tmp_path / "statistics.json"
    broken.write_text('{"version": 0,\n "features": [\n')
    good = tmp_path / "constraints.json"
    good.write_text(json.dumps({"version": 0, "features": []}))
    args = [
        "check",
        "--input",
        str(source),
        "--baseline-statistics",
        str(broken),
        "--baseline-constraints",
        str(good),
    ]
    assert dq.main([*args, "--output", str(tmp_path / "out"), "--header"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ERROR: baseline statistics is not valid JSON: Expecting value at line 3, column 1")
    assert f"({broken})" in err and "Fix: " in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ reports


def test_reports_are_self_contained_pages_with_charts(tmp_path: Path) -> None:
    source = write_csv(abalone_frame(), tmp_path / "in.csv")
    dq.run_baseline(str(source), str(tmp_path / "b"), header=True)
    drifted = abalone_frame(seed=4).assign(length=lambda f: f["length"] + 0.1).drop(columns=["sex"])
    batch = write_csv(drifted, tmp_path / "batch.csv")
    dq.run_check(str(batch), str(tmp_path / "b"), str(tmp_path / "b"), str(tmp_path / "c"), header=True)
    baseline_page = (tmp_path / "b" / "report.html").read_text()
    check_page = (tmp_path / "c" / "report.html").read_text()
    for page in (baseline_page, check_page):
        assert page.startswith("<!doctype html>") and "<svg" in page
        assert "<script" not in page and "<link" not in page and "src=" not in page
        assert "shell_weight" in page
    assert check_page.count("<svg") == 9  # one chart per column
    assert "baseline_drift_check" in check_page and "missing_column_check" in check_page
    assert "Baseline drift distance" in check_page
    assert "2 violations" in check_page


def test_model_quality_report(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(1, 30, 5000).astype(float)
    predicted = truth + rng.normal(0, 2, 5000)
    layout = {
        "regression_metrics": {"rmse": {"value": 2.01, "standard_deviation": 0.02}, "r2": {"value": 0.8}}
    }
    out = tmp_path / "reports" / "model_quality.html"
    assert dq_report.model_quality_report(predicted, truth, layout, str(out)) == str(out)
    page = out.read_text()
    assert page.count("<svg") == 3 and "Predicted vs actual" in page and "Residual" in page
    assert "rmse" in page and "2.01" in page and "0.02" in page
    assert os.listdir(out.parent) == ["model_quality.html"]
    flat = tmp_path / "flat.html"
    dq_report.model_quality_report([1.0, 2.0], [1.5, 2.5], {"mae": 0.5, "mse": 0.25}, str(flat))
    assert "mae" in flat.read_text()
    with pytest.raises(ValueError, match="2 predictions but 1 ground-truth values"):
        dq_report.model_quality_report([1.0, 2.0], [1.0], {}, str(flat))


def test_fast_path_does_not_import_pandas(tmp_path: Path) -> None:
    """pyarrow imports pandas (~0.4 s) on many conversions; the arrow path must avoid all of them."""
    source = write_csv(abalone_frame(200), tmp_path / "in.csv")
    code = (
        f"import sys; sys.path.insert(0, {str(SCRIPTS)!r}); import data_quality as dq; "
        f"dq.run_baseline({str(source)!r}, {str(tmp_path / 'b')!r}, header=True); "
        f"dq.run_check({str(source)!r}, {str(tmp_path / 'b')!r}, {str(tmp_path / 'b')!r}, "
        f"{str(tmp_path / 'c')!r}, header=True); print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
