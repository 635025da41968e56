"""Model-quality metrics for every problem type, and the ONE table that says which direction is better.

The table (``METRICS``) is read by the dataset schema's validation (a metric must fit the problem type),
the CLI's config validation (through the same file), the training pipeline's registration condition, the
model-quality step's threshold check and the reports. Values are computed with numpy alone (the SKLearn
processing container has it; no scikit-learn needed) and agree with scikit-learn's on the same inputs.

Layouts follow Model Monitor's model-quality ``statistics`` documents: ``regression_metrics``,
``binary_classification_metrics`` and ``multiclass_classification_metrics``, each metric as
``{"value": v, "standard_deviation": s}`` (bootstrap: BOOTSTRAP_RESAMPLES resamples of the rows, with
replacement, from ``numpy.random.RandomState(BOOTSTRAP_SEED)``; sample standard deviation, ddof=1), plus
``confusion_matrix`` for classification and, for binary, the ROC and precision-recall curves.

Runs on the SageMaker framework containers (Python 3.8, numpy >= 1.17): keep it that way.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

REGRESSION = "regression"
BINARY = "binary"
MULTICLASS = "multiclass"
PROBLEM_TYPES = (REGRESSION, BINARY, MULTICLASS)

BOOTSTRAP_SEED = 42
BOOTSTRAP_RESAMPLES = 100
PROBABILITY_EPSILON = 1e-15  # log loss clips probabilities to [eps, 1 - eps], as scikit-learn does


class Metric(NamedTuple):
    name: str
    problem_type: str
    higher_is_better: bool
    description: str


METRICS: Dict[str, Metric] = {
    metric.name + "@" + metric.problem_type: metric
    for metric in (
        Metric("mse", REGRESSION, False, "mean squared error"),
        Metric("rmse", REGRESSION, False, "root mean squared error"),
        Metric("mae", REGRESSION, False, "mean absolute error"),
        Metric("r2", REGRESSION, True, "coefficient of determination"),
        Metric("f1", BINARY, True, "F1 of the positive class at the probability cut-off"),
        Metric("accuracy", BINARY, True, "share of rows labelled right at the cut-off"),
        Metric("precision", BINARY, True, "precision of the positive class at the cut-off"),
        Metric("recall", BINARY, True, "recall of the positive class at the cut-off"),
        Metric("auc", BINARY, True, "area under the ROC curve"),
        Metric("logloss", BINARY, False, "log loss of the positive-class probability"),
        Metric("macro_f1", MULTICLASS, True, "unweighted mean of the per-class F1"),
        Metric("weighted_f1", MULTICLASS, True, "per-class F1 weighted by class support"),
        Metric("accuracy", MULTICLASS, True, "share of rows labelled right"),
        Metric("logloss", MULTICLASS, False, "multiclass log loss of the class probabilities"),
    )
}

# The layout key of each problem type in Model Monitor's model-quality documents.
SECTIONS = {
    REGRESSION: "regression_metrics",
    BINARY: "binary_classification_metrics",
    MULTICLASS: "multiclass_classification_metrics",
}

# The default model-quality metric of each problem type (dataset.yaml sets its own).
DEFAULT_METRIC = {REGRESSION: "rmse", BINARY: "f1", MULTICLASS: "macro_f1"}


def metric_names(problem_type: str) -> List[str]:
    """The metrics of one problem type, in table order."""
    return [m.name for m in METRICS.values() if m.problem_type == problem_type]


def lookup(name: str, problem_type: str) -> Optional[Metric]:
    return METRICS.get(name + "@" + problem_type)


def higher_is_better(name: str, problem_type: str) -> bool:
    metric = lookup(name, problem_type)
    if metric is None:
        raise KeyError(
            "%s is not a %s metric (use one of %s)" % (name, problem_type, metric_names(problem_type))
        )
    return metric.higher_is_better


def threshold_range(name: str, problem_type: str) -> Tuple[float, float]:
    """The values a threshold of ``name`` can meaningfully take: rates in [0, 1], errors and losses
    from 0 up, r2 up to 1."""
    if name in ("mse", "rmse", "mae", "logloss"):
        return 0.0, math.inf
    if name == "r2":
        return -math.inf, 1.0
    return 0.0, 1.0


def threshold_problem(name: str, problem_type: str, threshold: float) -> Optional[str]:
    """Why ``threshold`` cannot be a threshold of ``name`` (``None`` when it can)."""
    low, high = threshold_range(name, problem_type)
    if not math.isfinite(threshold):
        return "%r is not a finite number" % threshold
    if not low <= threshold <= high:
        return "%s is impossible for %s (%s to %s)" % (threshold, name, low, high)
    return None


def passes(name: str, problem_type: str, value: float, threshold: float) -> bool:
    """Whether ``value`` is within ``threshold`` in the metric's direction (equal passes)."""
    return value >= threshold if higher_is_better(name, problem_type) else value <= threshold


