"""Evaluation step: score the held-out test split and write ``evaluation.json``.

    python3 evaluate.py --model DIR --test DIR --output DIR

- ``--model`` (default ``/opt/ml/processing/model``): directory holding the training job's ``model.tar.gz``
- ``--test`` (default ``/opt/ml/processing/test``): directory holding ``test.csv`` (transformed, TARGET first)
- ``--output`` (default ``/opt/ml/processing/evaluation``): receives ``evaluation.json`` in SageMaker's
  model-quality layout::

    {"regression_metrics": {"mse": {"value": v, "standard_deviation": s}, "rmse": {...}, "mae": {...},
                            "r2": {...}}}

Standard deviations are bootstrap estimates: BOOTSTRAP_RESAMPLES (100) resamples of the rows, with
replacement, drawn from ``numpy.random.RandomState(BOOTSTRAP_SEED)`` (42), so they are reproducible;
the sample standard deviation (ddof=1) of each metric over the resamples is reported. r2 follows
scikit-learn's convention when the target is constant: 1.0 for a perfect fit, else 0.0.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tarfile
import tempfile
from typing import Any, Dict, List, Optional

import datafiles
import numpy as np
import preprocess
from datafiles import TARGET, ArtifactError, DataError, StepError

logger = logging.getLogger(__name__)

EVALUATION_FILE = "evaluation.json"
MODEL_ARCHIVE = "model.tar.gz"
MODEL_FILE = "xgboost-model.json"  # serve.MODEL_FILE; serve is imported lazily (see evaluate)
BOOTSTRAP_SEED = 42
BOOTSTRAP_RESAMPLES = 100
METRIC_NAMES = ("mse", "rmse", "mae", "r2")


def point_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> Dict[str, float]:
    """mse, rmse, mae and r2 of one sample."""
    errors = y_pred - y_true
    mse = float(np.mean(errors**2))
    total = float(np.sum((y_true - np.mean(y_true)) ** 2))
    residual = float(np.sum(errors**2))
    # scikit-learn's convention for a constant target: 1.0 for a perfect fit, else 0.0.
    r2 = 1.0 - residual / total if total > 0.0 else (1.0 if residual == 0.0 else 0.0)
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(errors))), "r2": r2}


def regression_metrics(
    y_true: Any,
    y_pred: Any,
    seed: int = BOOTSTRAP_SEED,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Dict[str, Dict[str, float]]:
    """{metric: {"value", "standard_deviation"}} for mse, rmse, mae, r2 (bootstrap standard deviations)."""
    truth = np.asarray(y_true, dtype=np.float64).ravel()
    predicted = np.asarray(y_pred, dtype=np.float64).ravel()
    if len(truth) != len(predicted):
        raise DataError(
            "%d true values but %d predictions" % (len(truth), len(predicted)),
            fix="score the same rows the ground truth describes",
        )
    if len(truth) == 0:
        raise DataError("no rows to compute metrics on", fix="provide at least one row")
    values = point_metrics(truth, predicted)
    rng = np.random.RandomState(seed)
    samples: Dict[str, List[float]] = {name: [] for name in METRIC_NAMES}
    for _ in range(resamples):
        rows = rng.randint(0, len(truth), size=len(truth))
        for name, value in point_metrics(truth[rows], predicted[rows]).items():
            samples[name].append(value)
    return {
        name: {
            "value": values[name],
            "standard_deviation": float(np.std(samples[name], ddof=1)) if resamples > 1 else 0.0,
        }
        for name in METRIC_NAMES
    }


def extract_model(model_location: str, destination: str) -> str:
    """Extract the model files from ``model.tar.gz`` (only regular files, never outside destination)."""
    archive = datafiles.find_single_file(model_location, (".tar.gz",), preferred=MODEL_ARCHIVE)
    wanted = (MODEL_FILE, preprocess.TRANSFORMER_FILE)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                name = os.path.normpath(member.name)
                if member.isfile() and name in wanted:
                    source = tar.extractfile(member)
                    if source is None:  # pragma: no cover - regular files always have content
                        continue
                    with source, open(os.path.join(destination, name), "wb") as target:
                        target.write(source.read())
    except (tarfile.TarError, OSError) as error:
        raise ArtifactError(
            "model archive cannot be read (%s)" % error,
            fix="point --model at the training job's output containing model.tar.gz",
            file=archive,
        ) from error
    return destination


def evaluate(model_location: str, test_location: str, output_dir: str) -> Dict[str, Any]:
    """Score the test split and write evaluation.json; returns the document."""
    # Imported here, not at the top: model_quality.py reuses regression_metrics from this module in a
    # processing container that may not have xgboost.
    import serve
    import xgboost as xgb

    with tempfile.TemporaryDirectory() as workdir:
        model = serve.model_fn(extract_model(model_location, workdir))
    test_path = datafiles.find_single_csv(test_location, preferred=preprocess.TEST_FILE)
    frame = datafiles.read_numeric_csv(test_path, [TARGET, *model.transformer["output_columns"]])
    values = frame.to_numpy(dtype=np.float64)
    dmatrix = xgb.DMatrix(values[:, 1:], feature_names=list(model.transformer["output_columns"]))
    predictions = model.booster.predict(dmatrix)
    document = {"regression_metrics": regression_metrics(values[:, 0], predictions)}
    datafiles.write_json_atomic(document, os.path.join(output_dir, EVALUATION_FILE))
    logger.info(
        "%s: %d rows, rmse %.4f",
        test_path,
        len(values),
        document["regression_metrics"]["rmse"]["value"],
    )
    return document


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the trained model on the test split.")
    parser.add_argument("--model", default="/opt/ml/processing/model", help="dir holding model.tar.gz")
    parser.add_argument("--test", default="/opt/ml/processing/test", help="dir holding test.csv")
    parser.add_argument("--output", default="/opt/ml/processing/evaluation", help="dir for evaluation.json")
    args = parser.parse_args(argv)
    datafiles.configure_logging()
    try:
        evaluate(args.model, args.test, args.output)
    except StepError as error:
        return datafiles.report_error(error)
    return datafiles.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
