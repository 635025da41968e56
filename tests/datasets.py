"""The data set schemas the tests use: the repository's abalone (data/dataset.yaml) and helpers to write
a schema where the step scripts look for it."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import dataset as dataset_module
import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_yaml(path: Path) -> Any:
    """A ``dataset.yaml`` validated by the step scripts' own rules (scripts/dataset.py)."""
    return dataset_module.from_dict(yaml.safe_load(path.read_text()))


ABALONE = load_yaml(ROOT / "data" / "dataset.yaml")
FEATURES: tuple[str, ...] = ABALONE.feature_names
TARGET: str = ABALONE.target
CATEGORICAL: tuple[str, ...] = ABALONE.categorical
NUMERIC: tuple[str, ...] = ABALONE.numeric


def write_dataset_json(folder: Path, schema: Any = ABALONE) -> Path:
    """``<folder>/dataset.json`` as the code bundle ships it; returns its path (for ``--dataset``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataset.json"
    path.write_text(json.dumps(dataset_module.to_dict(schema), indent=2, sort_keys=True) + "\n")
    return path


def fit_and_train(
    source: Path, root: Path, schema: Any, hyperparameters: dict[str, Any], seed: int = 42
) -> dict[str, Path]:
    """preprocess.fit + train.run into ``root/<role>``; ``archive/model.tar.gz`` packed as SageMaker does.
    Returns the folders by role (train, validation, test, preprocessor, baseline, model, archive)."""
    import preprocess
    import train

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
        schema=schema,
        seed=seed,
    )
    train.run(
        str(dirs["train"]),
        str(dirs["validation"]),
        str(dirs["preprocessor"]),
        str(dirs["model"]),
        hyperparameters,
    )
    dirs["archive"] = root / "archive"
    dirs["archive"].mkdir()
    with tarfile.open(dirs["archive"] / "model.tar.gz", "w:gz") as tar:
        for path in sorted(dirs["model"].iterdir()):
            tar.add(path, arcname=path.name)
    return dirs
