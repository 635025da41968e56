"""pipeline_scripts.tooling.sample_data: reproducible headerless sample files and a clearly drifted batch."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from pipeline_scripts.tooling.sample_data import HEADER, SampleDataError, generate

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "data" / "abalone.csv"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(SOURCE, tmp_path_factory.mktemp("sample"))


def rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text().splitlines()))


def test_files_and_shapes(generated: dict[str, Path]) -> None:
    assert sorted(generated) == [
        "drifted_ground_truth",
        "drifted_inference",
        "ground_truth",
        "inference",
        "readme",
        "source",
        "training",
    ]
    training, inference, truth = (rows(generated[key]) for key in ("training", "inference", "ground_truth"))
    assert (len(training), len(inference), len(truth)) == (3341, 836, 836)
    assert {len(row) for row in training} == {9}
    assert {len(row) for row in inference} == {8}
    assert {len(row) for row in truth} == {1}
    assert training[0][0] in {"M", "F", "I"}  # headerless


def test_values_are_the_source_text_and_rows_partition_it(generated: dict[str, Path]) -> None:
    source = rows(SOURCE)[1:]
    training = rows(generated["training"])
    scored = [
        features + truth
        for features, truth in zip(rows(generated["inference"]), rows(generated["ground_truth"]), strict=True)
    ]
    assert sorted(training + scored) == sorted(source)
    assert generated["source"].read_bytes() == SOURCE.read_bytes()


def test_generate_is_byte_for_byte_reproducible(generated: dict[str, Path], tmp_path: Path) -> None:
    again = generate(SOURCE, tmp_path)
    for key, path in generated.items():
        assert again[key].read_bytes() == path.read_bytes(), key
    generate(SOURCE, tmp_path)  # idempotent over existing files
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "README.md",
        "abalone.csv",
        "drifted/ground-truth.csv",
        "drifted/inference-data.csv",
        "ground-truth.csv",
        "inference-data.csv",
        "training-data.csv",
    ]


def test_committed_data_matches_the_generator(generated: dict[str, Path]) -> None:
    for path in generated.values():
        relative = path.relative_to(generated["source"].parent)
        assert (ROOT / "data" / relative).read_bytes() == path.read_bytes(), f"regenerate data/{relative}"


def test_drifted_batch_differs_in_distribution(generated: dict[str, Path]) -> None:
    clean, drifted = rows(generated["inference"]), rows(generated["drifted_inference"])
    assert len(clean) == len(drifted)
    clean_numeric = np.array([row[1:] for row in clean], dtype=float)
    drifted_numeric = np.array([row[1:] for row in drifted], dtype=float)
    shift = (drifted_numeric.mean(axis=0) - clean_numeric.mean(axis=0)) / clean_numeric.std(axis=0)
    assert np.all(shift > 1.0)
    infants = np.mean([row[0] == "I" for row in drifted])
    assert infants > 0.75 > np.mean([row[0] == "I" for row in clean])
    clean_truth = np.array(rows(generated["ground_truth"]), dtype=float).ravel()
    drifted_truth = np.array(rows(generated["drifted_ground_truth"]), dtype=float).ravel()
    np.testing.assert_array_equal(drifted_truth, clean_truth + 6)


def test_readme_names_source_license_and_command(generated: dict[str, Path]) -> None:
    text = generated["readme"].read_text()
    assert "CC BY 4.0" in text and "Nash" in text and "1994" in text
    assert "mlops data generate" in text


def test_wrong_source_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(SampleDataError, match="expected the header"):
        generate(bad, tmp_path / "out")
    short = tmp_path / "short.csv"
    short.write_text(",".join(HEADER) + "\n" + "M,1,1,1,1,1,1,1,1\n" * 3)
    with pytest.raises(SampleDataError, match="only 3 rows"):
        generate(short, tmp_path / "out")


def test_sample_header_is_the_step_scripts_schema() -> None:
    """sample_data writes the abalone files; this pins its column list to data/dataset.yaml's."""
    from tests.datasets import FEATURES, TARGET

    assert (*FEATURES, TARGET) == HEADER
