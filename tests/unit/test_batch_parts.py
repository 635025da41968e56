"""A batch as a folder of CSV parts: preprocess.py validate, join.py and the data-quality check on parts."""

from __future__ import annotations

import json
from pathlib import Path

import data_quality as dq
import datafiles
import join
import pandas as pd
import preprocess
import pytest
from batch_parts import PartsError, list_parts
from datafiles import DataError

from tests.datasets import ABALONE, FEATURES

DATA = Path(__file__).resolve().parents[2] / "data"
LINES = (DATA / "inference-data.csv").read_text().splitlines()
PART_ROWS = [7, 12, 5, 9]  # rows of part-00000 … part-00003


def part_names(count: int = len(PART_ROWS)) -> list[str]:
    return [f"part-{i:05d}.csv" for i in range(count)]


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """A batch folder as a data engineer drops it: parts, ground truth and the completion marker."""
    folder = tmp_path / "batch-007"
    folder.mkdir()
    start = 0
    for name, rows in zip(part_names(), PART_ROWS, strict=True):
        (folder / name).write_text("\n".join(LINES[start : start + rows]) + "\n")
        start += rows
    (folder / "ground-truth.csv").write_text("".join(f"{i}\n" for i in range(sum(PART_ROWS))))
    (folder / "_SUCCESS").write_text("")
    return folder


def validate(source: Path, out: Path) -> int:
    return preprocess.main(["validate", "--input", str(source), "--output", str(out)])


def score(features: Path, predictions: Path) -> None:
    """What batch transform writes: ``<part>.out`` per part; here each row's number in the batch."""
    number = 0
    for part in sorted(features.rglob("*.csv")):
        rows = len(part.read_text().splitlines())
        target = predictions / (part.relative_to(features).as_posix() + ".out")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(f"{number + i}.5\n" for i in range(rows)))
        number += rows


# --- listing ---------------------------------------------------------------------------------------------


def test_parts_are_listed_in_key_order_without_markers_ground_truth_or_subfolders(batch: Path) -> None:
    (batch / "part-00010.csv").write_text(LINES[0] + "\n")
    (batch / "code").mkdir()  # a processing job's other inputs may sit below its input folder
    (batch / "code" / "preprocess.py").write_text("")
    (batch / ".hidden.csv").write_text("junk\n")
    (batch / "_manifest").write_text("{}")
    assert [name for name, _ in list_parts(batch)] == [*part_names(), "part-00010.csv"]


def test_a_file_that_is_not_a_csv_part_is_named(batch: Path) -> None:
    (batch / "part-00004.csv.gz").write_bytes(b"\x1f\x8b")
    with pytest.raises(PartsError, match=r"part-00004.csv.gz is not a CSV part of the batch"):
        list_parts(batch)


def test_a_folder_with_only_ground_truth_has_no_parts(tmp_path: Path) -> None:
    (tmp_path / "ground-truth.csv").write_text("1\n")
    with pytest.raises(PartsError, match="no inference data CSV part in the batch folder"):
        list_parts(tmp_path)


def test_ground_truth_in_any_case_is_not_a_part(batch: Path) -> None:
    """The trigger reads ``Ground-Truth.csv`` as the batch's ground truth: so do the steps."""
    (batch / "ground-truth.csv").rename(batch / "Ground-Truth.csv")
    assert [name for name, _ in list_parts(batch)] == part_names()