# --------------------------------------------------------------------------------------------------------
# Point metrics
# --------------------------------------------------------------------------------------------------------


def regression_point(y_true: np.ndarray, y_pred: np.ndarray) -> Dict[str, float]:
    """mse, rmse, mae and r2 of one sample (r2: scikit-learn's convention for a constant target)."""
    errors = y_pred - y_true
    mse = float(np.mean(errors**2))
    total = float(np.sum((y_true - np.mean(y_true)) ** 2))
    residual = float(np.sum(errors**2))
    r2 = 1.0 - residual / total if total > 0.0 else (1.0 if residual == 0.0 else 0.0)
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(errors))), "r2": r2}


def _safe_ratio(numerator: float, denominator: float) -> float:
    """scikit-learn's zero_division=0: an undefined precision/recall/F1 is 0.0."""
    return float(numerator) / float(denominator) if denominator > 0 else 0.0


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic with ties counted half); NaN with one class."""
    positives = int(np.sum(y_true == 1))
    negatives = len(y_true) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=np.float64)
    sorted_scores = score[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    rank_sum = float(np.sum(ranks[y_true == 1]))
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def binary_point(y_true: np.ndarray, probability: np.ndarray, cutoff: float) -> Dict[str, float]:
    """f1, accuracy, precision, recall (at ``cutoff``), auc and logloss; ``y_true`` is 0/1."""
    predicted = (probability >= cutoff).astype(np.int64)
    tp = float(np.sum((predicted == 1) & (y_true == 1)))
    fp = float(np.sum((predicted == 1) & (y_true == 0)))
    fn = float(np.sum((predicted == 0) & (y_true == 1)))
    precision = _safe_ratio(tp, tp + fp)
    recall = _safe_ratio(tp, tp + fn)
    clipped = np.clip(probability, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)
    logloss = float(-np.mean(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped)))
    return {
        "f1": _safe_ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": float(np.mean(predicted == y_true)),
        "precision": precision,
        "recall": recall,
        "auc": roc_auc(y_true, probability),
        "logloss": logloss,
    }


def multiclass_point(y_true: np.ndarray, probabilities: np.ndarray) -> Dict[str, float]:
    """macro_f1, weighted_f1, accuracy and logloss; ``y_true`` holds class indices 0..K-1."""
    k = probabilities.shape[1]
    predicted = np.argmax(probabilities, axis=1)
    f1s = np.zeros(k)
    support = np.zeros(k)
    present = np.zeros(k, dtype=bool)
    for label in range(k):
        tp = float(np.sum((predicted == label) & (y_true == label)))
        fp = float(np.sum((predicted == label) & (y_true != label)))
        fn = float(np.sum((predicted != label) & (y_true == label)))
        f1s[label] = _safe_ratio(2 * tp, 2 * tp + fp + fn)
        support[label] = np.sum(y_true == label)
        present[label] = support[label] > 0 or np.any(predicted == label)
    # scikit-learn averages over the labels present in either y_true or the predictions.
    macro = float(np.mean(f1s[present])) if present.any() else 0.0
    weighted = _safe_ratio(float(np.sum(f1s * support)), float(np.sum(support)))
    rows = np.arange(len(y_true))
    normalised = probabilities / np.sum(probabilities, axis=1, keepdims=True)
    clipped = np.clip(normalised[rows, y_true], PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)
    return {
        "macro_f1": macro,
        "weighted_f1": weighted,
        "accuracy": float(np.mean(predicted == y_true)),
        "logloss": float(-np.mean(np.log(clipped))),
    }


# --------------------------------------------------------------------------------------------------------
# Documents: values, bootstrap standard deviations, Model Monitor's layout
# --------------------------------------------------------------------------------------------------------


def _with_deviations(
    point: Callable[[np.ndarray], Dict[str, float]], n: int, seed: int, resamples: int
) -> Dict[str, Dict[str, Optional[float]]]:
    """Every metric of ``point(all rows)`` with its bootstrap standard deviation."""
    values = point(np.arange(n))
    rng = np.random.RandomState(seed)
    samples: Dict[str, List[float]] = {name: [] for name in values}
    for _ in range(resamples):
        for name, value in point(rng.randint(0, n, size=n)).items():
            samples[name].append(value)
    out: Dict[str, Dict[str, Optional[float]]] = {}
    for name, value in values.items():
        finite = [v for v in samples[name] if math.isfinite(v)]
        deviation = float(np.std(finite, ddof=1)) if resamples > 1 and len(finite) > 1 else 0.0
        # A metric that is undefined on these rows (auc with one class present) is null, as JSON allows.
        out[name] = {"value": value if math.isfinite(value) else None, "standard_deviation": deviation}
    return out


def confusion_matrix(
    y_true: np.ndarray, predicted: np.ndarray, labels: Sequence[str]
) -> Dict[str, Dict[str, int]]:
    """Model Monitor's layout: ``{actual label: {predicted label: count}}`` over every class."""
    return {
        actual: {label: int(np.sum((y_true == i) & (predicted == j))) for j, label in enumerate(labels)}
        for i, actual in enumerate(labels)
    }


