"""Serving functions for the SageMaker XGBoost framework container (1.7-1), used by batch transform.

The model directory (the extracted ``model.tar.gz``) holds ``xgboost-model.json`` and the
``preprocessor.json`` the model was trained with. Requests are raw, headerless ``text/csv`` rows of the 8
FEATURES (one row per line); the saved transformer is applied unchanged, so serving sees exactly the
inputs training saw. A header row, a wrong column count or a non-numeric value is rejected with the row
and column named. Responses are ``text/csv``, one prediction per line, in request order.

``main`` scores a whole CSV file with the same four functions, for local runs and tests::

    python3 serve.py --model-dir DIR --input FILE --output FILE
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Dict, List, NamedTuple, Optional, Union

import datafiles
import numpy as np
import pandas as pd
import preprocess
import xgboost as xgb
from datafiles import ArtifactError, DataError, StepError

logger = logging.getLogger(__name__)

MODEL_FILE = "xgboost-model.json"
CSV = "text/csv"


class Model(NamedTuple):
    booster: xgb.Booster
    transformer: Dict[str, Any]


def model_fn(model_dir: str) -> Model:
    """Load the booster and its transformer from an extracted model directory."""
    path = os.path.join(model_dir, MODEL_FILE)
    if not os.path.isfile(path):
        raise ArtifactError(
            "model file %s does not exist" % MODEL_FILE,
            fix="point at the directory extracted from the training job's model.tar.gz",
            file=path,
        )
    booster = xgb.Booster()
    try:
        booster.load_model(path)
    except xgb.core.XGBoostError as error:
        raise ArtifactError(
            "model file cannot be loaded (%s)" % str(error).strip().splitlines()[0],
            fix="re-run training; the artifact is corrupt or from an incompatible XGBoost",
            file=path,
        ) from error
    transformer = preprocess.load_transformer(os.path.join(model_dir, preprocess.TRANSFORMER_FILE))
    return Model(booster, transformer)


def _media_type(content_type: Optional[str]) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def input_fn(request_body: Union[str, bytes], request_content_type: Optional[str]) -> pd.DataFrame:
    """Parse a text/csv request of raw, headerless feature rows."""
    if _media_type(request_content_type) != CSV:
        raise DataError(
            "unsupported content type %r" % request_content_type,
            fix="send the raw feature rows as text/csv",
        )
    return datafiles.parse_features_text(request_body, source="request")


def predict_fn(input_data: pd.DataFrame, model: Model) -> np.ndarray:
    """Apply the saved transformer, then predict; returns float64 predictions in input order."""
    matrix = preprocess.apply_transformer(model.transformer, input_data)
    dmatrix = xgb.DMatrix(matrix, feature_names=list(model.transformer["output_columns"]))
    return np.asarray(model.booster.predict(dmatrix), dtype=np.float64)


def format_predictions(prediction: np.ndarray) -> str:
    """One prediction per line, shortest round-tripping float32 text, never in exponent notation."""
    values = np.asarray(prediction, dtype=np.float32).ravel()
    return "".join(np.format_float_positional(value, unique=True, trim="0") + "\n" for value in values)


def output_fn(prediction: np.ndarray, accept: Optional[str]) -> str:
    """Serialise predictions as text/csv (the only type offered)."""
    if _media_type(accept) not in ("", "*/*", CSV):
        raise DataError("unsupported accept type %r" % accept, fix="accept text/csv")
    return format_predictions(prediction)


def score_file(model_dir: str, input_path: str, output_path: str) -> int:
    """Batch-score one CSV file through the serving functions; returns the number of rows."""
    model = model_fn(model_dir)
    if not os.path.isfile(input_path):
        raise DataError("input file does not exist", fix="pass the validated inference CSV", file=input_path)
    with open(input_path, "rb") as handle:
        body = handle.read()
    try:
        features = input_fn(body, CSV)
    except DataError as error:
        # Name the real file rather than "request".
        raise DataError(
            error.what, fix=error.fix, file=input_path, row=error.row, column=error.column
        ) from None
    predictions = predict_fn(features, model)
    with datafiles.staged_outputs() as stage:
        stage.write_text(output_path, output_fn(predictions, CSV))
    logger.info("scored %d rows from %s", len(predictions), input_path)
    return len(predictions)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Batch-score a CSV file with the serving functions.")
    parser.add_argument("--model-dir", default="/opt/ml/model", help="extracted model directory")
    parser.add_argument("--input", required=True, help="headerless CSV of raw features")
    parser.add_argument("--output", required=True, help="file to write, one prediction per line")
    args = parser.parse_args(argv)
    datafiles.configure_logging()
    try:
        score_file(args.model_dir, args.input, args.output)
    except StepError as error:
        return datafiles.report_error(error)
    return datafiles.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