def test_a_file_uri_selects_its_object_from_the_prefixs_siblings(tmp_path: Path) -> None:
    """InputDataUri s3://b/p/x.csv as an S3 prefix also downloads x.csv.bak and x.csv.old.csv: the step
    reads x.csv only (neither an error for the .bak nor a second part for the .old.csv)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.csv").write_text("\n".join(LINES[:3]) + "\n")
    (tmp_path / "in" / "x.csv.bak").write_text("junk\n")
    (tmp_path / "in" / "x.csv.old.csv").write_text("\n".join(LINES[:5]) + "\n")
    uri = "s3://bucket/inference/x.csv"
    assert list_parts(tmp_path / "in", uri=uri) == [("x.csv", str(tmp_path / "in" / "x.csv"))]
    out = tmp_path / "out"
    argv = ["validate", "--input", str(tmp_path / "in"), "--output", str(out), "--input-uri", uri]
    assert preprocess.main(argv) == 0
    assert len(datafiles.read_features_csv(out / "inference-data.csv", ABALONE)) == 3
    # A folder URI lists the folder as before (and the .bak is then a file that is not a part).
    with pytest.raises(PartsError, match=r"x\.csv\.bak is not a CSV part"):
        list_parts(tmp_path / "in", uri="s3://bucket/inference/")


# --- preprocess.py validate ------------------------------------------------------------------------------


def test_validate_writes_one_part_per_input_part_with_the_same_rows(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "features"
    assert validate(batch, out) == 0
    assert sorted(p.name for p in out.iterdir()) == part_names()
    for name in part_names():
        pd.testing.assert_frame_equal(
            datafiles.read_features_csv(out / name, ABALONE),
            datafiles.read_features_csv(batch / name, ABALONE),
        )


def test_validate_skips_empty_parts(batch: Path, tmp_path: Path) -> None:
    (batch / "part-00004.csv").write_text("")  # Spark writes one for an empty partition
    assert validate(batch, tmp_path / "features") == 0
    assert sorted(p.name for p in (tmp_path / "features").iterdir()) == part_names()


def test_a_one_part_batch_is_written_as_inference_data(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "part-00000.csv").write_text("\n".join(LINES[:3]) + "\n")
    assert validate(tmp_path / "in", tmp_path / "out") == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["inference-data.csv"]


def test_a_bad_part_is_named_with_its_row_and_nothing_is_written(
    batch: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (batch / "part-00002.csv").read_text().splitlines()
    lines[3] += ",1"  # one column too many
    (batch / "part-00002.csv").write_text("\n".join(lines) + "\n")
    assert validate(batch, tmp_path / "features") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(batch / "part-00002.csv") in err and "row 4" in err and "columns" in err
    assert not [p for p in (tmp_path / "features").rglob("*") if p.is_file()]


# --- join.py ---------------------------------------------------------------------------------------------


@pytest.fixture
def scored(batch: Path, tmp_path: Path) -> dict[str, Path]:
    features, predictions = tmp_path / "features", tmp_path / "predictions"
    assert validate(batch, features) == 0
    score(features, predictions)
    return {"features": features, "predictions": predictions, "output": tmp_path / "joined"}


def run_join(scored: dict[str, Path]) -> dict[str, str]:
    return join.join(str(scored["features"]), str(scored["predictions"]), str(scored["output"]), ABALONE)


def test_join_pairs_every_part_and_keeps_the_batch_order(scored: dict[str, Path]) -> None:
    outputs = run_join(scored)
    quality = Path(outputs["data_quality"])
    assert quality == scored["output"] / "data-quality-input"
    assert sorted(p.name for p in quality.iterdir()) == part_names()
    rows = 0
    for name, expected in zip(part_names(), PART_ROWS, strict=True):
        part = pd.read_csv(quality / name, dtype={"sex": object})  # each part has its own header row
        assert list(part.columns) == list(FEATURES) and len(part) == expected
        rows += len(part)
    predictions = Path(outputs["predictions"]).read_text().splitlines()
    assert predictions == [f"{i}.5" for i in range(sum(PART_ROWS))]  # every row once, in the parts' order
    assert rows == sum(PART_ROWS)


def test_a_missing_predictions_part_is_named(scored: dict[str, Path]) -> None:
    (scored["predictions"] / "part-00002.csv.out").unlink()
    with pytest.raises(DataError, match=r"no predictions for 1 of 4 features part\(s\): part-00002.csv"):
        run_join(scored)
    assert not scored["output"].exists()


def test_an_extra_predictions_part_is_named(scored: dict[str, Path]) -> None:
    (scored["predictions"] / "part-00009.csv.out").write_text("1\n")
    with pytest.raises(DataError, match=r"without a features part: part-00009.csv.out"):
        run_join(scored)


def test_a_part_with_too_few_predictions_is_named_and_nothing_is_published(
    scored: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (scored["predictions"] / "part-00003.csv.out").write_text("1.0\n" * 8)
    with pytest.raises(DataError, match=r"part part-00003.csv: 9 feature rows \(.*\) but 8 predictions"):
        run_join(scored)
    argv = ["--features", str(scored["features"]), "--predictions", str(scored["predictions"])]
    assert join.main([*argv, "--output", str(scored["output"])]) == 2
    assert "part-00003.csv" in capsys.readouterr().err
    assert not [p for p in scored["output"].rglob("*") if p.is_file()]


# --- the data-quality check reads join's folder of parts -------------------------------------------------


def test_data_quality_check_reads_every_part_with_its_header(scored: dict[str, Path], tmp_path: Path) -> None:
    run_join(scored)
    quality = scored["output"] / "data-quality-input"
    baseline = tmp_path / "baseline"
    training = tmp_path / "train.csv"
    frame = datafiles.read_features_csv(DATA / "inference-data.csv", ABALONE)
    frame.to_csv(training, index=False)
    dq.run_baseline(str(training), str(baseline), header=True, report=False)
    argv = ["check", "--input", str(quality), "--output", str(tmp_path / "check"), "--header"]
    argv += ["--baseline-statistics", str(baseline), "--baseline-constraints", str(baseline)]
    assert dq.main(argv) == 0
    statistics = json.loads((tmp_path / "check" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == sum(PART_ROWS)
    names = {feature["name"] for feature in statistics["features"]}
    assert names == set(FEATURES)
