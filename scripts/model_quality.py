"""Model-quality step: compare batch predictions with ground truth and enforce a threshold.

    python3 model_quality.py --predictions DIR --ground-truth DIR --output DIR --threshold FLOAT
                             [--metric rmse] [--problem-type Regression]

- ``--predictions`` (default ``/opt/ml/processing/input/predictions``): ``predictions.csv`` from join.py
  (headerless, one prediction per line)
- ``--ground-truth`` (default ``/opt/ml/processing/input/ground_truth``): ``ground-truth.csv`` (headerless
  TARGET, same rows in the same order)
- ``--output`` (default ``/opt/ml/processing/output``) receives ``model_quality_report.html`` (metrics,
  predicted vs actual, residuals) and ``model_quality.json`` in Model Monitor's model-quality layout plus a
  ``threshold_check``::

    {"version": 0.0, "dataset": {"item_count": N, "evaluation_time": "2026-11-24T14:30:00.000Z"},
     "regression_metrics": {"mae": {"value": v, "standard_deviation": s}, "mse": ..., "rmse": ..., "r2": ...},
     "threshold_check": {"metric": "rmse", "value": v, "threshold": t, "comparison": "<=", "passed": true}}

``--metric`` is one of mse, rmse, mae (lower is better: breached when above the threshold) or r2 (higher
is better: breached when below). Standard deviations are evaluate.py's bootstrap.

Exit codes: 0 within threshold; 1 threshold breached (the JSON is still written; stderr carries one
``MODEL QUALITY FAILED: ...`` line: this failure is the retraining signal); 2 bad input (one ``ERROR:``
line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import math
import os
import sys
from typing import Any, Dict, List, NamedTuple, Optional

import datafiles
import dq_report
import evaluate
from datafiles import TARGET, DataError, StepError

logger = logging.getLogger(__name__)

MODEL_QUALITY_FILE = "model_quality.json"
REPORT_FILE = "model_quality_report.html"
PREDICTIONS_FILE = "predictions.csv"
LOWER_IS_BETTER = ("mse", "rmse", "mae")
HIGHER_IS_BETTER = ("r2",)
METRICS = LOWER_IS_BETTER + HIGHER_IS_BETTER


def threshold_check(metric: str, value: float, threshold: float) -> Dict[str, Any]:
    """Whether ``value`` of ``metric`` is within ``threshold`` (equal passes)."""
    if metric not in METRICS:
        raise StepError("unknown metric %r" % metric, fix="use one of %s" % ", ".join(METRICS))
    if not math.isfinite(threshold):
        raise StepError(
            "threshold %r is not a finite number" % threshold, fix="pass --threshold 3.0 or similar"
        )
    lower = metric in LOWER_IS_BETTER
    passed = value <= threshold if lower else value >= threshold
    return {
        "metric": metric,
        "value": value,
        "threshold": threshold,
        "comparison": "<=" if lower else ">=",
        "passed": bool(passed),
    }


def model_quality_report(
    y_true: Any,
    y_pred: Any,
    metric: str,
    threshold: float,
    evaluation_time: datetime.datetime,
) -> Dict[str, Any]:
    """The model_quality.json document (pure: the time is passed in)."""
    metrics = evaluate.regression_metrics(y_true, y_pred)
    ordered = {name: metrics[name] for name in ("mae", "mse", "rmse", "r2")}
    stamp = evaluation_time.astimezone(datetime.timezone.utc)
    return {
        "version": 0.0,
        "dataset": {
            "item_count": len(y_true),
            "evaluation_time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (stamp.microsecond // 1000),
        },
        "regression_metrics": ordered,
        "threshold_check": threshold_check(metric, ordered[metric]["value"], threshold),
    }


def failure_message(report: Dict[str, Any], predictions_path: str, ground_truth_path: str) -> str:
    """The one stderr line for a breached threshold."""
    check = report["threshold_check"]
    relation = "exceeds" if check["comparison"] == "<=" else "is below"
    return (
        "MODEL QUALITY FAILED: %s %.3f %s threshold %.3f on %d rows (%s vs %s). "
        "This failure is the retraining signal."
        % (
            check["metric"],
            check["value"],
            relation,
            check["threshold"],
            report["dataset"]["item_count"],
            predictions_path,
            ground_truth_path,
        )
    )


class QualityResult(NamedTuple):
    report: Dict[str, Any]
    predictions_path: str
    ground_truth_path: str


def check_model_quality(
    predictions_location: str,
    ground_truth_location: str,
    output_dir: str,
    *,
    metric: str,
    threshold: float,
    now: Optional[datetime.datetime] = None,
) -> QualityResult:
    """Read both files, write model_quality.json; returns the report and the files it compared."""
    predictions_path = datafiles.find_single_csv(predictions_location, preferred=PREDICTIONS_FILE)
    ground_truth_path = datafiles.find_single_csv(
        ground_truth_location, preferred=datafiles.GROUND_TRUTH_FILE
    )
    predictions = datafiles.read_target_csv(predictions_path, name="prediction")
    truth = datafiles.read_target_csv(ground_truth_path, name=TARGET)
    if len(predictions) != len(truth):
        raise DataError(
            "%d predictions (%s) but %d ground-truth rows (%s)"
            % (len(predictions), predictions_path, len(truth), ground_truth_path),
            fix="provide ground truth for exactly the scored rows, in the same order",
        )
    report = model_quality_report(
        truth.to_numpy(),
        predictions.to_numpy(),
        metric,
        threshold,
        now or datetime.datetime.now(datetime.timezone.utc),
    )
    datafiles.write_json_atomic(report, os.path.join(output_dir, MODEL_QUALITY_FILE))
    # Predicted vs actual and residual plots, next to the JSON, so people look instead of reading JSON.
    dq_report.model_quality_report(
        predictions.to_numpy(), truth.to_numpy(), report, os.path.join(output_dir, REPORT_FILE)
    )
    return QualityResult(report, predictions_path, ground_truth_path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Check model quality against ground truth.")
    parser.add_argument("--predictions", default="/opt/ml/processing/input/predictions")
    parser.add_argument("--ground-truth", default="/opt/ml/processing/input/ground_truth")
    parser.add_argument("--output", default="/opt/ml/processing/output")
    parser.add_argument("--metric", choices=METRICS, default="rmse")
    parser.add_argument("--threshold", type=float, required=True)
    parser.add_argument("--problem-type", choices=("Regression",), default="Regression")
    args = parser.parse_args(argv)
    datafiles.configure_logging()
    try:
        result = check_model_quality(
            args.predictions, args.ground_truth, args.output, metric=args.metric, threshold=args.threshold
        )
    except StepError as error:
        return datafiles.report_error(error)
    report = result.report
    check = report["threshold_check"]
    if not check["passed"]:
        message = failure_message(report, result.predictions_path, result.ground_truth_path)
        print(message, file=sys.stderr, flush=True)
        return datafiles.EXIT_THRESHOLD_BREACHED
    logger.info(
        "model quality passed: %s %.4f %s %.4f on %d rows",
        check["metric"],
        check["value"],
        check["comparison"],
        check["threshold"],
        report["dataset"]["item_count"],
    )
    return datafiles.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
