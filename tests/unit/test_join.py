"""join.py: features and batch-transform predictions lined up for the data- and model-quality checks."""

from __future__ import annotations

from pathlib import Path

import join
import pandas as pd
import pytest
from datafiles import DataError

from tests.datasets import ABALONE, FEATURES

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def batch(tmp_path: Path) -> dict[str, Path]:
    features = tmp_path / "features"
    predictions = tmp_path / "predictions"
    features.mkdir()
    predictions.mkdir()
    lines = (DATA / "inference-data.csv").read_text().splitlines()[:30]
    (features / "inference-data.csv").write_text("\n".join(lines) + "\n")
    (predictions / "inference-data.csv.out").write_text("".join(f"{i}.5\n" for i in range(30)))
    return {"features": features, "predictions": predictions, "output": tmp_path / "out"}


def argv(batch: dict[str, Path]) -> list[str]:
    return [
        "--features",
        str(batch["features"]),
        "--predictions",
        str(batch["predictions"]),
        "--output",
        str(batch["output"]),
    ]


def test_join_writes_data_quality_input_and_predictions(batch: dict[str, Path]) -> None:
    assert join.main(argv(batch)) == 0
    assert sorted(p.name for p in (batch["output"] / "data-quality-input").iterdir()) == [
        "inference-data.csv"
    ]
    joined = pd.read_csv(batch["output"] / "data-quality-input" / "inference-data.csv", dtype={"sex": object})
    assert list(joined.columns) == list(FEATURES)  # input drift; the predictions go to model quality
    predictions = pd.read_csv(batch["output"] / "predictions.csv", header=None)[0]
    assert predictions.tolist() == [i + 0.5 for i in range(30)]
    raw = pd.read_csv(
        batch["features"] / "inference-data.csv", header=None, names=list(FEATURES), dtype={"sex": object}
    )
    pd.testing.assert_frame_equal(joined[list(FEATURES)], raw)
    predictions = (batch["output"] / "predictions.csv").read_text().splitlines()
    assert predictions == [f"{i}.5" for i in range(30)]


def test_a_predictions_file_without_its_features_part_is_an_error(batch: dict[str, Path]) -> None:
    (batch["predictions"] / "other.csv.out").write_text("1\n")
    with pytest.raises(DataError, match=r"1 predictions file\(s\) without a features part: other.csv.out"):
        join.join(str(batch["features"]), str(batch["predictions"]), str(batch["output"]), ABALONE)
    assert not batch["output"].exists()


def test_one_file_scored_under_another_name_is_still_joined(batch: dict[str, Path]) -> None:
    (batch["predictions"] / "inference-data.csv.out").rename(batch["predictions"] / "renamed.csv.out")
    outputs = join.join(str(batch["features"]), str(batch["predictions"]), str(batch["output"]), ABALONE)
    assert len((Path(outputs["predictions"])).read_text().splitlines()) == 30


def test_row_count_mismatch_names_both_counts(
    batch: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (batch["predictions"] / "inference-data.csv.out").write_text("1.0\n" * 29)
    with pytest.raises(
        DataError,
        match=r"part inference-data.csv: 30 feature rows \(.*inference-data.csv\) but 29 predictions",
    ):
        join.join(str(batch["features"]), str(batch["predictions"]), str(batch["output"]), ABALONE)
    assert join.main(argv(batch)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "30 feature rows" in err and "29 predictions" in err
    assert not batch["output"].exists()


def test_missing_predictions_exit_2(batch: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    (batch["predictions"] / "inference-data.csv.out").unlink()
    assert join.main(argv(batch)) == 2
    err = capsys.readouterr().err
    assert "no predictions for 1 of 1 features part(s): inference-data.csv" in err
    assert "expected inference-data.csv.out" in err
