"""The baseline files, statistics.json and constraints.json: built from a profiled table, and read back
(located, parsed and validated, with the CDF of each numeric feature) for a check.
"""

from __future__ import annotations

import json
import logging
import math
import os
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
from dq_distance import Cdf
from dq_errors import BaselineFileError, InputDataError
from dq_kll import KllSketch
from dq_profile import UNKNOWN, FeatureProfile
from dq_read import Table
from dq_state import DatasetState, state_of_table

LOG = logging.getLogger(__name__)

VERSION = 0.0  # as Model Monitor writes it
KNOWN_TYPES = ("Integral", "Fractional", "String", "Unknown")
COMPARISON_METHODS = ("Simple", "Robust")
CATEGORICAL_DRIFT_METHODS = ("LInfinity", "ChiSquared")

# Every key written explicitly: the documentation and the container disagree on defaults. These are the
# values the Model Monitor container writes (datatype/domain thresholds 1.0, Robust, LInfinity).
DEFAULT_MONITORING_CONFIG: Dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


# ---------------------------------------------------------------------------------- building a baseline


def monitoring_config(
    *,
    comparison_threshold: float = 0.1,
    comparison_method: str = "Robust",
    categorical_comparison_threshold: float = 0.1,
    categorical_drift_method: str = "LInfinity",
    datatype_check_threshold: float = 1.0,
    domain_content_threshold: float = 1.0,
) -> Dict[str, Any]:
    """A complete ``monitoring_config`` (every key explicit)."""
    if comparison_method not in COMPARISON_METHODS:
        raise ValueError(f"comparison_method must be one of {COMPARISON_METHODS}")
    if categorical_drift_method not in CATEGORICAL_DRIFT_METHODS:
        raise ValueError(f"categorical_drift_method must be one of {CATEGORICAL_DRIFT_METHODS}")
    return {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": float(datatype_check_threshold),
        "domain_content_threshold": float(domain_content_threshold),
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": float(comparison_threshold),
            "comparison_method": comparison_method,
            "categorical_comparison_threshold": float(categorical_comparison_threshold),
            "categorical_drift_method": categorical_drift_method,
        },
    }


def profile_baseline(state: DatasetState) -> List[FeatureProfile]:
    """Profiles of every column, refusing data no baseline should be built on."""
    profiles = []
    for profile in state.profiles():
        if profile.num_present == 0:
            raise InputDataError(
                "the column has no values at all",
                file=state.path,
                column=profile.name,
                fix="fill the column or drop it from the baseline data",
            )
        if profile.non_finite:
            raise InputDataError(
                f"infinite value {profile.first_bad_value}",
                file=profile.first_bad_file or state.path,
                row=profile.first_bad_row,
                column=profile.name,
                fix="replace it with a finite number or leave it empty (missing)",
            )
        profiles.append(profile)
    return profiles


def build_baseline(
    data: Union[Table, DatasetState], config: Optional[Dict[str, Any]] = None
) -> Tuple[Dict[str, Any], Dict[str, Any], List[FeatureProfile]]:
    """statistics.json and constraints.json (as dicts) of a data set (a table, or a stream's state)."""
    state = state_of_table(data) if isinstance(data, Table) else data
    profiles = profile_baseline(state)
    statistics = {
        "version": VERSION,
        "dataset": {"item_count": state.n_rows},
        "features": [p.statistics() for p in profiles],
    }
    constraints = {
        "version": VERSION,
        "features": [p.constraint() for p in profiles],
        "monitoring_config": config if config is not None else monitoring_config(),
    }
    return statistics, constraints, profiles


# ------------------------------------------------------------------------------ reading a baseline back


def resolve_baseline_file(path: str, filename: str) -> str:
    """A baseline file given as a file, or as a directory holding ``filename`` (or exactly one .json)."""
    if os.path.isfile(path):
        return path
    if os.path.isdir(path):
        candidate = os.path.join(path, filename)
        if os.path.isfile(candidate):
            return candidate
        jsons = sorted(n for n in os.listdir(path) if n.endswith(".json") and not n.startswith("."))
        if len(jsons) == 1:
            return os.path.join(path, jsons[0])
    raise BaselineFileError(
        f"baseline file {filename} not found",
        file=path,
        fix=f"pass the {filename} written by the baseline step (a file, or a directory containing it)",
    )


def load_json_file(path: str, what: str) -> Dict[str, Any]:
    """Parse a baseline JSON file; errors name the file, line and column."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise BaselineFileError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            file=path,
            fix=f"pass the {what} written by a data-quality baseline job, unmodified",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineFileError(f"{what} cannot be read: {exc}", file=path, fix="check the path") from exc
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise BaselineFileError(
            f'{what} is not in Model Monitor\'s layout (no "features" list)',
            file=path,
            fix=f"pass a {what} in Model Monitor's layout",
        )
    return data


class BaselineFeature:
    """One feature of the baseline: its constraints and (when present) its statistics."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.inferred_type = UNKNOWN
        self.completeness: Optional[float] = None
        self.is_non_negative: Optional[bool] = None
        self.domains: Optional[List[str]] = None
        self.overrides: Dict[str, Any] = {}
        self.statistics: Optional[Dict[str, Any]] = None
        self.cdf: Optional[Cdf] = None
        self.cdf_note = ""
        self.categories: Optional[Dict[str, float]] = None
        self.num_present = 0
        self.num_missing = 0


