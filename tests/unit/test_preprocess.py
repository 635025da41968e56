"""preprocess.py: split, transformer fitted on the train split only, validation of inference batches."""

from __future__ import annotations

import json
from pathlib import Path

import datafiles
import numpy as np
import pandas as pd
import preprocess
import pytest
from datafiles import ArtifactError, DataError

from tests.datasets import ABALONE, FEATURES, NUMERIC, TARGET

DATA = Path(__file__).resolve().parents[2] / "data"
ROWS = 300


@pytest.fixture
def training_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "input"
    directory.mkdir()
    lines = (DATA / "training-data.csv").read_text().splitlines()[:ROWS]
    (directory / "training-data.csv").write_text("\n".join(lines) + "\n")
    return directory


def output_dirs(root: Path) -> dict[str, Path]:
    return {name: root / name for name in ("train", "validation", "test", "transformer", "baseline")}


def run_fit(input_dir: Path, root: Path, **kwargs: float) -> dict[str, str]:
    dirs = output_dirs(root)
    return preprocess.fit(
        str(input_dir),
        train_dir=str(dirs["train"]),
        validation_dir=str(dirs["validation"]),
        test_dir=str(dirs["test"]),
        transformer_dir=str(dirs["transformer"]),
        baseline_dir=str(dirs["baseline"]),
        schema=ABALONE,
        **kwargs,  # type: ignore[arg-type]
    )


def fit_argv(input_dir: Path, root: Path) -> list[str]:
    dirs = output_dirs(root)
    return [
        "fit",
        "--input",
        str(input_dir),
        "--output-train",
        str(dirs["train"]),
        "--output-validation",
        str(dirs["validation"]),
        "--output-test",
        str(dirs["test"]),
        "--output-transformer",
        str(dirs["transformer"]),
        "--output-baseline",
        str(dirs["baseline"]),
    ]


def all_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_fit_writes_splits_transformer_and_baseline(training_dir: Path, tmp_path: Path) -> None:
    assert preprocess.main(fit_argv(training_dir, tmp_path / "out")) == 0
    out = tmp_path / "out"
    train = pd.read_csv(out / "train" / "train.csv", header=None)
    validation = pd.read_csv(out / "validation" / "validation.csv", header=None)
    test = pd.read_csv(out / "test" / "test.csv", header=None)
    assert (len(train), len(validation), len(test)) == (210, 45, 45)

    spec = preprocess.load_transformer(str(out / "transformer" / "preprocessor.json"))
    assert spec["categorical"] == {"sex": ["F", "I", "M"]}
    assert spec["output_columns"][:3] == ["sex_F", "sex_I", "sex_M"]
    assert train.shape[1] == 1 + len(spec["output_columns"]) == 11

    baseline = pd.read_csv(out / "baseline" / "baseline.csv")
    assert list(baseline.columns) == list(FEATURES)  # no target: batches have predictions, not labels
    assert len(baseline) == 210 == len(train)


def test_the_baseline_in_parts_is_the_same_rows_each_with_the_header(
    training_dir: Path, tmp_path: Path
) -> None:
    assert preprocess.main(fit_argv(training_dir, tmp_path / "one")) == 0
    assert preprocess.main([*fit_argv(training_dir, tmp_path / "parts"), "--baseline-parts", "4"]) == 0
    names = sorted(path.name for path in (tmp_path / "parts" / "baseline").iterdir())
    assert names == [f"baseline-part-0000{i}.csv" for i in range(4)]
    parts = [pd.read_csv(tmp_path / "parts" / "baseline" / name) for name in names]
    assert [len(part) for part in parts] == [52, 53, 53, 52]  # 210 rows in 4 near-equal parts
    whole = pd.read_csv(tmp_path / "one" / "baseline" / "baseline.csv")
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    for role in ("train", "validation", "test", "transformer"):  # the rest is unchanged
        for path in (tmp_path / "one" / role).iterdir():
            assert (tmp_path / "parts" / role / path.name).read_bytes() == path.read_bytes()


def test_transformer_is_fitted_on_the_train_split_only(training_dir: Path, tmp_path: Path) -> None:
    run_fit(training_dir, tmp_path / "out")
    spec = preprocess.load_transformer(str(tmp_path / "out" / "transformer"))
    train_split = pd.read_csv(tmp_path / "out" / "baseline" / "baseline.csv")
    everything = datafiles.read_training_csv(training_dir / "training-data.csv", ABALONE)
    for name in NUMERIC:
        assert spec["numeric"][name]["mean"] == pytest.approx(train_split[name].mean(), rel=1e-12)
        assert spec["numeric"][name]["scale"] == pytest.approx(train_split[name].std(ddof=0), rel=1e-12)
        assert spec["numeric"][name]["mean"] != pytest.approx(everything[name].mean(), rel=1e-9)


