"""Data that does not fit the schema (the penguins data set): `mlops data upload` refuses it before sending
anything (exit 2, the file, row and column named, the bucket untouched), and the step that would read it
(`preprocess.py fit`) fails the same way."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import preprocess
import pytest
from moto import mock_aws

from pipeline_scripts.cli import EXIT_ERROR, main
from pipeline_scripts.config.dataset import job_document, load_dataset

ROOT = Path(__file__).resolve().parents[2]
PENGUINS = ROOT / "data" / "penguins"
BUCKET = "mlops-local-bucket"
FILES = ("training-data.csv", "inference-data.csv", "ground-truth.csv")


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A data-set folder: penguins' dataset.yaml and the first rows of its files (all valid)."""
    target = tmp_path / "penguins"
    target.mkdir()
    shutil.copy(PENGUINS / "dataset.yaml", target / "dataset.yaml")
    for name in FILES:
        lines = (PENGUINS / name).read_text().splitlines()[:8]
        (target / name).write_text("\n".join(lines) + "\n")
    return target


def replace_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")


def upload(folder: Path, kind: str) -> int:
    return main(["--set", f"dataset_dir={folder}", "data", "upload", kind, "--batch", "b1"])


def objects(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_the_valid_files_upload(s3: Any, folder: Path) -> None:
    assert upload(folder, "training") == 0
    assert upload(folder, "inference") == 0
    assert len(objects(s3)) == 3


class Misfit(NamedTuple):
    id: str
    name: str  # the file
    line: int  # the line replaced
    text: str  # by this
    kind: str  # the upload that sends the file
    what: str  # what the error says
    where: str  # the file's row (and column)


MISFITS = [
    Misfit(
        "training-label-not-a-class",
        "training-data.csv",
        3,
        "Dream,50.2,18.8,202,3800,male,2009,Emperor",
        "training",
        "label 'Emperor' is not one of the classes ['Adelie', 'Chinstrap', 'Gentoo']",
        "row 3, column 8 'species'",
    ),
    Misfit(
        "ground-truth-label-not-a-class",
        "ground-truth.csv",
        5,
        "emperor",
        "inference",
        "label 'emperor' is not one of the classes",
        "row 5, column 1 'species'",
    ),
    Misfit(
        "training-wrong-column-count",
        "training-data.csv",
        2,
        "Dream,50.2,18.8,202,3800,male,Chinstrap",
        "training",
        "row has 7 columns, expected 8 (island, bill_length_mm",
        "row 2",
    ),
    Misfit(
        "inference-wrong-column-count",
        "inference-data.csv",
        6,
        "Biscoe,46.1,15.1,215,5100,male,2007,Gentoo",
        "inference",
        "row has 8 columns, expected 7",
        "row 6",
    ),
    Misfit(
        "training-text-in-a-numeric-column",
        "training-data.csv",
        4,
        "Biscoe,45.3,deep,208,4200,female,2008,Gentoo",
        "training",
        "value 'deep' is not a number",
        "row 4, column 3 'bill_depth_mm'",
    ),
    Misfit(
        "inference-text-in-a-numeric-column",
        "inference-data.csv",
        7,
        "Biscoe,46.1,15.1,215,5100,male,year 2007",
        "inference",
        "value 'year 2007' is not a number",
        "row 7, column 7 'year'",
    ),
    Misfit(
        "training-header-row",
        "training-data.csv",
        1,
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year,species",
        "training",
        "looks like a header row; the data files are headerless",
        "row 1",
    ),
    Misfit(
        "inference-header-row",
        "inference-data.csv",
        1,
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year",
        "inference",
        "looks like a header row",
        "row 1",
    ),
]


@pytest.mark.parametrize("misfit", MISFITS, ids=[m.id for m in MISFITS])
def test_a_file_that_does_not_fit_is_refused_before_anything_is_uploaded(
    s3: Any, folder: Path, capsys: pytest.CaptureFixture[str], misfit: Misfit
) -> None:
    replace_line(folder / misfit.name, misfit.line, misfit.text)
    assert upload(folder, misfit.kind) == EXIT_ERROR
    err = capsys.readouterr().err
    assert misfit.what in err
    assert f"{folder / misfit.name}, {misfit.where}" in err
    assert "nothing was uploaded" in err
    assert objects(s3) == []


def test_rows_are_lines_of_the_file_when_blank_lines_come_first(
    s3: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Blank lines carry no data but count as lines: the row named is the line to edit."""
    for name, bad in (
        ("training-data.csv", "Dream,50.2,18.8,202,3800,male,2009,Emperor"),
        ("ground-truth.csv", "Emperor"),
    ):
        path = folder / name
        lines = path.read_text().splitlines()
        path.write_text("\n".join(["", *lines[:2], "", bad, *lines[3:]]) + "\n")  # the bad label on line 5
    assert upload(folder, "training") == EXIT_ERROR
    assert f"{folder / 'training-data.csv'}, row 5, column 8 'species'" in capsys.readouterr().err
    assert upload(folder, "inference") == EXIT_ERROR
    assert f"{folder / 'ground-truth.csv'}, row 5, column 1 'species'" in capsys.readouterr().err
    assert objects(s3) == []


TRAINING_MISFITS = [m for m in MISFITS if m.name == "training-data.csv"]


@pytest.mark.parametrize("misfit", TRAINING_MISFITS, ids=[m.id for m in TRAINING_MISFITS])
def test_preprocess_fit_exits_2_naming_row_and_column(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], misfit: Misfit
) -> None:
    training = folder / "training-data.csv"
    replace_line(training, misfit.line, misfit.text)
    dataset_json = tmp_path / "code" / "dataset.json"
    dataset_json.parent.mkdir()
    dataset_json.write_bytes(job_document(load_dataset(folder / "dataset.yaml")))
    outputs = ["train", "validation", "test", "transformer", "baseline"]
    argv = ["fit", "--input", str(training), "--dataset", str(dataset_json)]
    argv += [arg for out in outputs for arg in (f"--output-{out}", str(tmp_path / out))]
    assert preprocess.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ERROR: "), err
    assert misfit.what in err[0]
    assert f"({training}, {misfit.where})" in err[0]
    assert not any((tmp_path / out).exists() for out in outputs)
