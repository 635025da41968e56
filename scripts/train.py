"""Training entry point for the SageMaker XGBoost framework container (1.7-1, script mode).

Inputs (SageMaker sets the environment variables; the flags override them):

- ``--train`` (``SM_CHANNEL_TRAIN``) and ``--validation`` (``SM_CHANNEL_VALIDATION``): directories holding
  the transformed, headerless CSVs written by ``preprocess.py fit`` (TARGET first)
- ``--preprocessor`` (``SM_CHANNEL_PREPROCESSOR``): directory holding ``preprocessor.json``, which
  carries the data set's schema (problem type, classes)
- ``--model-dir`` (``SM_MODEL_DIR``, default ``/opt/ml/model``): receives ``xgboost-model.json`` (the
  booster, JSON format) and a copy of ``preprocessor.json``, so the model artifact carries its transformer
- hyperparameters as ``--key value``: num_round, max_depth, eta, gamma, min_child_weight, subsample,
  colsample_bytree, objective (one that fits the problem type: ``metrics.XGBOOST_OBJECTIVES``; default
  the first), num_class (multiclass: the number of classes), early_stopping_rounds (0 = off), seed.
  Unknown arguments (SageMaker tuning adds ``_tuning_objective_metric``) are logged and ignored.

Metrics (``metrics.TRAINING_METRICS``: rmse; logloss and auc; mlogloss and merror): every iteration
prints ``[<i>]\\ttrain-<m>:<v>...\\tvalidation-<m>:<v>...`` to stdout (CloudWatch shows the tab as
``#011``), then one final line for the iteration the saved model ends at (the best one by the first metric
when early stopping is on, else the last). Metric definitions for the estimator and the tuner (the
value reported is the LAST match), e.g.::

    {"Name": "train:rmse", "Regex": "train-rmse:([0-9\\.]+)"}
    {"Name": "validation:rmse", "Regex": "validation-rmse:([0-9\\.]+)"}

Values are printed in fixed-point notation so the regexes always match.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

import datafiles
import metrics
import numpy as np
import preprocess
import step_io
import xgboost as xgb
from datafiles import StepError
from dataset import Dataset

logger = logging.getLogger(__name__)

MODEL_FILE = "xgboost-model.json"


def _integer(text: str) -> int:
    """An integer hyperparameter; tuning jobs may send integral values as '5.0'."""
    value = float(text)
    if value != int(value):
        raise argparse.ArgumentTypeError("expected an integer, got %r" % text)
    return int(value)


def _text(text: str) -> str:
    """A string hyperparameter, tolerating one level of JSON quoting ('"reg:squarederror"')."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def load_split(directory: str, spec: Dict[str, Any], preferred: str) -> Tuple[np.ndarray, np.ndarray]:
    """(target, features) from a transformed CSV; its columns must match the transformer's outputs."""
    path = datafiles.find_single_csv(directory, preferred=preferred)
    frame = datafiles.read_numeric_csv(path, [spec["dataset"]["target"]["name"], *spec["output_columns"]])
    values = frame.to_numpy(dtype=np.float64)
    return values[:, 0], values[:, 1:]


def objective_for(schema: Dataset, requested: str) -> str:
    """The XGBoost objective: ``requested`` when it fits the problem type, else a clear error."""
    allowed = metrics.XGBOOST_OBJECTIVES[schema.problem_type]
    objective = requested or allowed[0]
    if objective not in allowed:
        raise StepError(
            "objective %r does not fit a %s problem" % (objective, schema.problem_type),
            fix="use one of %s (or leave objective out)" % ", ".join(allowed),
        )
    return objective


def booster_params(hyperparameters: Dict[str, Any], schema: Dataset) -> Dict[str, Any]:
    """xgboost.train params from the hyperparameters (num_round and early stopping are separate)."""
    params = {
        "max_depth": hyperparameters["max_depth"],
        "eta": hyperparameters["eta"],
        "gamma": hyperparameters["gamma"],
        "min_child_weight": hyperparameters["min_child_weight"],
        "subsample": hyperparameters["subsample"],
        "colsample_bytree": hyperparameters["colsample_bytree"],
        "objective": objective_for(schema, hyperparameters["objective"]),
        "seed": hyperparameters["seed"],
        "eval_metric": [name for name, _ in metrics.TRAINING_METRICS[schema.problem_type]],
        "verbosity": 1,
    }
    if schema.problem_type == metrics.MULTICLASS:
        given = hyperparameters.get("num_class") or schema.num_class
        if given != schema.num_class:
            raise StepError(
                "num_class is %d but the data set has %d classes" % (given, schema.num_class),
                fix="leave num_class out, or set it to the number of classes in dataset.yaml",
            )
        params["num_class"] = schema.num_class
    return params


class MetricLogger(xgb.callback.TrainingCallback):
    """Prints one line per iteration in the format the metric regexes expect."""

    def __init__(self, names: List[str], stream: Any = None) -> None:
        super().__init__()
        self.names = names
        self.stream = stream
        self.history: List[Dict[str, float]] = []

    def line(self, values: Dict[str, float]) -> str:
        return "\t".join(
            "%s-%s:%.6f" % (split, name, values["%s-%s" % (split, name)])
            for split in ("train", "validation")
            for name in self.names
        )

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        values = {
            "%s-%s" % (split, name): float(evals_log[split][name][-1])
            for split in ("train", "validation")
            for name in self.names
        }
        self.history.append(values)
        print("[%d]\t%s" % (epoch, self.line(values)), file=self.stream or sys.stdout, flush=True)
        return False


