"""The model-quality HTML report of a classifier: metrics, the confusion matrix and, for binary problems,
the ROC and precision-recall curves (inline SVG, one self-contained file, like ``dq_report``'s).

Python 3.8 compatible; standard library only (the curves come computed in the model-quality document).
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

import dq_report
import metrics
from dataset import Dataset

WIDTH, HEIGHT, MARGIN = 320, 260, 40


def _curve_svg(xs: Sequence[float], ys: Sequence[float], x_label: str, y_label: str, diagonal: bool) -> str:
    """A line chart on [0, 1] x [0, 1]."""

    def sx(value: float) -> float:
        return MARGIN + value * (WIDTH - 2 * MARGIN)

    def sy(value: float) -> float:
        return HEIGHT - MARGIN - value * (HEIGHT - 2 * MARGIN)

    points = " ".join("%.1f,%.1f" % (sx(x), sy(y)) for x, y in zip(xs, ys))  # noqa: B905  (zip(strict=) is Python 3.10; the containers run 3.8)
    parts = [
        "<svg width='%d' height='%d' role='img'>" % (WIDTH, HEIGHT),
        "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#d0d7de'/>"
        % (MARGIN, MARGIN, WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN),
    ]
    if diagonal:
        parts.append(
            "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#9aa5b1' stroke-dasharray='4'/>"
            % (sx(0), sy(0), sx(1), sy(1))
        )
    parts += [
        "<polyline fill='none' stroke='%s' stroke-width='2' points='%s'/>"
        % (dq_report.CURRENT_COLOR, points),
        "<text x='%d' y='%d' font-size='11' text-anchor='middle'>%s</text>"
        % (WIDTH // 2, HEIGHT - 8, dq_report._e(x_label)),
        "<text x='12' y='%d' font-size='11' text-anchor='middle' transform='rotate(-90 12 %d)'>%s</text>"
        % (HEIGHT // 2, HEIGHT // 2, dq_report._e(y_label)),
        "</svg>",
    ]
    return "".join(parts)


def confusion_table(matrix: Dict[str, Dict[str, int]], labels: Sequence[str]) -> str:
    """Rows: actual label; columns: predicted label."""
    rows = [
        ["<b>%s</b>" % dq_report._e(actual)]
        + [dq_report.fmt(matrix[actual][predicted]) for predicted in labels]
        for actual in labels
    ]
    headers = ["actual \\ predicted", *list(labels)]
    return dq_report._table(headers, rows, tuple(range(1, len(labels) + 1)))


def _metric_rows(section: Dict[str, Any]) -> List[Tuple[str, str, str]]:
    return [
        (dq_report._e(name), dq_report.fmt(node["value"]), dq_report.fmt(node.get("standard_deviation")))
        for name, node in section.items()
        if isinstance(node, dict) and "value" in node
    ]


def classification_report(report: Dict[str, Any], schema: Dataset, out_path: str) -> str:
    """Write the report of a classification model-quality document; returns ``out_path``."""
    section = report[metrics.SECTIONS[schema.problem_type]]
    check = report.get("threshold_check", {})
    passed = bool(check.get("passed"))
    body = [
        "<h1>Model quality</h1>",
        "<div class='meta'>%s rows with ground truth · %s · classes %s</div>"
        % (
            dq_report.fmt(report["dataset"]["item_count"]),
            dq_report._e(schema.problem_type),
            dq_report._e(", ".join(schema.labels)),
        ),
        "<div class='banner %s'>%s %s %s %s</div>"
        % (
            "ok" if passed else "bad",
            dq_report._e(check.get("metric", "")),
            dq_report.fmt(check.get("value")),
            dq_report._e(check.get("comparison", "")),
            dq_report.fmt(check.get("threshold")),
        ),
        "<h2>Metrics</h2>",
        dq_report._table(["metric", "value", "standard deviation"], _metric_rows(section), (1, 2)),
        "<h2>Confusion matrix</h2>",
        confusion_table(section["confusion_matrix"], schema.labels),
    ]
    if schema.problem_type == metrics.BINARY:
        roc = section["receiver_operating_characteristic_curve"]
        pr = section["precision_recall_curve"]
        body += [
            "<h2>Curves (positive class %s)</h2><div class='cards'>" % dq_report._e(schema.positive_class),
            "<div class='card'><h3>ROC</h3>"
            + _curve_svg(
                roc["false_positive_rates"],
                roc["true_positive_rates"],
                "false positive rate",
                "true positive rate",
                diagonal=True,
            )
            + "</div>",
            "<div class='card'><h3>Precision-recall</h3>"
            + _curve_svg(pr["recalls"], pr["precisions"], "recall", "precision", diagonal=False)
            + "</div></div>",
        ]
    dq_report.write_atomic(out_path, dq_report._page("Model quality", body))
    return out_path
