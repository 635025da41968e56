"""evaluate.py: regression metrics with bootstrap deviations, evaluation.json in SageMaker's layout."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import evaluate
import numpy as np
import pytest
from datafiles import DataError


def test_point_metrics_known_values() -> None:
    metrics = evaluate.regression_metrics([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 6.0])
    assert metrics["mse"]["value"] == 1.0
    assert metrics["rmse"]["value"] == 1.0
    assert metrics["mae"]["value"] == 0.5
    assert metrics["r2"]["value"] == pytest.approx(1 - 4 / 5)
    assert list(metrics) == ["mse", "rmse", "mae", "r2"]
    assert all(set(entry) == {"value", "standard_deviation"} for entry in metrics.values())


def test_bootstrap_is_reproducible_and_seeded() -> None:
    rng = np.random.RandomState(0)
    truth = rng.normal(10, 3, 500)
    predicted = truth + rng.normal(0, 2, 500)
    first = evaluate.regression_metrics(truth, predicted)
    assert first == evaluate.regression_metrics(truth, predicted)
    assert first != evaluate.regression_metrics(truth, predicted, seed=1)
    # The bootstrap deviation of the mean absolute error is close to its analytic standard error.
    analytic = np.std(np.abs(predicted - truth), ddof=1) / np.sqrt(500)
    assert first["mae"]["standard_deviation"] == pytest.approx(analytic, rel=0.3)


def test_perfect_and_constant_targets() -> None:
    perfect = evaluate.regression_metrics([5.0, 5.0, 5.0], [5.0, 5.0, 5.0])
    assert perfect["r2"] == {"value": 1.0, "standard_deviation": 0.0}
    assert perfect["rmse"] == {"value": 0.0, "standard_deviation": 0.0}
    assert evaluate.regression_metrics([5.0, 5.0], [4.0, 6.0])["r2"]["value"] == 0.0


def test_metrics_input_errors() -> None:
    with pytest.raises(DataError, match="3 true values but 2 predictions"):
        evaluate.regression_metrics([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match="no rows"):
        evaluate.regression_metrics([], [])


def test_main_writes_evaluation_json(trained: dict[str, Path], tmp_path: Path) -> None:
    argv = [
        "--model",
        str(trained["archive"]),
        "--test",
        str(trained["test"]),
        "--output",
        str(tmp_path / "ev"),
    ]
    assert evaluate.main(argv) == 0
    document = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert list(document) == ["regression_metrics"]
    assert set(document["regression_metrics"]) == {"mse", "rmse", "mae", "r2"}
    for entry in document["regression_metrics"].values():
        assert set(entry) == {"value", "standard_deviation"}
        assert isinstance(entry["value"], float) and entry["standard_deviation"] > 0
    rmse = document["regression_metrics"]["rmse"]["value"]
    assert rmse == pytest.approx(np.sqrt(document["regression_metrics"]["mse"]["value"]))
    assert 1.0 < rmse < 4.0


def test_missing_archive_exits_2_and_writes_nothing(
    trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "model"
    empty.mkdir()
    argv = ["--model", str(empty), "--test", str(trained["test"]), "--output", str(tmp_path / "ev")]
    assert evaluate.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no .tar.gz file" in err and str(empty) in err
    assert not (tmp_path / "ev").exists()


def test_archive_without_model_exits_2(
    tmp_path: Path, trained: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "model" / "model.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(trained["preprocessor"] / "preprocessor.json", arcname="../preprocessor.json")
    argv = ["--model", str(archive.parent), "--test", str(trained["test"]), "--output", str(tmp_path / "ev")]
    assert evaluate.main(argv) == 2
    assert "model file xgboost-model.json does not exist" in capsys.readouterr().err
    assert not (tmp_path / "preprocessor.json").exists()
