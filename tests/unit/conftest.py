"""Fixtures shared by the step-script tests: one small model trained once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.datasets import ABALONE, fit_and_train

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
    return fit_and_train(source, root, ABALONE, HYPERPARAMETERS)


@pytest.fixture(autouse=True)
def _abalone_dataset_json(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The step scripts read dataset.json beside themselves (where the code bundle puts it); in-process
    calls of their main() read the repository's abalone schema instead."""
    import dataset

    from tests.datasets import write_dataset_json

    path = write_dataset_json(tmp_path_factory.getbasetemp() / "abalone-dataset")
    monkeypatch.setattr(dataset, "default_path", lambda: str(path))
    return path