def test_written_training_matrix_equals_apply_exactly(training_dir: Path, tmp_path: Path) -> None:
    run_fit(training_dir, tmp_path / "out")
    spec = preprocess.load_transformer(str(tmp_path / "out" / "transformer"))
    raw = pd.read_csv(tmp_path / "out" / "baseline" / "baseline.csv", dtype={"sex": object})
    written = datafiles.read_numeric_csv(
        tmp_path / "out" / "train" / "train.csv", [TARGET, *spec["output_columns"]]
    )
    np.testing.assert_array_equal(written.to_numpy()[:, 1:], preprocess.apply_transformer(spec, raw))


def test_fit_is_reproducible_and_seed_dependent(training_dir: Path, tmp_path: Path) -> None:
    first = run_fit(training_dir, tmp_path / "a")
    second = run_fit(training_dir, tmp_path / "b")
    third = run_fit(training_dir, tmp_path / "c", seed=7)
    for role in first:
        assert Path(first[role]).read_bytes() == Path(second[role]).read_bytes()
    assert Path(first["test"]).read_bytes() != Path(third["test"]).read_bytes()


def test_split_indices_partition_the_rows() -> None:
    train, validation, test = preprocess.split_indices(100, 0.15, 0.15, 42)
    assert (len(train), len(validation), len(test)) == (70, 15, 15)
    assert sorted(np.concatenate([train, validation, test]).tolist()) == list(range(100))
    with pytest.raises(DataError, match="too few"):
        preprocess.split_indices(3, 0.15, 0.15, 42)
    with pytest.raises(datafiles.StepError, match="leave no training rows"):
        preprocess.split_indices(100, 0.5, 0.5, 42)


def test_apply_unseen_category_missing_values_and_zero_scale() -> None:
    train = pd.DataFrame(
        {name: [1.0, 1.0] if name == "height" else [1.0, 3.0] for name in NUMERIC} | {"sex": ["M", "F"]}
    )[list(FEATURES)]
    spec = preprocess.fit_transformer(train, ABALONE)
    assert spec["numeric"]["height"] == {"mean": 1.0, "scale": 1.0}
    assert spec["numeric"]["length"] == {"mean": 2.0, "scale": 1.0}
    batch = pd.DataFrame(
        [["X", 3.0, 1.0, 1.0, 1, 1, 1, np.nan], ["M", 1.0, 1, 5.0, 1, 1, 1, 1]], columns=FEATURES
    )
    batch["sex"] = batch["sex"].astype(object)
    matrix = preprocess.apply_transformer(spec, batch)
    assert spec["output_columns"][:2] == ["sex_F", "sex_M"]
    np.testing.assert_array_equal(matrix[0, :2], [0.0, 0.0])  # unseen category: all zeros
    np.testing.assert_array_equal(matrix[1, :2], [0.0, 1.0])
    assert matrix[0, 2] == 1.0  # (3 - 2) / 1
    assert matrix[1, 4] == 4.0  # height: (5 - 1) / 1, zero scale became 1
    assert np.isnan(matrix[0, -1])


def test_transformer_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        preprocess.load_transformer(str(tmp_path / "preprocessor.json"))
    path = tmp_path / "preprocessor.json"
    path.write_text(json.dumps({"version": 99}))
    with pytest.raises(ArtifactError, match="version 99, this code reads version 2"):
        preprocess.load_transformer(str(path))
    path.write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        preprocess.load_transformer(str(path))


def test_validate_writes_the_same_rows(tmp_path: Path) -> None:
    source = tmp_path / "in" / "inference-data.csv"
    source.parent.mkdir()
    source.write_text("\n".join((DATA / "inference-data.csv").read_text().splitlines()[:40]) + "\n")
    assert (
        preprocess.main(["validate", "--input", str(source.parent), "--output", str(tmp_path / "out")]) == 0
    )
    written = datafiles.read_features_csv(tmp_path / "out" / "inference-data.csv", ABALONE)
    pd.testing.assert_frame_equal(written, datafiles.read_features_csv(source, ABALONE))


def test_fit_bad_input_exits_2_with_one_line_and_no_outputs(
    training_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = training_dir / "training-data.csv"
    lines = path.read_text().splitlines()
    lines[41] = lines[41] + ",1"
    path.write_text("\n".join(lines) + "\n")
    assert preprocess.main(fit_argv(training_dir, tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("ERROR: row has 10 columns, expected 9")
    assert "training-data.csv, row 42)" in err
    assert all_files(tmp_path / "out") == []


def test_validate_header_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "inference-data.csv"
    source.write_text(",".join(FEATURES) + "\nM,1,1,1,1,1,1,1\n")
    assert preprocess.main(["validate", "--input", str(source), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "header row" in err and str(source) in err
    assert all_files(tmp_path / "out") == []


def test_bad_fractions_exit_2(training_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        *fit_argv(training_dir, tmp_path / "out"),
        "--validation-fraction",
        "0.6",
        "--test-fraction",
        "0.5",
    ]
    assert preprocess.main(argv) == 2
    assert "leave no training rows" in capsys.readouterr().err
