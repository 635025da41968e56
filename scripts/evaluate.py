"""Evaluation step: score the held-out test split and write ``evaluation.json``.

    python3 evaluate.py --model DIR --test DIR --output DIR

- ``--model`` (default ``/opt/ml/processing/model``): directory holding the training job's ``model.tar.gz``
- ``--test`` (default ``/opt/ml/processing/test``): directory holding ``test.csv`` (transformed, target first)
- ``--output`` (default ``/opt/ml/processing/evaluation``): receives ``evaluation.json`` in SageMaker's
  model-quality layout for the model's problem type (``metrics.evaluate``), e.g.::

    {"regression_metrics": {"mse": {"value": v, "standard_deviation": s}, "rmse": {...}, "mae": {...},
                            "r2": {...}}}
    {"binary_classification_metrics": {"confusion_matrix": {...}, "f1": {...}, "auc": {...}, ...}}

The schema (problem type, classes, probability cut-off) is the one the model was trained with (its
``preprocessor.json``). Standard deviations are ``metrics``' bootstrap estimates (reproducible).
"""

from __future__ import annotations

import argparse
import logging
import os
import tarfile
import tempfile
from typing import Any, Dict, List, Optional

import datafiles
import metrics
import numpy as np
import preprocess
import step_io
from datafiles import ArtifactError, DataError, StepError

logger = logging.getLogger(__name__)

EVALUATION_FILE = "evaluation.json"
MODEL_ARCHIVE = "model.tar.gz"
MODEL_FILE = "xgboost-model.json"  # serve.MODEL_FILE; serve is imported lazily (see evaluate)


def regression_metrics(
    y_true: Any, y_pred: Any, seed: int = metrics.BOOTSTRAP_SEED
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
    section: Dict[str, Dict[str, float]] = metrics.evaluate(metrics.REGRESSION, truth, predicted, seed=seed)[
        metrics.SECTIONS[metrics.REGRESSION]
    ]
    return section


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
    schema = model.schema
    test_path = datafiles.find_single_csv(test_location, preferred=preprocess.TEST_FILE)
    frame = datafiles.read_numeric_csv(test_path, [schema.target, *model.transformer["output_columns"]])
    values = frame.to_numpy(dtype=np.float64)
    dmatrix = xgb.DMatrix(values[:, 1:], feature_names=list(model.transformer["output_columns"]))
    predictions = np.asarray(model.booster.predict(dmatrix), dtype=np.float64)
    document = metrics.evaluate(
        schema.problem_type,
        values[:, 0],
        predictions,
        labels=schema.labels,
        cutoff=schema.probability_threshold,
    )
    datafiles.write_json_atomic(document, os.path.join(output_dir, EVALUATION_FILE))
    logger.info(
        "%s: %d rows, %s %.4f",
        test_path,
        len(values),
        schema.metric,
        metrics.value_of(document, schema.problem_type, schema.metric),
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
    step_io.exit_process(main())
