"""Self-contained HTML reports for the data-quality baseline/check and for model quality.

Charts are inline SVG drawn here from the histograms the checks already computed, so a report costs a few
milliseconds, needs no plotting library in the SageMaker container, and stays one file (no external
assets). matplotlib was measured at ~0.6 s to import plus ~0.5 s to render nine small charts on the
target machine, which alone would exceed the 1.5 s end-to-end budget of a 1M-row check.

Public functions (all write atomically: a temporary file renamed into place):

- ``write_baseline_report(payload, path)`` and ``write_check_report(payload, path)``: called by
  ``data_quality.py`` (through ``dq_outputs.write_report``) with plain dicts (see there).
- ``model_quality_report(predictions, ground_truth, metrics, out_path)``: predicted vs actual and residual
  plots plus the metrics table, for the model-quality step.

Python 3.8 compatible; numpy only.
"""

# zip(strict=...) needs Python 3.10; these scripts run on the containers' Python 3.8.
# ruff: noqa: B905
from __future__ import annotations

import html
import math
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

BASELINE_COLOR = "#9aa5b1"
CURRENT_COLOR = "#1f6feb"
VIOLATION_COLOR = "#d1242f"
PLOT_BINS = 40

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1f2328;max-width:1200px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de}
.meta{color:#57606a;font-size:13px;margin-bottom:12px} .meta code{font-size:12px}
.banner{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}
.ok{background:#dafbe1;color:#116329} .bad{background:#ffebe9;color:#82071e}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:10px;width:400px}
.card.violation{border-color:#d1242f;box-shadow:0 0 0 1px #d1242f inset}
.card h3{font-size:14px;margin:0 0 6px} .card .facts{font-size:12px;color:#57606a;margin-bottom:6px}
.tag{display:inline-block;background:#ffebe9;color:#82071e;border-radius:10px;padding:0 7px;font-size:11px;
margin-right:4px}
.note{font-size:12px;color:#9a6700}
svg text{font-family:inherit}
"""


# ------------------------------------------------------------------------------------------- helpers


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """Numbers for people: 4 significant digits, integers as integers."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number):
            return "-"
        if number.is_integer() and abs(number) < 1e15:
            return f"{int(number):,}"
        return f"{number:.4g}"
    return str(value)


def pct(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value in (0, 1):
        return f"{value * 100:.0f}%"
    return f"{value * 100:.2f}%" if 0 < value < 0.0001 or value > 0.9999 else f"{value * 100:.1f}%"


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # A plain open() (not mkstemp, which makes 0600 files) so the report gets the usual permissions.
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _page(title: str, body: Iterable[str]) -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    lines = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            css = " class='num'" if index in numeric else ""
            cells.append(f"<td{css}>{cell}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>" + "".join(lines) + "</table>"


# ---------------------------------------------------------------------------------------------- charts


def histogram_svg(
    series: Sequence[Tuple[str, np.ndarray, np.ndarray, str]],
    width: int = 380,
    height: int = 150,
    bins: int = PLOT_BINS,
) -> str:
    """Overlaid histograms (as fractions) of weighted values: [(label, values, weights, colour), …]."""
    usable = [(lab, np.asarray(v, float), np.asarray(w, float), c) for lab, v, w, c in series if np.size(v)]
    if not usable:
        return "<p class='note'>no values to plot</p>"
    lo = min(float(v.min()) for _, v, _, _ in usable)
    hi = max(float(v.max()) for _, v, _, _ in usable)
    integral = all(bool(np.all(v == np.round(v))) for _, v, _, _ in usable)
    if integral and hi - lo < 3 * bins:  # one bar per integer: no comb of empty bins
        bins = int(hi - lo) + 1
        lo, hi = lo - 0.5, hi + 0.5
    elif hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    fractions = []
    for _, values, weights, _ in usable:
        counts, _ = np.histogram(values, bins=edges, weights=weights)
        total = counts.sum()
        fractions.append(counts / total if total > 0 else counts)
    top = max(float(f.max()) for f in fractions) or 1.0
    left, right, upper, lower = 34, 8, 18, 20
    plot_w, plot_h = width - left - right, height - upper - lower
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img'>"]
    bar_w = plot_w / bins
    for index, (label, _, _, colour) in enumerate(usable):
        filled = index == 0  # the reference (baseline) series is solid, the one compared is outlined
        path = []
        for b in range(bins):
            h = fractions[index][b] / top * plot_h
            if h <= 0:
                continue
            x = left + b * bar_w
            y = upper + plot_h - h
            path.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{max(bar_w - 0.5, 0.5):.1f}' height='{h:.1f}'/>"
            )
        style = (
            f"fill='{colour}' fill-opacity='0.55'"
            if filled
            else f"fill='{colour}' fill-opacity='0.25' stroke='{colour}' stroke-width='1'"
        )
        parts.append(f"<g {style}><title>{_e(label)}</title>{''.join(path)}</g>")
        parts.append(
            f"<rect x='{left + 4 + index * 110}' y='3' width='10' height='10' fill='{colour}'/>"
            f"<text x='{left + 18 + index * 110}' y='12' font-size='11'>{_e(label)}</text>"
        )
    axis_y = upper + plot_h
    parts.append(f"<line x1='{left}' y1='{axis_y}' x2='{left + plot_w}' y2='{axis_y}' stroke='#57606a'/>")
    parts.append(f"<text x='{left}' y='{height - 5}' font-size='10'>{_e(fmt(lo))}</text>")
    parts.append(
        f"<text x='{left + plot_w}' y='{height - 5}' font-size='10' text-anchor='end'>{_e(fmt(hi))}</text>"
    )
    parts.append(
        f"<text x='{left - 3}' y='{upper + 8}' font-size='10' text-anchor='end'>{top * 100:.0f}%</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def category_svg(
    series: Sequence[Tuple[str, Sequence[Tuple[str, float]], str]], width: int = 380, limit: int = 10
) -> str:
    """Grouped horizontal bars of category shares: [(label, [(category, count), …], colour), …]."""
    usable = [(lab, list(items), c) for lab, items, c in series if items]
    if not usable:
        return "<p class='note'>no values to plot</p>"
    shares = []
    for _, items, _ in usable:
        total = float(sum(count for _, count in items)) or 1.0
        shares.append({str(cat): count / total for cat, count in items})
    order: List[str] = []
    for _, items, _ in usable:
        for cat, _ in items:
            if str(cat) not in order:
                order.append(str(cat))
    order = order[:limit]
    row_h = 6 + 9 * len(usable)
    left, top_pad = 90, 18
    height = top_pad + row_h * len(order) + 4
    plot_w = width - left - 40
    top = max(max(s.values()) for s in shares) or 1.0
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img'>"]
    for index, (label, _, colour) in enumerate(usable):
        parts.append(
            f"<rect x='{left + index * 110}' y='3' width='10' height='10' fill='{colour}'/>"
            f"<text x='{left + 14 + index * 110}' y='12' font-size='11'>{_e(label)}</text>"
        )
    for row, cat in enumerate(order):
        y0 = top_pad + row * row_h
        text = cat if len(cat) <= 14 else cat[:13] + "…"
        parts.append(
            f"<text x='{left - 4}' y='{y0 + row_h / 2 + 3:.1f}' font-size='10' "
            f"text-anchor='end'>{_e(text)}</text>"
        )
        for index, (_, _, colour) in enumerate(usable):
            share = shares[index].get(cat, 0.0)
            w = share / top * plot_w
            y = y0 + 3 + index * 9
            parts.append(
                f"<rect x='{left}' y='{y:.1f}' width='{max(w, 0.5):.1f}' height='8' fill='{colour}'/>"
            )
            parts.append(
                f"<text x='{left + w + 3:.1f}' y='{y + 7:.1f}' font-size='9'>{share * 100:.1f}%</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def heatmap_svg(
    x: np.ndarray,
    y: np.ndarray,
    *,
    x_label: str,
    y_label: str,
    diagonal: bool = False,
    zero_line: bool = False,
    size: int = 320,
    bins: int = PLOT_BINS,
) -> str:
    """A 2-D histogram (log-scaled shading) of paired values: readable at any number of points."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size == 0:
        return "<p class='note'>no values to plot</p>"
    if diagonal:
        lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
        x_range = y_range = (float(lo), float(hi) if hi > lo else float(lo) + 1.0)
    else:
        x_range = (float(x.min()), float(x.max()) if x.max() > x.min() else float(x.min()) + 1.0)
        y_range = (float(y.min()), float(y.max()) if y.max() > y.min() else float(y.min()) + 1.0)
    counts, _, _ = np.histogram2d(x, y, bins=bins, range=[x_range, y_range])
    left, pad = 44, 8
    plot = size - left - pad
    cell = plot / bins
    peak = math.log1p(float(counts.max())) or 1.0
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}' role='img'>"]
    for i, j in zip(*np.nonzero(counts)):
        shade = math.log1p(float(counts[i, j])) / peak
        px = left + i * cell
        py = pad + plot - (j + 1) * cell
        parts.append(
            f"<rect x='{px:.1f}' y='{py:.1f}' width='{cell + 0.3:.1f}' height='{cell + 0.3:.1f}' "
            f"fill='{CURRENT_COLOR}' fill-opacity='{0.12 + 0.88 * shade:.2f}'/>"
        )

    def sx(v: float) -> float:
        return left + (v - x_range[0]) / (x_range[1] - x_range[0]) * plot

    def sy(v: float) -> float:
        return pad + plot - (v - y_range[0]) / (y_range[1] - y_range[0]) * plot

    if diagonal:
        parts.append(
            f"<line x1='{sx(x_range[0]):.1f}' y1='{sy(x_range[0]):.1f}' x2='{sx(x_range[1]):.1f}' "
            f"y2='{sy(x_range[1]):.1f}' stroke='{VIOLATION_COLOR}' stroke-dasharray='4 3'/>"
        )
    if zero_line and y_range[0] < 0 < y_range[1]:
        parts.append(
            f"<line x1='{left}' y1='{sy(0):.1f}' x2='{left + plot}' y2='{sy(0):.1f}' "
            f"stroke='{VIOLATION_COLOR}' stroke-dasharray='4 3'/>"
        )
    base = pad + plot
    parts.append(f"<rect x='{left}' y='{pad}' width='{plot}' height='{plot}' fill='none' stroke='#57606a'/>")
    parts.append(f"<text x='{left}' y='{base + 12}' font-size='10'>{_e(fmt(x_range[0]))}</text>")
    parts.append(
        f"<text x='{left + plot}' y='{base + 12}' font-size='10' "
        f"text-anchor='end'>{_e(fmt(x_range[1]))}</text>"
    )
    parts.append(
        f"<text x='{left + plot / 2}' y='{size - 4}' font-size='11' text-anchor='middle'>{_e(x_label)}</text>"
    )
    parts.append(
        f"<text x='{left - 3}' y='{base}' font-size='10' text-anchor='end'>{_e(fmt(y_range[0]))}</text>"
    )
    parts.append(
        f"<text x='{left - 3}' y='{pad + 9}' font-size='10' text-anchor='end'>{_e(fmt(y_range[1]))}</text>"
    )
    parts.append(
        f"<text x='12' y='{pad + plot / 2}' font-size='11' text-anchor='middle' "
        f"transform='rotate(-90 12 {pad + plot / 2})'>{_e(y_label)}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


# ------------------------------------------------------------------------------------ data quality


def _monitoring_table(config: Dict[str, Any]) -> str:
    rows: List[Tuple[str, str]] = []
    for key, value in config.items():
        if isinstance(value, dict):
            rows.extend((_e(f"{key}.{k}"), _e(v)) for k, v in value.items())
        else:
            rows.append((_e(key), _e(value)))
    return _table(["monitoring_config", "value"], rows)


def write_baseline_report(payload: Dict[str, Any], path: str) -> None:
    """Report of a baseline: per feature its statistics, suggested constraints and distribution."""
    features = payload["features"]
    body = [
        "<h1>Data-quality baseline</h1>",
        f"<div class='meta'>Input <code>{_e(payload['input'])}</code> · {fmt(payload['item_count'])} rows · "
        f"{len(features)} features</div>",
        "<h2>Features</h2>",
    ]
    rows = []
    for item in features:
        constraint = item["constraint"]
        rules = [f"completeness ≥ {pct(constraint.get('completeness'))}"]
        if "num_constraints" in constraint:
            rules.append(f"is_non_negative: {fmt(constraint['num_constraints'].get('is_non_negative'))}")
        if "string_constraints" in constraint:
            domain = constraint["string_constraints"].get("domains", [])
            rules.append(
                "domain: " + ", ".join(str(d) for d in domain[:12]) + (" …" if len(domain) > 12 else "")
            )
        total = item["present"] + item["missing"]
        if "mean" in item:
            shape = (
                f"mean {fmt(item['mean'])} · std {fmt(item['std'])} · "
                f"min {fmt(item['min'])} · max {fmt(item['max'])}"
            )
        else:
            shape = f"{fmt(item.get('distinct'))} distinct"
        rows.append(
            (
                _e(item["name"]),
                _e(item["type"]),
                fmt(item["present"]),
                pct(item["missing"] / total if total else None),
                _e(shape),
                _e("; ".join(rules)),
            )
        )
    body.append(
        _table(["feature", "type", "present", "missing", "distribution", "constraints"], rows, (2, 3))
    )
    body.append("<h2>Distributions</h2><div class='cards'>")
    for item in features:
        if "hist" in item:
            values, weights = item["hist"]
            chart = histogram_svg([("baseline", values, weights, BASELINE_COLOR)])
        else:
            chart = category_svg([("baseline", item.get("categories", []), BASELINE_COLOR)])
        body.append(
            f"<div class='card'><h3>{_e(item['name'])} <small>({_e(item['type'])})</small></h3>{chart}</div>"
        )
    body.append("</div>")
    body.append("<h2>Monitoring configuration</h2>" + _monitoring_table(payload["monitoring_config"]))
    write_atomic(path, _page("Data-quality baseline", body))


def write_check_report(payload: Dict[str, Any], path: str) -> None:
    """Report of a check: violations, and per feature baseline vs current with distance and threshold."""
    summary = payload["summary"]
    violations = payload["violations"]
    count = summary["violation_count"]
    body = [
        "<h1>Data-quality check</h1>",
        f"<div class='meta'>Data <code>{_e(payload['input'])}</code> ({fmt(summary['item_count'])} rows) · "
        f"baseline <code>{_e(payload['baseline_statistics'])}</code> "
        f"({fmt(summary.get('baseline_item_count'))} rows)</div>",
        (
            f"<div class='banner bad'>{count} violation{'s' if count != 1 else ''}: "
            + _e(", ".join(f"{k} {v}" for k, v in summary["violations_by_type"].items() if v))
            + "</div>"
            if count
            else "<div class='banner ok'>No violations: the data matches the baseline's constraints.</div>"
        ),
    ]
    if violations:
        body.append("<h2>Violations</h2>")
        body.append(
            _table(
                ["feature", "check", "description"],
                (
                    (_e(v["feature_name"]), _e(v["constraint_check_type"]), _e(v["description"]))
                    for v in violations
                ),
            )
        )
    body.append("<h2>Features</h2>")
    rows = []
    for item in payload["features"]:
        distance = item.get("value")
        rows.append(
            (
                _e(item["name"]),
                _e(item.get("status")),
                _e(f"{item.get('baseline_type', '-')} → {item.get('current_type', '-')}"),
                pct(item.get("baseline_missing_rate")),
                pct(item.get("current_missing_rate")),
                fmt(distance) + (f" ({_e(item.get('method'))})" if distance is not None else ""),
                fmt(item.get("threshold")),
                _e(
                    ", ".join(item.get("violations", []))
                    or ("-" if item.get("status") == "checked" else item.get("status"))
                ),
            )
        )
    body.append(
        _table(
            [
                "feature",
                "status",
                "type (baseline → current)",
                "missing (baseline)",
                "missing (current)",
                "drift",
                "threshold",
                "violations",
            ],
            rows,
            (3, 4, 5, 6),
        )
    )
    body.append("<h2>Distributions: baseline vs current</h2><div class='cards'>")
    for item in payload["features"]:
        body.append(_feature_card(item))
    body.append("</div>")
    write_atomic(path, _page("Data-quality check", body))


def _feature_card(item: Dict[str, Any]) -> str:
    flagged = bool(item.get("violations")) or item.get("status") in ("missing", "extra")
    tags = "".join(f"<span class='tag'>{_e(v)}</span>" for v in item.get("violations", []))
    if item.get("status") == "missing":
        tags += "<span class='tag'>missing_column_check</span>"
    if item.get("status") == "extra":
        tags += "<span class='tag'>extra_column_check</span>"
    facts = [
        f"missing: baseline {pct(item.get('baseline_missing_rate'))}, "
        f"current {pct(item.get('current_missing_rate'))}"
    ]
    if item.get("value") is not None:
        facts.append(
            f"drift {fmt(item['value'])} vs threshold {fmt(item.get('threshold'))} "
            f"({_e(item.get('method'))}; "
            f"L∞ {fmt(item.get('distance'))})"
        )
    series_num = []
    series_cat = []
    if "baseline_hist" in item:
        series_num.append(("baseline", item["baseline_hist"][0], item["baseline_hist"][1], BASELINE_COLOR))
    if "current_hist" in item:
        series_num.append(("current", item["current_hist"][0], item["current_hist"][1], CURRENT_COLOR))
    if "baseline_categories" in item:
        series_cat.append(("baseline", item["baseline_categories"], BASELINE_COLOR))
    if "current_categories" in item:
        series_cat.append(("current", item["current_categories"], CURRENT_COLOR))
    if series_num:
        chart = histogram_svg(series_num)
    elif series_cat:
        chart = category_svg(series_cat)
    else:
        chart = "<p class='note'>no data on the current side</p>"
    note = f"<div class='note'>{_e(item['note'])}</div>" if item.get("note") else ""
    return (
        f"<div class='card{' violation' if flagged else ''}'><h3>{_e(item['name'])} {tags}</h3>"
        f"<div class='facts'>{'<br>'.join(facts)}</div>{chart}{note}</div>"
    )


# ----------------------------------------------------------------------------------- model quality


def _flatten_metrics(metrics: Dict[str, Any]) -> List[Tuple[str, Any, Any]]:
    """(name, value, standard deviation) from a flat dict or Model Monitor's model-quality layout."""
    rows: List[Tuple[str, Any, Any]] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict) and "value" in node and not isinstance(node["value"], dict):
            rows.append((prefix, node["value"], node.get("standard_deviation")))
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(key if not prefix or prefix.endswith("_metrics") else f"{prefix}.{key}", value)
        elif isinstance(node, (int, float, np.integer, np.floating)) and not isinstance(node, bool):
            rows.append((prefix, node, None))

    walk("", metrics)
    return rows


def model_quality_report(
    predictions: Sequence[float] | np.ndarray,
    ground_truth: Sequence[float] | np.ndarray,
    metrics: Dict[str, Any],
    out_path: str,
) -> str:
    """HTML report of a regression model's quality: metrics, predicted vs actual, residuals.

    ``metrics`` may be flat (``{"rmse": 2.1}``) or Model Monitor's layout (``{"regression_metrics":
    {"rmse": {"value": 2.1, "standard_deviation": 0.01}}}``). Returns ``out_path``.
    """
    predicted = np.asarray(predictions, dtype=float).ravel()
    actual = np.asarray(ground_truth, dtype=float).ravel()
    if predicted.size != actual.size:
        raise ValueError(f"{predicted.size} predictions but {actual.size} ground-truth values")
    residual = actual - predicted
    finite = np.isfinite(residual)
    body = [
        "<h1>Model quality</h1>",
        f"<div class='meta'>{fmt(int(predicted.size))} predictions with ground truth"
        + (f" ({fmt(int((~finite).sum()))} not finite, left out of the plots)" if (~finite).any() else "")
        + "</div>",
        "<h2>Metrics</h2>",
        _table(
            ["metric", "value", "standard deviation"],
            ((_e(name), fmt(value), fmt(std)) for name, value, std in _flatten_metrics(metrics)),
            (1, 2),
        ),
        "<h2>Plots</h2><div class='cards'>",
        "<div class='card'><h3>Predicted vs actual</h3>"
        + heatmap_svg(actual, predicted, x_label="actual", y_label="predicted", diagonal=True)
        + "<div class='note'>dashed: perfect prediction</div></div>",
        "<div class='card'><h3>Residuals (actual - predicted)</h3>"
        + histogram_svg([("residual", residual[finite], np.ones(int(finite.sum())), CURRENT_COLOR)])
        + f"<div class='facts'>mean {fmt(float(residual[finite].mean()) if finite.any() else None)} · "
        f"std {fmt(float(residual[finite].std()) if finite.any() else None)}</div></div>",
        "<div class='card'><h3>Residual vs predicted</h3>"
        + heatmap_svg(predicted, residual, x_label="predicted", y_label="residual", zero_line=True)
        + "</div>",
        "</div>",
    ]
    write_atomic(out_path, _page("Model quality", body))
    return out_path
