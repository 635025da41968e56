"""Model-quality step: compare batch predictions with ground truth and enforce a threshold.

    python3 model_quality.py --predictions DIR --ground-truth DIR --output DIR --metric NAME
                             --threshold FLOAT [--dataset dataset.json]

- ``--predictions`` (default ``/opt/ml/processing/input/predictions``): ``predictions.csv`` from join.py
  (headerless, the columns of ``Dataset.prediction_columns()``: the prediction, or the predicted label and
  the class probabilities)
- ``--ground-truth`` (default ``/opt/ml/processing/input/ground_truth``): ``ground-truth.csv`` (headerless
  target, same rows in the same order; class labels for classification)
- ``--output`` (default ``/opt/ml/processing/output``) receives ``model_quality_report.html`` and
  ``model_quality.json`` in Model Monitor's model-quality layout for the problem type plus a
  ``threshold_check``::

    {"version": 0.0, "dataset": {"item_count": N, "evaluation_time": "2026-11-24T14:30:00.000Z"},
     "regression_metrics": {"mae": {"value": v, "standard_deviation": s}, "mse": ..., "rmse": ..., "r2": ...},
     "threshold_check": {"metric": "rmse", "value": v, "threshold": t, "comparison": "<=", "passed": true}}

  (``binary_classification_metrics`` / ``multiclass_classification_metrics`` with the confusion matrix for
  classification; see ``metrics.py``).

``--metric`` is one of the problem type's metrics; whether higher or lower is better comes from
``metrics.METRICS`` (breached when above the threshold for lower-is-better metrics, below it otherwise).

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
import dataset
import dq_report
import metrics
import mq_report
import numpy as np
import step_io
from datafiles import DataError, StepError
from dataset import Dataset

logger = logging.getLogger(__name__)

MODEL_QUALITY_FILE = "model_quality.json"
REPORT_FILE = "model_quality_report.html"
PREDICTIONS_FILE = "predictions.csv"


def threshold_check(metric: str, problem_type: str, value: float, threshold: float) -> Dict[str, Any]:
    """Whether ``value`` of ``metric`` is within ``threshold`` (equal passes) in the metric's direction."""
    if metrics.lookup(metric, problem_type) is None:
        raise StepError(
            "%r is not a %s metric" % (metric, problem_type),
            fix="use one of %s" % ", ".join(metrics.metric_names(problem_type)),
        )
    if not math.isfinite(threshold):
        raise StepError(
            "threshold %r is not a finite number" % threshold, fix="pass --threshold 3.0 or similar"
        )
    comparison, passed = metrics.threshold_summary(problem_type, metric, value, threshold)
    defined = math.isfinite(value)  # an undefined metric (auc with one class present) does not pass
    return {
        "metric": metric,
        "value": value if defined else None,
        "threshold": threshold,
        "comparison": comparison,
        "passed": bool(passed) and defined,
    }


def _stamp(evaluation_time: datetime.datetime) -> str:
    stamp = evaluation_time.astimezone(datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (stamp.microsecond // 1000)


def model_quality_report(
    truth: Any,
    prediction: Any,
    metric: str,
    threshold: float,
    evaluation_time: datetime.datetime,
    *,
    schema: Optional[Dataset] = None,
) -> Dict[str, Any]:
    """The model_quality.json document (pure: the time is passed in).

    Regression: ``truth`` and ``prediction`` are numbers. Classification: ``truth`` holds class indices in
    ``schema.labels`` order and ``prediction`` the class probabilities (one column per label)."""
    problem_type = schema.problem_type if schema is not None else metrics.REGRESSION
    document = metrics.evaluate(
        problem_type,
        truth,
        prediction,
        labels=schema.labels if schema is not None else (),
        cutoff=schema.probability_threshold if schema is not None else 0.5,
    )
    section = document[metrics.SECTIONS[problem_type]]
    if problem_type == metrics.REGRESSION:
        section = {name: section[name] for name in ("mae", "mse", "rmse", "r2")}
    found = section.get(metric, {}).get("value")
    value = float("nan") if found is None else float(found)
    return {
        "version": 0.0,
        "dataset": {"item_count": len(truth), "evaluation_time": _stamp(evaluation_time)},
        metrics.SECTIONS[problem_type]: section,
        "threshold_check": threshold_check(metric, problem_type, value, threshold),
    }


def failure_message(report: Dict[str, Any], predictions_path: str, ground_truth_path: str) -> str:
    """The one stderr line for a breached threshold."""
    check = report["threshold_check"]
    relation = "exceeds" if check["comparison"] == "<=" else "is below"
    value = "%.3f" % check["value"] if check["value"] is not None else "is undefined on these rows and so"
    return (
        "MODEL QUALITY FAILED: %s %s %s threshold %.3f on %d rows (%s vs %s). "
        "This failure is the retraining signal."
        % (
            check["metric"],
            value,
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
    schema: Dataset,
    now: Optional[datetime.datetime] = None,
) -> QualityResult:
    """Read both files, write model_quality.json; returns the report and the files it compared."""
    predictions_path = datafiles.find_single_csv(predictions_location, preferred=PREDICTIONS_FILE)
    ground_truth_path = datafiles.find_single_csv(
        ground_truth_location, preferred=datafiles.GROUND_TRUTH_FILE
    )
    predictions = datafiles.read_predictions_csv(predictions_path, schema)
    truth = datafiles.read_target_csv(ground_truth_path, schema)
    if len(predictions) != len(truth):
        raise DataError(
            "%d predictions (%s) but %d ground-truth rows (%s)"
            % (len(predictions), predictions_path, len(truth), ground_truth_path),
            fix="provide ground truth for exactly the scored rows, in the same order",
        )
    if schema.is_classification:
        index = dataset.class_index(schema.labels)
        truth_values = np.asarray([index[label] for label in truth], dtype=np.int64)
        predicted = predictions[list(schema.prediction_columns()[1:])].to_numpy(dtype=np.float64)
    else:
        truth_values = truth.to_numpy(dtype=np.float64)
        predicted = predictions[schema.prediction_columns()[0]].to_numpy(dtype=np.float64)
    report = model_quality_report(
        truth_values,
        predicted,
        metric,
        threshold,
        now or datetime.datetime.now(datetime.timezone.utc),
        schema=schema,
    )
    datafiles.write_json_atomic(report, os.path.join(output_dir, MODEL_QUALITY_FILE))
    # Plots next to the JSON, so people look instead of reading JSON.
    report_path = os.path.join(output_dir, REPORT_FILE)
    if schema.is_classification:
        mq_report.classification_report(report, schema, report_path)
    else:
        dq_report.model_quality_report(predicted, truth_values, report, report_path)
    return QualityResult(report, predictions_path, ground_truth_path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Check model quality against ground truth.")
    parser.add_argument("--predictions", default="/opt/ml/processing/input/predictions")
    parser.add_argument("--ground-truth", default="/opt/ml/processing/input/ground_truth")
    parser.add_argument("--output", default="/opt/ml/processing/output")
    parser.add_argument("--metric", default="", help="default: dataset.yaml's model_quality.metric")
    parser.add_argument("--threshold", type=float, default=None, help="default: dataset.yaml's")
    dataset.add_argument(parser)
    args = parser.parse_args(argv)
    datafiles.configure_logging()
    try:
        schema = dataset.load(args.dataset)
        result = check_model_quality(
            args.predictions,
            args.ground_truth,
            args.output,
            metric=args.metric or schema.metric,
            threshold=schema.threshold if args.threshold is None else args.threshold,
            schema=schema,
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
    step_io.exit_process(main())
