"""Fixtures shared by the step-script tests: one small model trained once per session."""

from __future__ import annotations

import tarfile
from pathlib import Path

import preprocess
import pytest
import train

from tests.datasets import ABALONE

DATA = Path(__file__).resolve().parents[2] / "data"
HYPERPARAMETERS = dict(
    num_round=20,
    max_depth=3,
    eta=0.3,
    gamma=0.0,
    min_child_weight=1.0,
    subsample=1.0,
    colsample_bytree=1.0,
    objective="reg:squarederror",
    early_stopping_rounds=0,
    seed=42,
)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """preprocess.fit + train.run on 300 training rows; ``archive/model.tar.gz`` packed as SageMaker does."""
    root = tmp_path_factory.mktemp("trained")
    source = root / "training-data.csv"
    source.write_text("\n".join((DATA / "training-data.csv").read_text().splitlines()[:300]) + "\n")
    dirs = {
        name: root / name for name in ("train", "validation", "test", "preprocessor", "baseline", "model")
    }
    preprocess.fit(
        str(source),
        train_dir=str(dirs["train"]),
        validation_dir=str(dirs["validation"]),
        test_dir=str(dirs["test"]),
        transformer_dir=str(dirs["preprocessor"]),
        baseline_dir=str(dirs["baseline"]),
        schema=ABALONE,
    )
    train.run(
        str(dirs["train"]),
        str(dirs["validation"]),
        str(dirs["preprocessor"]),
        str(dirs["model"]),
        HYPERPARAMETERS,
    )
    dirs["archive"] = root / "archive"
    dirs["archive"].mkdir()
    with tarfile.open(dirs["archive"] / "model.tar.gz", "w:gz") as tar:
        for path in sorted(dirs["model"].iterdir()):
            tar.add(path, arcname=path.name)
    return dirs


@pytest.fixture(autouse=True)
def _abalone_dataset_json(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The step scripts read dataset.json beside themselves (where the code bundle puts it); in-process
    calls of their main() read the repository's abalone schema instead."""
    import dataset

    from tests.datasets import write_dataset_json

    path = write_dataset_json(tmp_path_factory.getbasetemp() / "abalone-dataset")
    monkeypatch.setattr(dataset, "default_path", lambda: str(path))
    return path
