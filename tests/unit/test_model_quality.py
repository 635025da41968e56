"""model_quality.py: Model Monitor's layout, threshold directions, exit codes, results never lost."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import model_quality
import pytest

TRUTH = [9.0, 10.0, 7.0, 12.0, 15.0, 8.0, 11.0, 10.0]


def write_lines(path: Path, values: list[float]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{value}\n" for value in values))
    return path


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    write_lines(tmp_path / "predictions" / "predictions.csv", [value + 1.0 for value in TRUTH])  # rmse 1.0
    write_lines(tmp_path / "ground_truth" / "ground-truth.csv", TRUTH)
    return {
        "predictions": tmp_path / "predictions",
        "ground_truth": tmp_path / "ground_truth",
        "output": tmp_path / "out",
    }


def argv(dirs: dict[str, Path], *extra: str) -> list[str]:
    return [
        "--predictions",
        str(dirs["predictions"]),
        "--ground-truth",
        str(dirs["ground_truth"]),
        "--output",
        str(dirs["output"]),
        *extra,
    ]


def read_report(dirs: dict[str, Path]) -> dict:
    return json.loads((dirs["output"] / "model_quality.json").read_text())


def test_pass_exits_0_and_writes_model_monitor_layout(
    dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert model_quality.main(argv(dirs, "--metric", "rmse", "--threshold", "3.0")) == 0
    assert capsys.readouterr().err == ""
    report = read_report(dirs)
    assert list(report) == ["version", "dataset", "regression_metrics", "threshold_check"]
    assert report["version"] == 0.0
    assert report["dataset"]["item_count"] == 8
    datetime.datetime.strptime(report["dataset"]["evaluation_time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert list(report["regression_metrics"]) == ["mae", "mse", "rmse", "r2"]
    assert report["regression_metrics"]["rmse"]["value"] == pytest.approx(1.0)
    assert report["regression_metrics"]["mae"]["value"] == pytest.approx(1.0)
    assert report["threshold_check"] == {
        "metric": "rmse",
        "value": pytest.approx(1.0),
        "threshold": 3.0,
        "comparison": "<=",
        "passed": True,
    }


def test_breach_exits_1_still_writes_json_and_says_why(
    dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert model_quality.main(argv(dirs, "--threshold", "0.5")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("MODEL QUALITY FAILED: rmse 1.000 exceeds threshold 0.500 on 8 rows (")
    assert "predictions.csv vs " in err and "ground-truth.csv)" in err
    assert err.rstrip().endswith("This failure is the retraining signal.")
    assert read_report(dirs)["threshold_check"]["passed"] is False
    # The report people look at is written on failure too: that is when they need it.
    page = (dirs["output"] / "model_quality_report.html").read_text()
    assert "<h1>Model quality</h1>" in page and "8 predictions with ground truth" in page
    assert page.count("<svg") >= 2  # predicted vs actual, residuals


def test_pass_writes_the_html_report_next_to_the_json(dirs: dict[str, Path]) -> None:
    assert model_quality.main(argv(dirs, "--threshold", "3.0")) == 0
    assert sorted(p.name for p in dirs["output"].iterdir()) == [
        "model_quality.json",
        "model_quality_report.html",
    ]
    page = (dirs["output"] / "model_quality_report.html").read_text()
    assert "rmse" in page and "<svg" in page


def test_r2_is_higher_is_better(dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert model_quality.main(argv(dirs, "--metric", "r2", "--threshold", "0.0")) == 0
    assert model_quality.main(argv(dirs, "--metric", "r2", "--threshold", "0.99")) == 1
    assert "r2 0.816 is below threshold 0.990" in capsys.readouterr().err
    assert read_report(dirs)["threshold_check"]["comparison"] == ">="


def test_threshold_check_directions() -> None:
    assert model_quality.threshold_check("mae", "regression", 2.0, 2.0)["passed"] is True
    assert model_quality.threshold_check("mse", "regression", 2.1, 2.0)["passed"] is False
    assert model_quality.threshold_check("r2", "regression", 0.5, 0.5)["passed"] is True
    assert model_quality.threshold_check("r2", "regression", 0.4, 0.5)["passed"] is False
    assert model_quality.threshold_check("f1", "binary", 0.7, 0.7)["comparison"] == ">="
    assert model_quality.threshold_check("logloss", "multiclass", 0.9, 0.5)["passed"] is False


def test_report_is_pure() -> None:
    when = datetime.datetime(2026, 11, 24, 14, 30, 5, 123456, tzinfo=datetime.UTC)
    first = model_quality.model_quality_report(TRUTH, TRUTH, "mae", 0.1, when)
    assert first == model_quality.model_quality_report(TRUTH, TRUTH, "mae", 0.1, when)
    assert first["dataset"] == {"item_count": 8, "evaluation_time": "2026-11-24T14:30:05.123Z"}


def test_ground_truth_row_mismatch_exits_2_without_output(
    dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_lines(dirs["ground_truth"] / "ground-truth.csv", TRUTH[:-1])
    assert model_quality.main(argv(dirs, "--threshold", "3")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "8 predictions (" in err and "predictions.csv" in err
    assert "7 ground-truth rows (" in err and "ground-truth.csv" in err
    assert not dirs["output"].exists()


def test_ground_truth_header_exits_2(dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    (dirs["ground_truth"] / "ground-truth.csv").write_text("rings\n" + "1\n" * 8)
    assert model_quality.main(argv(dirs, "--threshold", "3")) == 2
    assert "header row" in capsys.readouterr().err
    assert not dirs["output"].exists()


def test_unknown_metric_is_a_step_error(dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert model_quality.main(argv(dirs, "--metric", "mape", "--threshold", "3")) == 2
    assert "'mape' is not a regression metric. Fix: use one of mse, rmse, mae, r2" in capsys.readouterr().err
    assert not (dirs["output"] / "model_quality.json").exists()


def test_an_undefined_metric_is_null_and_does_not_pass() -> None:
    """auc of a batch with one class present is undefined: null in the JSON (NaN is not JSON), failed."""
    import json

    import dataset
    import numpy as np

    schema = dataset.from_dict(
        {
            "problem_type": "binary",
            "target": {"name": "churn"},
            "classes": [0, 1],
            "features": [{"name": "tenure", "type": "numeric"}],
            "model_quality": {"metric": "auc", "threshold": 0.7},
        }
    )
    positive = np.array([0.9, 0.2, 0.7])
    when = datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC)
    report = model_quality.model_quality_report(
        np.array([1, 1, 1]), np.column_stack([1 - positive, positive]), "auc", 0.7, when, schema=schema
    )
    assert report["binary_classification_metrics"]["auc"]["value"] is None
    assert report["threshold_check"]["passed"] is False and report["threshold_check"]["value"] is None
    json.dumps(report, allow_nan=False)  # valid JSON
    assert "auc is undefined on these rows" in model_quality.failure_message(report, "p.csv", "g.csv")
