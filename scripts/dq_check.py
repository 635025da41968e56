"""The check: current data against a baseline, with Model Monitor's violations, statistics of the current
data and drift metrics (and per-feature details for the report).
"""

# zip(strict=...) needs Python 3.10; these scripts run on the containers' Python 3.8.
# ruff: noqa: B905
from __future__ import annotations

import decimal
import math
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
from dq_baseline import VERSION, BaselineFeature, merge_config, parse_baseline, validate_config
from dq_distance import categorical_distance, chi_squared_test, robust_distance, sketch_distance
from dq_errors import InputDataError
from dq_profile import INTEGRAL, NUMERIC_TYPES, STRING, FeatureProfile, NumericSummary
from dq_read import Table
from dq_state import DatasetState, Needs, state_of_table

DATA_TYPE_CHECK = "data_type_check"
COMPLETENESS_CHECK = "completeness_check"
BASELINE_DRIFT_CHECK = "baseline_drift_check"
MISSING_COLUMN_CHECK = "missing_column_check"
EXTRA_COLUMN_CHECK = "extra_column_check"
CATEGORICAL_VALUES_CHECK = "categorical_values_check"
CHECK_TYPES = (
    DATA_TYPE_CHECK,
    COMPLETENESS_CHECK,
    BASELINE_DRIFT_CHECK,
    MISSING_COLUMN_CHECK,
    EXTRA_COLUMN_CHECK,
    CATEGORICAL_VALUES_CHECK,
)


class CheckOutcome:
    """Everything a check produces (the dicts are the JSON files)."""

    def __init__(self) -> None:
        self.violations: List[Dict[str, str]] = []
        self.statistics: Dict[str, Any] = {}
        self.drift_metrics: Dict[str, Any] = {}
        self.summary: Dict[str, Any] = {}
        self.features: List[Dict[str, Any]] = []  # per-feature details for the report

    def add(self, feature: str, check_type: str, description: str) -> None:
        self.violations.append(
            {"feature_name": feature, "constraint_check_type": check_type, "description": description}
        )


def java_double(value: float) -> str:
    """``value`` as Java's Double.toString writes it (Model Monitor's messages: 100.0, 99.71751412429379)."""
    number = float(value)
    if number == 0 or 1e-3 <= abs(number) < 1e7 or not math.isfinite(number):
        text = repr(number)
        return text if ("." in text or not math.isfinite(number)) else text + ".0"
    sign, digits, exponent = decimal.Decimal(repr(number)).normalize().as_tuple()
    text = "".join(str(d) for d in digits)
    power = int(exponent) + len(digits) - 1
    return ("-" if sign else "") + text[0] + "." + (text[1:] or "0") + "E" + str(power)


def _pct(fraction: float) -> str:
    return java_double(fraction * 100) + "%"


def check_needs(features: List[BaselineFeature]) -> Needs:
    """What reading the current data must collect for these baseline features."""
    return Needs(
        whole=[f.name for f in features if f.inferred_type == INTEGRAL],
        as_text=[f.name for f in features if f.inferred_type == STRING],
        parsed=[f.name for f in features if f.inferred_type in NUMERIC_TYPES],
    )


def prepare_check(
    statistics: Dict[str, Any],
    constraints: Dict[str, Any],
    statistics_path: str = "statistics.json",
    constraints_path: str = "constraints.json",
) -> Tuple[List[BaselineFeature], Dict[str, Any], Needs]:
    """The baseline's features and monitoring_config, and what the current data must be read for."""
    features, config = parse_baseline(statistics, constraints, statistics_path, constraints_path)
    return features, config, check_needs(features)


