"""Schema, validation and atomic CSV/JSON writing shared by the step scripts (errors and staging: step_io)."""

from __future__ import annotations

from pathlib import Path

import datafiles
import numpy as np
import pytest
from datafiles import DataError, StepError

from tests.datasets import ABALONE, CATEGORICAL, FEATURES, NUMERIC, TARGET

DATA = Path(__file__).resolve().parents[2] / "data"


def training_lines(count: int = 20) -> list[str]:
    return (DATA / "training-data.csv").read_text().splitlines()[:count]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_schema_constants() -> None:
    assert FEATURES[0] == "sex"
    assert len(FEATURES) == 8
    assert CATEGORICAL == ("sex",)
    assert FEATURES[1:] == NUMERIC
    assert TARGET == "rings"


def test_read_training_csv_parses_types(tmp_path: Path) -> None:
    frame = datafiles.read_training_csv(write(tmp_path / "t.csv", training_lines(50)), ABALONE)
    assert list(frame.columns) == [*FEATURES, TARGET]
    assert len(frame) == 50
    assert set(frame["sex"]) <= {"M", "F", "I"}
    assert frame[list(NUMERIC)].to_numpy().dtype == np.float64
    first = training_lines(1)[0].split(",")
    assert frame.iloc[0]["length"] == float(first[1])
    assert frame.iloc[0][TARGET] == float(first[-1])


def test_header_row_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "training-data.csv", [",".join([*FEATURES, TARGET]), *training_lines(5)])
    with pytest.raises(DataError) as caught:
        datafiles.read_training_csv(path, ABALONE)
    message = str(caught.value)
    assert "looks like a header row; the data files are headerless" in message
    assert str(path) in message
    assert "row 1" in message
    assert "Fix: delete the header line" in message


def test_header_row_detected_before_column_count(tmp_path: Path) -> None:
    # A training header (9 names) in a features file (8 columns): the header is the real problem.
    path = write(tmp_path / "inference-data.csv", [",".join([*FEATURES, TARGET]), "M,1,1,1,1,1,1,1"])
    with pytest.raises(DataError, match="header row"):
        datafiles.read_features_csv(path, ABALONE)


@pytest.mark.parametrize("extra", [",7", ""])
def test_wrong_column_count_names_row_and_counts(tmp_path: Path, extra: str) -> None:
    lines = training_lines(6)
    lines[4] = lines[4] + extra if extra else lines[4].rsplit(",", 1)[0]
    path = write(tmp_path / "bad.csv", lines)
    with pytest.raises(DataError) as caught:
        datafiles.read_training_csv(path, ABALONE)
    expected = 10 if extra else 8
    assert caught.value.row == 5
    assert f"row has {expected} columns, expected 9" in str(caught.value)
    assert "bad.csv" in str(caught.value)


def test_non_numeric_value_names_row_column_and_value(tmp_path: Path) -> None:
    lines = training_lines(6)
    cells = lines[2].split(",")
    cells[2] = "abc"
    lines[2] = ",".join(cells)
    path = write(tmp_path / "bad.csv", lines)
    with pytest.raises(DataError) as caught:
        datafiles.read_training_csv(path, ABALONE)
    message = str(caught.value)
    assert "value 'abc' is not a number" in message
    assert "row 3" in message
    assert "column 3 'diameter'" in message
    assert str(path) in message


def test_first_bad_value_by_row_is_reported(tmp_path: Path) -> None:
    lines = training_lines(6)
    for index, position in ((4, 1), (2, 7)):
        cells = lines[index].split(",")
        cells[position] = f"x{index}"
        lines[index] = ",".join(cells)
    with pytest.raises(DataError) as caught:
        datafiles.read_training_csv(write(tmp_path / "bad.csv", lines), ABALONE)
    assert caught.value.row == 3
    assert caught.value.column == "8 'shell_weight'"


def test_infinite_value_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", ["M,inf,1,1,1,1,1,1"])
    with pytest.raises(DataError, match="not a finite number"):
        datafiles.read_features_csv(path, ABALONE)


