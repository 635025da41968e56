"""Training entry point for the SageMaker XGBoost framework container (1.7-1, script mode).

Inputs (SageMaker sets the environment variables; the flags override them):

- ``--train`` (``SM_CHANNEL_TRAIN``) and ``--validation`` (``SM_CHANNEL_VALIDATION``): directories holding
  the transformed, headerless CSVs written by ``preprocess.py fit`` (TARGET first)
- ``--preprocessor`` (``SM_CHANNEL_PREPROCESSOR``): directory holding ``preprocessor.json``
- ``--model-dir`` (``SM_MODEL_DIR``, default ``/opt/ml/model``): receives ``xgboost-model.json`` (the
  booster, JSON format) and a copy of ``preprocessor.json``, so the model artifact carries its transformer
- hyperparameters as ``--key value``: num_round, max_depth, eta, gamma, min_child_weight, subsample,
  colsample_bytree, objective, early_stopping_rounds (0 = off), seed. Unknown arguments (SageMaker
  tuning adds ``_tuning_objective_metric``) are logged and ignored.

Metrics: every iteration prints ``[<i>]\\ttrain-rmse:<v>\\tvalidation-rmse:<v>`` to stdout (CloudWatch
shows the tab as ``#011``), then one final line ``train-rmse:<v>\\tvalidation-rmse:<v>`` for the iteration
the saved model ends at (the best one when early stopping is on, else the last). Metric definitions for
the estimator and the tuner (the LAST match is the reported value)::

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
import numpy as np
import preprocess
import xgboost as xgb
from datafiles import TARGET, StepError

logger = logging.getLogger(__name__)

MODEL_FILE = "xgboost-model.json"
METRIC = "rmse"


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
    frame = datafiles.read_numeric_csv(path, [TARGET, *spec["output_columns"]])
    values = frame.to_numpy(dtype=np.float64)
    return values[:, 0], values[:, 1:]


def booster_params(hyperparameters: Dict[str, Any]) -> Dict[str, Any]:
    """xgboost.train params from the hyperparameters (num_round and early stopping are separate)."""
    return {
        "max_depth": hyperparameters["max_depth"],
        "eta": hyperparameters["eta"],
        "gamma": hyperparameters["gamma"],
        "min_child_weight": hyperparameters["min_child_weight"],
        "subsample": hyperparameters["subsample"],
        "colsample_bytree": hyperparameters["colsample_bytree"],
        "objective": hyperparameters["objective"],
        "seed": hyperparameters["seed"],
        "eval_metric": METRIC,
        "verbosity": 1,
    }


class MetricLogger(xgb.callback.TrainingCallback):
    """Prints one line per iteration in the format the metric regexes expect."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__()
        self.stream = stream
        self.history: List[Tuple[float, float]] = []

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        train_value = float(evals_log["train"][METRIC][-1])
        validation_value = float(evals_log["validation"][METRIC][-1])
        self.history.append((train_value, validation_value))
        print(
            "[%d]\ttrain-%s:%.6f\tvalidation-%s:%.6f"
            % (epoch, METRIC, train_value, METRIC, validation_value),
            file=self.stream or sys.stdout,
            flush=True,
        )
        return False


def train_model(
    train: Tuple[np.ndarray, np.ndarray],
    validation: Tuple[np.ndarray, np.ndarray],
    feature_names: List[str],
    hyperparameters: Dict[str, Any],
) -> Tuple[xgb.Booster, Dict[str, float]]:
    """Train and return the booster and its final {train, validation} rmse (of the saved iteration)."""
    dtrain = xgb.DMatrix(train[1], label=train[0], feature_names=feature_names)
    dvalidation = xgb.DMatrix(validation[1], label=validation[0], feature_names=feature_names)
    metric_logger = MetricLogger()
    callbacks: List[Any] = [metric_logger]
    rounds = hyperparameters["early_stopping_rounds"]
    if rounds:
        # save_best trims the returned booster to the best iteration, so the saved model is the one scored.
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=rounds, metric_name=METRIC, data_name="validation", save_best=True
            )
        )
    try:
        booster = xgb.train(
            booster_params(hyperparameters),
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
    train_value, validation_value = metric_logger.history[best]
    print("train-%s:%.6f\tvalidation-%s:%.6f" % (METRIC, train_value, METRIC, validation_value), flush=True)
    return booster, {"train": train_value, "validation": validation_value}


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
    transformer_path = os.path.join(preprocessor_dir, preprocess.TRANSFORMER_FILE)
    if os.path.isfile(preprocessor_dir):
        transformer_path = preprocessor_dir
    train = load_split(train_dir, spec, preprocess.TRAIN_FILE)
    validation = load_split(validation_dir, spec, preprocess.VALIDATION_FILE)
    logger.info("training on %d rows, validating on %d rows", len(train[0]), len(validation[0]))
    booster, metrics = train_model(train, validation, list(spec["output_columns"]), hyperparameters)
    with datafiles.staged_outputs() as stage:
        booster.save_model(stage.path(os.path.join(model_dir, MODEL_FILE)))
        stage.copy(transformer_path, os.path.join(model_dir, preprocess.TRANSFORMER_FILE))
    return metrics


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Train the XGBoost regressor (SageMaker script mode).")
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
    parser.add_argument("--objective", type=_text, default="reg:squarederror")
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
    sys.exit(main())