def check_table(
    data: Union[Table, DatasetState],
    statistics: Dict[str, Any],
    constraints: Dict[str, Any],
    statistics_path: str = "statistics.json",
    constraints_path: str = "constraints.json",
    *,
    prepared: Optional[Tuple[List[BaselineFeature], Dict[str, Any], Needs]] = None,
) -> CheckOutcome:
    """Evaluate the current data (a table, or a stream's state read with the baseline's ``Needs``)
    against a baseline: violations, current statistics and drift metrics."""
    features, config, needs = prepared or prepare_check(
        statistics, constraints, statistics_path, constraints_path
    )
    state = state_of_table(data, needs) if isinstance(data, Table) else data
    outcome = CheckOutcome()
    current = {profile.name: profile for profile in state.profiles()}
    baseline_names = [f.name for f in features]
    if baseline_names and not set(baseline_names) & set(current):
        raise InputDataError(
            "no column of the data matches the baseline (baseline: "
            + ", ".join(baseline_names[:6])
            + "; data: "
            + ", ".join(list(current)[:6])
            + ")",
            file=state.path,
            fix="read the data as the baseline was read: pass --header or --no-header consistently",
        )
    profiles = current
    evaluate = str(config.get("evaluate_constraints", "Enabled")) == "Enabled"
    metrics = []
    for feature in features:
        profile = profiles.get(feature.name)
        if profile is None:
            if evaluate:
                outcome.add(
                    feature.name,
                    MISSING_COLUMN_CHECK,
                    "Column is in the baseline but missing from the current dataset. "
                    f"Number of columns in current dataset: {len(current)}, "
                    f"Number of columns in baseline constraints: {len(features)}",
                )
            total = feature.num_present + feature.num_missing
            missing: Dict[str, Any] = {
                "name": feature.name,
                "status": "missing",
                "baseline_type": feature.inferred_type,
                "baseline_missing_rate": feature.num_missing / total if total else None,
            }
            if feature.cdf is not None:
                missing["baseline_hist"] = feature.cdf.plot_histogram()
            elif feature.categories:
                missing["baseline_categories"] = sorted(
                    feature.categories.items(), key=lambda kv: (-kv[1], kv[0])
                )[:20]
            outcome.features.append(missing)
            continue
        detail, metric = _check_feature(
            feature,
            profile,
            config,
            constraints_path=constraints_path,
            outcome=outcome if evaluate else None,
        )
        outcome.features.append(detail)
        if metric is not None:
            metrics.append(metric)
    known = set(baseline_names)
    for name in current:
        if name not in known:
            if evaluate:
                outcome.add(
                    name,
                    EXTRA_COLUMN_CHECK,
                    "Column is not in the baseline. "
                    f"Number of columns in current dataset: {len(current)}, "
                    f"Number of columns in baseline constraints: {len(features)}",
                )
            outcome.features.append(_extra_detail(profiles[name]))
    outcome.statistics = {
        "version": VERSION,
        "dataset": {"item_count": state.n_rows},
        "features": [profiles[name].statistics() for name in current],
    }
    emit = str(config.get("emit_metrics", "Enabled")) == "Enabled"
    outcome.drift_metrics = {"version": VERSION, "metrics": metrics if emit else []}
    by_type = {t: 0 for t in CHECK_TYPES}
    for violation in outcome.violations:
        by_type[violation["constraint_check_type"]] = by_type.get(violation["constraint_check_type"], 0) + 1
    baseline_items = (statistics.get("dataset") or {}).get("item_count")
    outcome.summary = {
        "violation_count": len(outcome.violations),
        "violations_by_type": by_type,
        "item_count": state.n_rows,
        "baseline_item_count": baseline_items if isinstance(baseline_items, (int, float)) else None,
        "features_checked": sum(1 for f in features if f.name in current),
        "drifted_features": sorted(
            {
                v["feature_name"]
                for v in outcome.violations
                if v["constraint_check_type"] == BASELINE_DRIFT_CHECK
            }
        ),
    }
    return outcome


def _feature_config(
    config: Dict[str, Any], feature: BaselineFeature, constraints_path: str
) -> Dict[str, Any]:
    if not feature.overrides:
        return config
    merged = merge_config(config, feature.overrides)
    validate_config(merged, constraints_path, f"monitoringConfigOverrides of {feature.name}")
    return merged


def _extra_detail(profile: FeatureProfile) -> Dict[str, Any]:
    detail: Dict[str, Any] = {
        "name": profile.name,
        "status": "extra",
        "current_type": profile.inferred_type,
        "current_missing_rate": 1.0 - profile.completeness,
    }
    if profile.numeric is not None and profile.numeric.num_present:
        reps, counts = profile.numeric.representatives(), profile.numeric.counts
        detail["current_hist"] = (reps, counts)
    elif profile.categories:
        detail["current_categories"] = list(
            zip(profile.categories[:20], profile.category_counts[:20].tolist())
        )
    return detail