def _curves(y_true: np.ndarray, score: np.ndarray) -> Dict[str, Any]:
    """The ROC and precision-recall curves at every distinct score (highest first)."""
    thresholds = np.unique(score)[::-1]
    positives = max(int(np.sum(y_true == 1)), 1)
    negatives = max(len(y_true) - int(np.sum(y_true == 1)), 1)
    tpr, fpr, precisions, recalls = [0.0], [0.0], [1.0], [0.0]
    for threshold in thresholds:
        predicted = score >= threshold
        tp = float(np.sum(predicted & (y_true == 1)))
        fp = float(np.sum(predicted & (y_true == 0)))
        tpr.append(tp / positives)
        fpr.append(fp / negatives)
        precisions.append(_safe_ratio(tp, tp + fp))
        recalls.append(tp / positives)
    return {
        "receiver_operating_characteristic_curve": {"false_positive_rates": fpr, "true_positive_rates": tpr},
        "precision_recall_curve": {"precisions": precisions, "recalls": recalls},
    }


def evaluate(
    problem_type: str,
    y_true: Any,
    prediction: Any,
    *,
    labels: Sequence[str] = (),
    cutoff: float = 0.5,
    seed: int = BOOTSTRAP_SEED,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Dict[str, Any]:
    """The model-quality section for one problem type: ``{SECTIONS[problem_type]: {...}}``.

    ``y_true``: regression values, or class indices (0..K-1, ``labels`` order) for classification.
    ``prediction``: regression predictions; binary: the positive-class probability (1-D) or both
    columns; multiclass: one probability column per class in ``labels`` order.
    """
    truth = np.asarray(y_true)
    if len(truth) == 0:
        raise ValueError("no rows to compute metrics on")
    if problem_type == REGRESSION:
        actual = truth.astype(np.float64).ravel()
        p = np.asarray(prediction, dtype=np.float64).ravel()
        section = _with_deviations(
            lambda rows: regression_point(actual[rows], p[rows]), len(actual), seed, resamples
        )
        return {SECTIONS[REGRESSION]: section}
    t = truth.astype(np.int64).ravel()
    scores = np.asarray(prediction, dtype=np.float64)
    if problem_type == BINARY:
        positive = scores[:, -1] if scores.ndim == 2 else scores.ravel()
        section = _with_deviations(
            lambda rows: binary_point(t[rows], positive[rows], cutoff), len(t), seed, resamples
        )
        predicted = (positive >= cutoff).astype(np.int64)
        document: Dict[str, Any] = {"confusion_matrix": confusion_matrix(t, predicted, labels)}
        document.update(section)
        document.update(_curves(t, positive))
        return {SECTIONS[BINARY]: document}
    if problem_type == MULTICLASS:
        section = _with_deviations(
            lambda rows: multiclass_point(t[rows], scores[rows]), len(t), seed, resamples
        )
        predicted = np.argmax(scores, axis=1)
        document = {"confusion_matrix": confusion_matrix(t, predicted, labels)}
        document.update(section)
        return {SECTIONS[MULTICLASS]: document}
    raise ValueError("unknown problem type %r (use one of %s)" % (problem_type, ", ".join(PROBLEM_TYPES)))


def value_of(document: Dict[str, Any], problem_type: str, metric: str) -> float:
    """The value of ``metric`` in a model-quality document (NaN when it is undefined: null)."""
    value = document[SECTIONS[problem_type]][metric]["value"]
    return float("nan") if value is None else float(value)


def json_path(problem_type: str, metric: str) -> str:
    """Where a metric's value sits in the document (the registration condition's JsonGet path)."""
    return "%s.%s.value" % (SECTIONS[problem_type], metric)


def threshold_summary(problem_type: str, metric: str, value: float, threshold: float) -> Tuple[str, bool]:
    """(comparison, passed) of ``value`` against ``threshold`` in the metric's direction."""
    return (">=" if higher_is_better(metric, problem_type) else "<="), passes(
        metric, problem_type, value, threshold
    )


# --------------------------------------------------------------------------------------------------------
# What training logs (train.py), for the metric definitions and the tuning objective
# --------------------------------------------------------------------------------------------------------

# XGBoost objective and eval metrics per problem type: train.py logs ``train-<m>`` and ``validation-<m>``
# for each eval metric (early stopping watches the first); the tuning objective is ``validation:<m>``.
XGBOOST_OBJECTIVES = {
    REGRESSION: ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:squaredlogerror"),
    BINARY: ("binary:logistic",),
    MULTICLASS: ("multi:softprob",),
}
TRAINING_METRICS: Dict[str, Tuple[Tuple[str, bool], ...]] = {  # (eval metric, higher is better)
    REGRESSION: (("rmse", False),),
    BINARY: (("logloss", False), ("auc", True)),
    MULTICLASS: (("mlogloss", False), ("merror", False)),
}
DEFAULT_TUNING_OBJECTIVE = {
    REGRESSION: "validation:rmse",
    BINARY: "validation:auc",
    MULTICLASS: "validation:mlogloss",
}


def tuning_objectives(problem_type: str) -> Dict[str, str]:
    """``validation:<m>`` → ``Maximize``/``Minimize`` for the metrics training logs."""
    return {
        "validation:" + name: ("Maximize" if higher else "Minimize")
        for name, higher in TRAINING_METRICS[problem_type]
    }


def metric_definitions(problem_type: str) -> List[Dict[str, str]]:
    """The estimator's metric definitions: the LAST match in the log is the reported value."""
    return [
        {"Name": "%s:%s" % (split, name), "Regex": r"%s-%s:([0-9\.]+)" % (split, name)}
        for split in ("train", "validation")
        for name, _ in TRAINING_METRICS[problem_type]
    ]
