"""Serving functions for the SageMaker XGBoost framework container (1.7-1), used by batch transform.

The model directory (the extracted ``model.tar.gz``) holds ``xgboost-model.json`` and the
``preprocessor.json`` the model was trained with, which carries the data set's schema. Requests are raw,
headerless ``text/csv`` rows of the schema's features (one row per line); the saved transformer is applied
unchanged, so serving sees exactly the inputs training saw. A header row, a wrong column count or a
non-numeric value is rejected with the row and column named. Responses are ``text/csv``, one line per
request row, in request order, with the columns ``Dataset.prediction_columns()``:

- regression: the prediction;
- classification: the predicted label, then one probability per class in the schema's label order
  (binary: the negative class, then the positive one); the label is the positive class when its
  probability reaches ``probability_threshold`` (binary), else the most probable class.

``main`` scores a whole CSV file with the same four functions, for local runs and tests::

    python3 serve.py --model-dir DIR --input FILE --output FILE
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any, Dict, List, NamedTuple, Optional, Union

import datafiles
import numpy as np
import pandas as pd
import preprocess
import step_io
import xgboost as xgb
from datafiles import ArtifactError, DataError, StepError
from dataset import Dataset

logger = logging.getLogger(__name__)

MODEL_FILE = "xgboost-model.json"
CSV = "text/csv"


class Model(NamedTuple):
    booster: xgb.Booster
    transformer: Dict[str, Any]
    schema: Dataset


class Request(NamedTuple):
    """A text/csv request body, parsed against the model's schema in predict_fn (input_fn has no model)."""

    body: Union[str, bytes]


class Predictions(NamedTuple):
    """predict_fn's result: the values (n,) or class probabilities (n, K), and the schema to label them."""

    values: np.ndarray
    schema: Dataset


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
    return Model(booster, transformer, preprocess.transformer_schema(transformer))


def _media_type(content_type: Optional[str]) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def input_fn(request_body: Union[str, bytes], request_content_type: Optional[str]) -> Request:
    """Accept a text/csv request of raw, headerless feature rows (parsed by predict_fn)."""
    if _media_type(request_content_type) != CSV:
        raise DataError(
            "unsupported content type %r" % request_content_type,
            fix="send the raw feature rows as text/csv",
        )
    return Request(request_body)


def parse(request: Union[Request, pd.DataFrame], model: Model) -> pd.DataFrame:
    if isinstance(request, pd.DataFrame):
        return request
    return datafiles.parse_features_text(request.body, model.schema, source="request")


def predict_fn(input_data: Union[Request, pd.DataFrame], model: Model) -> Predictions:
    """Validate against the schema, apply the saved transformer, then predict, in input order."""
    matrix = preprocess.apply_transformer(model.transformer, parse(input_data, model))
    dmatrix = xgb.DMatrix(matrix, feature_names=list(model.transformer["output_columns"]))
    values = np.asarray(model.booster.predict(dmatrix), dtype=np.float64)
    if model.schema.problem_type == "binary":
        positive = values.ravel()
        values = np.column_stack([1.0 - positive, positive])
    return Predictions(values, model.schema)


def _number(value: float) -> str:
    """Shortest round-tripping float32 text, never in exponent notation."""
    return np.format_float_positional(np.float32(value), unique=True, trim="0")


def predicted_labels(predictions: Predictions) -> List[str]:
    """The label of each row: binary by the probability cut-off, multiclass by the most probable class."""
    schema, values = predictions.schema, predictions.values
    labels = schema.labels
    if schema.problem_type == "binary":
        return [labels[1] if p >= schema.probability_threshold else labels[0] for p in values[:, 1]]
    return [labels[i] for i in np.argmax(values, axis=1)]


def format_predictions(predictions: Predictions) -> str:
    """One line per row: the prediction, or the label and the class probabilities."""
    if not predictions.schema.is_classification:
        return "".join(_number(value) + "\n" for value in predictions.values.ravel())
    rows = zip(predicted_labels(predictions), predictions.values)  # noqa: B905  (zip(strict=) is Python 3.10; the containers run 3.8)
    return "".join(
        ",".join([label] + [_number(p) for p in probabilities]) + "\n" for label, probabilities in rows
    )


def output_fn(prediction: Predictions, accept: Optional[str]) -> str:
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
    features = input_fn(body, CSV)
    try:
        predictions = predict_fn(features, model)
    except DataError as error:
        # Name the real file rather than "request".
        raise DataError(
            error.what, fix=error.fix, file=input_path, row=error.row, column=error.column
        ) from None
    with datafiles.staged_outputs() as stage:
        stage.write_text(output_path, output_fn(predictions, CSV))
    logger.info("scored %d rows from %s", len(predictions.values), input_path)
    return len(predictions.values)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Batch-score a CSV file with the serving functions.")
    parser.add_argument("--model-dir", default="/opt/ml/model", help="extracted model directory")
    parser.add_argument("--input", required=True, help="headerless CSV of raw features")
    parser.add_argument("--output", required=True, help="file to write, one line per row")
    args = parser.parse_args(argv)
    datafiles.configure_logging()
    try:
        score_file(args.model_dir, args.input, args.output)
    except StepError as error:
        return datafiles.report_error(error)
    return datafiles.EXIT_OK


if __name__ == "__main__":
    step_io.exit_process(main())