def _check_feature(
    feature: BaselineFeature,
    profile: FeatureProfile,
    config: Dict[str, Any],
    *,
    constraints_path: str,
    outcome: Optional[CheckOutcome],
) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """Checks of one feature present on both sides; appends violations to ``outcome`` when evaluating."""
    check = _FeatureCheck(feature, profile, _feature_config(config, feature, constraints_path), outcome)
    check.completeness()
    metric: Optional[Dict[str, Any]] = None
    if feature.inferred_type in NUMERIC_TYPES:
        metric = check.numeric()
    elif feature.inferred_type == STRING:
        check.string_type()
        metric = check.categorical()
    return check.detail, metric


class _FeatureCheck:
    """The checks of one feature: violations go to the outcome, facts for the report to ``detail``."""

    def __init__(
        self,
        feature: BaselineFeature,
        profile: FeatureProfile,
        config: Dict[str, Any],
        outcome: Optional[CheckOutcome],
    ) -> None:
        self.feature = feature
        self.profile = profile
        self.config = config
        self.dist: Dict[str, Any] = config["distribution_constraints"]
        self.outcome = outcome
        self.violations: List[str] = []
        total = feature.num_present + feature.num_missing
        self.detail: Dict[str, Any] = {
            "name": feature.name,
            "status": "checked",
            "baseline_type": feature.inferred_type,
            "current_type": profile.inferred_type,
            "baseline_missing_rate": feature.num_missing / total if total else None,
            "current_missing_rate": 1.0 - profile.completeness,
            "violations": self.violations,
        }

    def flag(self, check_type: str, description: str) -> None:
        self.violations.append(check_type)
        if self.outcome is not None:
            self.outcome.add(self.feature.name, check_type, description)

    def completeness(self) -> None:
        expected, observed = self.feature.completeness, self.profile.completeness
        if expected is not None and observed < expected - 1e-12:
            self.detail["missing_values"] = self.profile.num_missing
            self.flag(
                COMPLETENESS_CHECK,
                "Data completeness requirement is not met. "
                f"Expected: {_pct(expected)}. Observed: Only {_pct(observed)} of data is complete.",
            )

    def numeric(self) -> Optional[Dict[str, Any]]:
        feature, profile = self.feature, self.profile
        # The numbers: as read, or (a text column now) what parses of the text.
        summary: Optional[NumericSummary] = profile.numeric if profile.read_as_numbers else profile.parsed
        self._data_type(summary)
        if summary is None or summary.num_present == 0:
            summary = None
        if feature.is_non_negative and summary is not None and summary.negatives:
            self.flag(
                DATA_TYPE_CHECK,
                "Value range requirement is not met: the baseline has no negative values "
                f"(is_non_negative), the current data has {summary.negatives} (min {summary.min:g}).",
            )
        if summary is not None:
            self.detail["current_hist"] = (summary.representatives(), summary.counts)
        cdf = feature.cdf
        if cdf is not None:
            self.detail["baseline_hist"] = cdf.plot_histogram()
            self.detail["baseline_cdf"] = cdf.source
        if feature.cdf_note:
            self.detail["note"] = feature.cdf_note
        if cdf is None or summary is None:
            return None
        raw = sketch_distance(cdf, summary.sketch)
        method = str(self.dist["comparison_method"])
        size = summary.num_present
        return self._drift(
            raw=raw,
            value=robust_distance(raw, cdf.n, size) if method == "Robust" else raw,
            threshold=float(self.dist["comparison_threshold"]),
            method=method,
            sizes=(cdf.n, size),
            source=cdf.source,
        )

    def string_type(self) -> None:
        """A String feature: numbers now count against it (Model Monitor types each value)."""
        self._data_type(None)

    def _data_type(self, summary: Optional[NumericSummary]) -> None:
        feature, profile = self.feature, self.profile
        total = profile.num_present
        if not total:
            return
        whole = summary.whole if summary is not None else 0  # integral-valued numbers
        if profile.read_as_numbers:  # infinities do not count
            if feature.inferred_type == INTEGRAL and profile.inferred_type != INTEGRAL:
                matching = whole
            else:
                matching = total - profile.non_finite
        elif feature.inferred_type == INTEGRAL:
            matching = whole
        else:
            matching = profile.n_integral + profile.n_fractional
        if feature.inferred_type == STRING:  # numbers are not Strings (Model Monitor's per-value types)
            matching = profile.n_string
        fraction = matching / total
        threshold = float(self.config["datatype_check_threshold"])
        if fraction >= threshold - 1e-12:
            return
        if feature.inferred_type != STRING and profile.first_bad_value is not None:
            self.detail["first_non_matching"] = {
                "value": profile.first_bad_value,
                "row": profile.first_bad_row,
                "file": profile.first_bad_file,
            }
        self.flag(
            DATA_TYPE_CHECK,
            "Data type match requirement is not met. "
            f"Expected data type: {feature.inferred_type}, Expected match: {_pct(threshold)}. "
            f"Observed: Only {_pct(fraction)} of data is {feature.inferred_type}.",
        )

    def categorical(self) -> Optional[Dict[str, Any]]:
        feature, profile = self.feature, self.profile
        total: Optional[int] = profile.category_total
        if profile.read_as_numbers and profile.numeric is not None:  # only numbers: compare them as text
            labels, counts = profile.numeric.as_text()
            text_counts = profile.numeric.value_counts
            total = text_counts.total if text_counts is not None else None
        else:
            labels, counts = profile.categories, profile.category_counts
        current = {label: float(count) for label, count in zip(labels, counts)}
        kept = float(sum(current.values()))
        # Past dq_counts' capacity the counts are heavy hitters (each at most ``error`` low) of ``total``.
        present = kept if total is None else float(total)
        if feature.domains is not None and present > 0:
            self._domain(labels, counts, present, present - kept)
        baseline = feature.categories
        self.detail["current_categories"] = list(zip(labels[:20], [int(c) for c in counts[:20]]))
        if baseline:
            self.detail["baseline_categories"] = sorted(baseline.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        if not baseline or present <= 0:
            return None
        sizes = (float(sum(baseline.values())), present)
        threshold = float(self.dist["categorical_comparison_threshold"])
        if str(self.dist["categorical_drift_method"]) == "ChiSquared":
            _statistic, p_value, _dof = chi_squared_test(baseline, current)
            if math.isnan(p_value):
                p_value = 1.0
                self.detail["note"] = (
                    "chi-squared test not applicable (fewer than two categories after merging)"
                )
            raw = 1.0 - p_value
            return self._drift(
                raw=raw,
                value=raw,
                threshold=1.0 - threshold,
                method="ChiSquared",
                sizes=sizes,
                source="categorical",
            )
        raw = categorical_distance(baseline, current, present)
        method = str(self.dist["comparison_method"])
        return self._drift(
            raw=raw,
            value=robust_distance(raw, sizes[0], sizes[1]) if method == "Robust" else raw,
            threshold=threshold,
            method=method,
            sizes=sizes,
            source="categorical",
        )

    def _domain(self, labels: List[str], counts: np.ndarray, present: float, untracked: float) -> None:
        """``untracked``: values a sketch did not keep (taken as outside the domain)."""
        domain = set(self.feature.domains or [])
        unknown = [(label, int(count)) for label, count in zip(labels, counts) if label not in domain]
        fraction = (present - sum(c for _, c in unknown) - untracked) / present
        threshold = float(self.config["domain_content_threshold"])
        if fraction < threshold - 1e-12:
            self.detail["values_not_in_domain"] = unknown[:5]
            self.flag(
                CATEGORICAL_VALUES_CHECK,
                "Data does not meet domain requirement. "
                f"Expected match: {_pct(threshold)}. "
                f"Observed: Only {_pct(fraction)} of data is within the baseline domain.",
            )

    def _drift(
        self,
        *,
        raw: float,
        value: float,
        threshold: float,
        method: str,
        sizes: Tuple[float, float],
        source: str,
    ) -> Dict[str, Any]:
        """Record the drift metric; flag when comparison is enabled and value > threshold."""
        violation = str(self.dist.get("perform_comparison", "Enabled")) == "Enabled" and value > threshold
        self.detail.update({"distance": raw, "value": value, "threshold": threshold, "method": method})
        if violation:
            self.flag(
                BASELINE_DRIFT_CHECK,
                f"Baseline drift distance: {java_double(value)} exceeds threshold: {java_double(threshold)}",
            )
        return {
            "name": f"feature_baseline_drift_{self.feature.name}",
            "feature_name": self.feature.name,
            "value": value,
            "threshold": threshold,
            "method": method,
            "raw_distance": raw,
            "violation": bool(violation),
            "baseline_cdf": source,
            "baseline_count": sizes[0],
            "current_count": sizes[1],
        }