def train_model(
    train: Tuple[np.ndarray, np.ndarray],
    validation: Tuple[np.ndarray, np.ndarray],
    feature_names: List[str],
    hyperparameters: Dict[str, Any],
    schema: Dataset,
) -> Tuple[xgb.Booster, Dict[str, float]]:
    """Train and return the booster and its final ``{"<split>-<metric>": value}`` (of the saved iteration)."""
    dtrain = xgb.DMatrix(train[1], label=train[0], feature_names=feature_names)
    dvalidation = xgb.DMatrix(validation[1], label=validation[0], feature_names=feature_names)
    names = [name for name, _ in metrics.TRAINING_METRICS[schema.problem_type]]
    params = booster_params(hyperparameters, schema)
    metric_logger = MetricLogger(names)
    callbacks: List[Any] = [metric_logger]
    rounds = hyperparameters["early_stopping_rounds"]
    if rounds:
        # save_best trims the returned booster to the best iteration, so the saved model is the one scored.
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=rounds, metric_name=names[0], data_name="validation", save_best=True
            )
        )
    try:
        booster = xgb.train(
            params,
            dtrain,
            num_boost_round=hyperparameters["num_round"],
            evals=[(dtrain, "train"), (dvalidation, "validation")],
            verbose_eval=False,
            callbacks=callbacks,
        )
    except xgb.core.XGBoostError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise StepError(
            "XGBoost rejected the training configuration: %s" % first_line,
            fix="check the hyperparameters passed to the training job",
        ) from error
    best = int(booster.num_boosted_rounds()) - 1
    final = metric_logger.history[best]
    print(metric_logger.line(final), flush=True)
    return booster, final


def run(
    train_dir: str,
    validation_dir: str,
    preprocessor_dir: str,
    model_dir: str,
    hyperparameters: Dict[str, Any],
) -> Dict[str, float]:
    """Load the channels, train, and write the model directory; returns the final metrics."""
    if hyperparameters["num_round"] < 1:
        raise StepError(
            "num_round must be at least 1", fix="pass --num_round 100 (or another positive value)"
        )
    spec = preprocess.load_transformer(preprocessor_dir)
    schema = preprocess.transformer_schema(spec)
    transformer_path = os.path.join(preprocessor_dir, preprocess.TRANSFORMER_FILE)
    if os.path.isfile(preprocessor_dir):
        transformer_path = preprocessor_dir
    train = load_split(train_dir, spec, preprocess.TRAIN_FILE)
    validation = load_split(validation_dir, spec, preprocess.VALIDATION_FILE)
    logger.info("training on %d rows, validating on %d rows", len(train[0]), len(validation[0]))
    booster, final = train_model(train, validation, list(spec["output_columns"]), hyperparameters, schema)
    with datafiles.staged_outputs() as stage:
        booster.save_model(stage.path(os.path.join(model_dir, MODEL_FILE)))
        stage.copy(transformer_path, os.path.join(model_dir, preprocess.TRANSFORMER_FILE))
    return final


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Train the XGBoost model (SageMaker script mode).")
    env = os.environ.get
    parser.add_argument("--model-dir", "--model_dir", default=env("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=env("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    parser.add_argument("--validation", default=env("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"))
    parser.add_argument(
        "--preprocessor", default=env("SM_CHANNEL_PREPROCESSOR", "/opt/ml/input/data/preprocessor")
    )
    parser.add_argument("--num_round", type=_integer, default=100)
    parser.add_argument("--max_depth", type=_integer, default=5)
    parser.add_argument("--eta", type=float, default=0.2)
    parser.add_argument("--gamma", type=float, default=4.0)
    parser.add_argument("--min_child_weight", type=float, default=6.0)
    parser.add_argument("--subsample", type=float, default=0.8)
    parser.add_argument("--colsample_bytree", type=float, default=1.0)
    parser.add_argument("--objective", type=_text, default="", help="default: the problem type's first")
    parser.add_argument("--num_class", type=_integer, default=0, help="multiclass: the number of classes")
    parser.add_argument("--early_stopping_rounds", type=_integer, default=0, help="0 turns it off")
    parser.add_argument("--seed", type=_integer, default=42)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args, unknown = build_parser().parse_known_args(argv)
    datafiles.configure_logging()
    if unknown:
        logger.warning("ignoring arguments this script does not use: %s", " ".join(unknown))
    hyperparameters = {
        key: getattr(args, key)
        for key in (
            "num_round",
            "max_depth",
            "eta",
            "gamma",
            "min_child_weight",
            "subsample",
            "colsample_bytree",
            "objective",
            "num_class",
            "early_stopping_rounds",
            "seed",
        )
    }
    logger.info("hyperparameters: %s", hyperparameters)
    try:
        run(args.train, args.validation, args.preprocessor, args.model_dir, hyperparameters)
    except StepError as error:
        return datafiles.report_error(error)
    return datafiles.EXIT_OK


if __name__ == "__main__":
    step_io.exit_process(main())