def _number(value: Any, what: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise BaselineFileError(
            f"{what} is not a number: {value!r}", file=path, fix="pass an unmodified baseline file"
        )
    return float(value)


def parse_baseline(
    statistics: Dict[str, Any], constraints: Dict[str, Any], statistics_path: str, constraints_path: str
) -> Tuple[List[BaselineFeature], Dict[str, Any]]:
    """The baseline features (constraints order) and the effective monitoring_config."""
    _check_version(statistics, statistics_path, "statistics.json")
    _check_version(constraints, constraints_path, "constraints.json")
    config = merge_config(DEFAULT_MONITORING_CONFIG, constraints.get("monitoring_config") or {})
    _note_missing_config(constraints.get("monitoring_config") or {}, constraints_path)
    validate_config(config, constraints_path, "monitoring_config")
    features: Dict[str, BaselineFeature] = {}
    order: List[str] = []
    for index, raw in enumerate(constraints.get("features", [])):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise BaselineFileError(
                f"constraints feature #{index} has no name",
                file=constraints_path,
                fix="pass an unmodified constraints.json",
            )
        feature = BaselineFeature(raw["name"])
        feature.inferred_type = _known_type(raw, feature.name, constraints_path)
        if "completeness" in raw:
            feature.completeness = _number(
                raw["completeness"], f"completeness of {feature.name}", constraints_path
            )
        num = raw.get("num_constraints") or {}
        if isinstance(num, dict) and "is_non_negative" in num:
            feature.is_non_negative = bool(num["is_non_negative"])
        strings = raw.get("string_constraints") or {}
        if isinstance(strings, dict) and isinstance(strings.get("domains"), list):
            feature.domains = [str(v) for v in strings["domains"]]
        feature.overrides = _overrides(raw, num, strings)
        features[feature.name] = feature
        order.append(feature.name)
    for index, raw in enumerate(statistics.get("features", [])):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise BaselineFileError(
                f"statistics feature #{index} has no name",
                file=statistics_path,
                fix="pass an unmodified statistics.json",
            )
        known = features.get(raw["name"])
        if known is None:
            if order and constraints.get("features"):
                continue  # the constraints decide which columns the baseline has
            known = BaselineFeature(raw["name"])
            known.inferred_type = _known_type(raw, known.name, statistics_path)
            features[known.name] = known
            order.append(known.name)
        _attach_statistics(known, raw, statistics_path)
    return [features[name] for name in order], config


def _check_version(data: Dict[str, Any], path: str, what: str) -> None:
    version = data.get("version", VERSION)
    if isinstance(version, bool) or not isinstance(version, (int, float)) or float(version) != VERSION:
        raise BaselineFileError(
            f"{what} has version {version!r}; only version 0 (Model Monitor's) is supported",
            file=path,
            fix=f"pass a {what} written by a Model Monitor or data-quality baseline job",
        )


def _known_type(raw: Dict[str, Any], name: str, path: str) -> str:
    inferred = raw.get("inferred_type", UNKNOWN)
    if inferred not in KNOWN_TYPES:
        raise BaselineFileError(
            f"feature {name!r} has inferred_type {inferred!r}",
            file=path,
            column=name,
            fix="use one of " + ", ".join(KNOWN_TYPES) + " (Model Monitor's types)",
        )
    return str(inferred)


def _overrides(raw: Dict[str, Any], *blocks: Any) -> Dict[str, Any]:
    """Per-feature monitoring_config overrides: our top-level key, or Model Monitor's inside a block."""
    merged: Dict[str, Any] = {}
    for block in blocks:
        inner = block.get("monitoring_config_overrides") if isinstance(block, dict) else None
        if isinstance(inner, dict):
            merged.update(inner)
    top = raw.get("monitoringConfigOverrides")
    if isinstance(top, dict):
        merged.update(top)
    return merged


def merge_config(base: Dict[str, Any], override: Dict[str, Any]) -> Dict[str, Any]:
    merged = json.loads(json.dumps(base))
    for key, value in override.items():
        if key == "distribution_constraints" and isinstance(value, dict):
            merged["distribution_constraints"].update(value)
        elif key in base["distribution_constraints"]:
            merged["distribution_constraints"][key] = value
        else:
            merged[key] = value
    return merged


def _note_missing_config(given: Dict[str, Any], path: str) -> None:
    missing = [k for k in DEFAULT_MONITORING_CONFIG if k != "distribution_constraints" and k not in given]
    dist = given.get("distribution_constraints") or {}
    missing += [k for k in DEFAULT_MONITORING_CONFIG["distribution_constraints"] if k not in dist]
    if missing:
        LOG.warning(
            "%s: monitoring_config lacks %s; using the Model Monitor container's defaults",
            path,
            ", ".join(missing),
        )


def validate_config(config: Dict[str, Any], path: str, where: str) -> None:
    dist = config["distribution_constraints"]
    for key in ("datatype_check_threshold", "domain_content_threshold"):
        _number(config[key], f"{where}.{key}", path)
    for key in ("comparison_threshold", "categorical_comparison_threshold"):
        _number(dist[key], f"{where}.distribution_constraints.{key}", path)
    if dist["comparison_method"] not in COMPARISON_METHODS:
        raise BaselineFileError(
            f"{where}.distribution_constraints.comparison_method is {dist['comparison_method']!r}",
            file=path,
            fix="use Simple or Robust",
        )
    if dist["categorical_drift_method"] not in CATEGORICAL_DRIFT_METHODS:
        raise BaselineFileError(
            f"{where}.distribution_constraints.categorical_drift_method is "
            f"{dist['categorical_drift_method']!r}",
            file=path,
            fix="use LInfinity or ChiSquared",
        )


def _attach_statistics(feature: BaselineFeature, raw: Dict[str, Any], path: str) -> None:
    feature.statistics = raw
    numerical = raw.get("numerical_statistics")
    strings = raw.get("string_statistics")
    block = numerical if isinstance(numerical, dict) else strings if isinstance(strings, dict) else None
    if block is not None:
        common = block.get("common") or {}
        feature.num_present = int(
            _number(common.get("num_present", 0), f"num_present of {feature.name}", path)
        )
        feature.num_missing = int(
            _number(common.get("num_missing", 0), f"num_missing of {feature.name}", path)
        )
    if isinstance(numerical, dict):
        feature.cdf, feature.cdf_note = _baseline_cdf(feature.name, raw, numerical, path)
    if isinstance(strings, dict):
        buckets = (((strings.get("distribution") or {}).get("categorical") or {}).get("buckets")) or []
        categories: Dict[str, float] = {}
        for bucket in buckets:
            if isinstance(bucket, dict) and "value" in bucket:
                categories[str(bucket["value"])] = _number(
                    bucket.get("count", 0), f"category count of {feature.name}", path
                )
        feature.categories = categories


def _baseline_cdf(
    name: str, raw: Dict[str, Any], numerical: Dict[str, Any], path: str
) -> Tuple[Optional[Cdf], str]:
    """The CDF to compare against: our exact histogram, else the KLL sketch, else the 10 buckets."""
    histogram = raw.get("x_histogram")
    if isinstance(histogram, dict):
        try:
            counts = np.asarray(histogram["counts"], dtype=np.float64)
            lo = _number(histogram["lower_bound"], f"x_histogram.lower_bound of {name}", path)
            hi = _number(histogram["upper_bound"], f"x_histogram.upper_bound of {name}", path)
            if counts.ndim == 1 and counts.size and np.all(counts >= 0) and counts.sum() > 0 and hi >= lo:
                return Cdf.from_histogram(lo, hi, counts), ""
        except (KeyError, TypeError, ValueError):
            pass
        LOG.warning("%s: x_histogram of %s is malformed; using the KLL sketch", path, name)
    kll = ((numerical.get("distribution") or {}).get("kll")) or {}
    sketch = kll.get("sketch") if isinstance(kll, dict) else None
    note = ""
    if isinstance(sketch, dict):
        try:
            points, weights = _decode_kll(sketch)
            return Cdf.from_points("kll_sketch", points, weights), ""
        except ValueError as exc:
            note = f"KLL sketch unusable ({exc})"
    else:
        note = "no KLL sketch"
    buckets = kll.get("buckets") if isinstance(kll, dict) else None
    try:
        cdf = _cdf_from_buckets(buckets)
    except ValueError as exc:
        LOG.warning("%s: %s of %s and buckets unusable (%s): no drift check for it", path, note, name, exc)
        return None, f"{note}; buckets unusable ({exc}): drift not checked"
    LOG.warning(
        "%s: %s for %s; falling back to its 10-bucket distribution (coarser drift distance)", path, note, name
    )
    return cdf, f"{note}; compared at the 10 bucket bounds"


def _decode_kll(sketch: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray]:
    """Items and weights of a KLL compactor stack ([[level 0 items], [level 1 items], …]: weight 2**level)."""
    return KllSketch.from_data(sketch.get("data"), sketch.get("parameters")).weighted()


def _cdf_from_buckets(buckets: Any) -> Cdf:
    if not isinstance(buckets, list) or not buckets:
        raise ValueError("no buckets")
    lowers, uppers, counts = [], [], []
    for bucket in buckets:
        if not isinstance(bucket, dict):
            raise ValueError("bucket is not an object")
        lowers.append(float(bucket["lower_bound"]))
        uppers.append(float(bucket["upper_bound"]))
        counts.append(float(bucket["count"]))
    total = sum(counts)
    if total <= 0:
        raise ValueError("buckets are empty")
    # Point 0 is the lower bound of the first bucket (F = 0 just below it); then F at each upper bound.
    cdf = Cdf("buckets", total)
    cdf.points = np.asarray([lowers[0], *uppers])
    cdf.cumulative = np.concatenate(([0.0], np.cumsum(counts) / total))
    return cdf