def test_missing_target_is_rejected_missing_feature_allowed(tmp_path: Path) -> None:
    features = datafiles.read_features_csv(
        write(tmp_path / "f.csv", ["M,0.5,,0.1,1,1,1,1", ",1,1,1,1,1,1,1"]), ABALONE
    )
    assert np.isnan(features.loc[0, "diameter"])
    assert features["sex"].isna().tolist() == [False, True]
    with pytest.raises(DataError) as caught:
        datafiles.read_training_csv(
            write(tmp_path / "t.csv", ["M,0.5,0.4,0.1,1,1,1,1,9", "F,1,1,1,1,1,1,1,"]), ABALONE
        )
    assert "rings is missing" in str(caught.value)
    assert caught.value.row == 2


@pytest.mark.parametrize("content", ["", "\n\n", "  \n"])
def test_empty_file_is_rejected(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(content)
    with pytest.raises(DataError, match="empty") as caught:
        datafiles.read_features_csv(path, ABALONE)
    assert str(path) in str(caught.value)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        datafiles.read_features_csv(tmp_path / "nope.csv", ABALONE)


def test_blank_lines_are_skipped_and_rows_are_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("M,1,1,1,1,1,1,1\n\nF,1,1,1,1,1,1,1\nI,1,1,oops,1,1,1,1\n")
    with pytest.raises(DataError) as caught:
        datafiles.read_features_csv(path, ABALONE)
    assert caught.value.row == 4


def test_crlf_and_whitespace_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"M , 0.5,0.4 ,0.1,1,1,1,1\r\nI,1,1,1,1,1,1,1\r\n")
    frame = datafiles.read_features_csv(path, ABALONE)
    assert frame["sex"].tolist() == ["M", "I"]
    assert frame.loc[0, "length"] == 0.5


def test_quoted_fields_are_counted_exactly(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('"M",1,1,1,1,1,1,1\n"F,x",1,1,1,1,1,1,1\n')
    frame = datafiles.read_features_csv(path, ABALONE)
    assert frame["sex"].tolist() == ["M", "F,x"]


def test_unknown_category_is_allowed(tmp_path: Path) -> None:
    frame = datafiles.read_features_csv(write(tmp_path / "f.csv", ["X,1,1,1,1,1,1,1"]), ABALONE)
    assert frame["sex"].tolist() == ["X"]


def test_read_target_csv(tmp_path: Path) -> None:
    series = datafiles.read_target_csv(write(tmp_path / "g.csv", ["9", "10.5"]), ABALONE)
    assert series.tolist() == [9.0, 10.5]
    with pytest.raises(DataError, match="header"):
        datafiles.read_target_csv(write(tmp_path / "h.csv", ["rings", "9"]), ABALONE)
    with pytest.raises(DataError, match="row has 2 columns, expected 1"):
        datafiles.read_target_csv(write(tmp_path / "w.csv", ["9", "9,1"]), ABALONE)


def test_find_single_csv(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        datafiles.find_single_csv(tmp_path / "missing")
    with pytest.raises(DataError, match=r"no \.csv file") as caught:
        datafiles.find_single_csv(tmp_path)
    assert str(tmp_path) in str(caught.value)
    (tmp_path / ".tmp-x-a.csv").write_text("hidden")
    (tmp_path / "notes.txt").write_text("ignored")
    one = write(tmp_path / "a.csv", ["1"])
    assert datafiles.find_single_csv(tmp_path) == str(one)
    assert datafiles.find_single_csv(one) == str(one)
    write(tmp_path / "b.csv", ["1"])
    with pytest.raises(DataError, match=r"2 \.csv files in the input directory \(a\.csv, b\.csv\)"):
        datafiles.find_single_csv(tmp_path)
    assert datafiles.find_single_csv(tmp_path, preferred="b.csv") == str(tmp_path / "b.csv")


def test_data_errors_are_step_errors() -> None:
    assert issubclass(DataError, StepError)
    assert issubclass(datafiles.ArtifactError, StepError)


def test_atomic_csv_and_json(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [1.5, 2.0]})
    written = datafiles.write_csv_atomic(frame, tmp_path / "out" / "x.csv", header=True)
    assert Path(written).read_text() == "a\n1.5\n2.0\n"
    datafiles.write_json_atomic({"k": 1}, tmp_path / "out" / "y.json")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.csv", "y.json"]


def test_json_rejects_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        datafiles.write_json_atomic({"k": float("nan")}, tmp_path / "y.json")
    assert list(tmp_path.iterdir()) == []
