"""Data-quality baseline and check (scripts/data_quality.py): Model Monitor layouts and semantics.

Helpers here (abalone-like frames, baseline/check runners, schema validation) are shared by the other
``test_data_quality_*`` and ``test_dq_*`` modules.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import data_quality as dq
import dq_baseline
import jsonschema
import numpy as np
import pandas as pd
import pytest
from dq_baseline import DEFAULT_MONITORING_CONFIG, build_baseline, monitoring_config
from dq_check import CHECK_TYPES, check_table
from dq_distance import categorical_distance
from dq_errors import InputDataError
from dq_outputs import DRIFT_METRICS_FILE, STATISTICS_FILE, SUMMARY_FILE, VIOLATIONS_FILE
from dq_read import Table, read_csv

SCHEMAS = Path(__file__).resolve().parent / "schemas"
FEATURES = [
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
]
COLUMNS = [*FEATURES, "rings"]


# ------------------------------------------------------------------------------------------- helpers


def abalone_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Abalone-like data: the real set's columns, types and rough shapes (sex, 7 measurements, rings)."""
    rng = np.random.default_rng(seed)
    length = np.round(np.clip(rng.normal(0.52, 0.12, n), 0.08, 0.82), 3)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["M", "F", "I"], n, p=[0.37, 0.31, 0.32]),
            "length": length,
            "diameter": np.round(length * 0.8 + rng.normal(0, 0.01, n), 3),
            "height": np.round(np.abs(length * 0.27 + rng.normal(0, 0.01, n)), 3),
            "whole_weight": np.round(np.abs(length**3 * 5 + rng.normal(0, 0.05, n)), 4),
            "shucked_weight": np.round(np.abs(length**3 * 2.2 + rng.normal(0, 0.03, n)), 4),
            "viscera_weight": np.round(np.abs(length**3 * 1.1 + rng.normal(0, 0.01, n)), 4),
            "shell_weight": np.round(np.abs(length**3 * 1.4 + rng.normal(0, 0.02, n)), 4),
            "rings": np.clip(np.round(rng.gamma(6.0, 1.65, n)), 1, 29).astype(int),
        }
    )
    return frame


def write_csv(frame: pd.DataFrame, path: Path, header: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, header=header)
    return path


def validate(document: Any, schema_name: str) -> None:
    schema = json.loads((SCHEMAS / f"{schema_name}.schema.json").read_text())
    jsonschema.validate(document, schema)


def load(directory: Path, name: str) -> Any:
    return json.loads((directory / name).read_text())


@pytest.fixture
def baseline_dir(tmp_path: Path) -> Path:
    """A baseline of the default abalone-like frame (with header), as the pipeline writes it."""
    source = write_csv(abalone_frame(), tmp_path / "train" / "training-data.csv")
    out = tmp_path / "baseline"
    dq.run_baseline(str(source), str(out), header=True, report=False)
    return out


def run_check(tmp_path: Path, frame: pd.DataFrame, baseline: Path, header: bool = True) -> dict[str, Any]:
    """Check ``frame`` against ``baseline``; returns every output document by file name."""
    source = write_csv(frame, tmp_path / "current" / "inference-data.csv", header=header)
    out = tmp_path / "check"
    dq.run_check(str(source), str(baseline), str(baseline), str(out), header=header, report=False)
    return {
        name: load(out, name) for name in (VIOLATIONS_FILE, STATISTICS_FILE, DRIFT_METRICS_FILE, SUMMARY_FILE)
    }


def violation_types(outputs: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v["feature_name"], v["constraint_check_type"]) for v in outputs[VIOLATIONS_FILE]["violations"]}


def table_from(frame: pd.DataFrame, tmp_path: Path, header: bool = True) -> Table:
    return read_csv(str(write_csv(frame, tmp_path / "t.csv", header=header)), header)


# ---------------------------------------------------------------------------------------- baseline


def test_baseline_writes_model_monitor_layouts(baseline_dir: Path) -> None:
    statistics = load(baseline_dir, "statistics.json")
    constraints = load(baseline_dir, "constraints.json")
    validate(statistics, "statistics")
    validate(constraints, "constraints")
    assert statistics["dataset"] == {"item_count": 600}
    types = {f["name"]: f["inferred_type"] for f in statistics["features"]}
    assert types == {**dict.fromkeys(FEATURES[1:], "Fractional"), "sex": "String", "rings": "Integral"}
    assert [f["name"] for f in constraints["features"]] == COLUMNS
    assert constraints["monitoring_config"] == DEFAULT_MONITORING_CONFIG


def test_numeric_statistics_match_numpy(baseline_dir: Path) -> None:
    frame = abalone_frame()
    features = {f["name"]: f for f in load(baseline_dir, "statistics.json")["features"]}
    for name in ("length", "rings"):
        stats = features[name]["numerical_statistics"]
        values = frame[name].to_numpy(dtype=float)
        assert stats["common"] == {"num_present": 600, "num_missing": 0}
        assert stats["mean"] == pytest.approx(values.mean())
        assert stats["sum"] == pytest.approx(values.sum())
        assert stats["std_dev"] == pytest.approx(values.std())  # population std, as Deequ
        assert (stats["min"], stats["max"]) == (values.min(), values.max())
        buckets = stats["distribution"]["kll"]["buckets"]
        expected, edges = np.histogram(values, bins=10)
        assert [b["lower_bound"] for b in buckets] == pytest.approx(edges[:-1].tolist())
        assert [b["count"] for b in buckets] == expected.tolist()


def test_kll_sketch_encodes_the_exact_histogram(baseline_dir: Path) -> None:
    features = {f["name"]: f for f in load(baseline_dir, "statistics.json")["features"]}
    rings = features["rings"]
    points, weights = dq_baseline._decode_kll(rings["numerical_statistics"]["distribution"]["kll"]["sketch"])
    assert weights.sum() == 600
    observed = dict(zip(*np.unique(abalone_frame()["rings"], return_counts=True), strict=True))
    decoded: dict[float, float] = {}
    for point, weight in zip(points, weights, strict=True):
        decoded[point] = decoded.get(point, 0) + weight
    assert decoded == {float(k): float(v) for k, v in observed.items()}  # 600 values fit level 0: exact
    assert "x_histogram" not in rings


def test_string_statistics_and_constraints(baseline_dir: Path) -> None:
    frame = abalone_frame()
    features = {f["name"]: f for f in load(baseline_dir, "statistics.json")["features"]}
    sex = features["sex"]["string_statistics"]
    assert sex["distinct_count"] == 3
    counts = frame["sex"].value_counts()
    assert {b["value"]: b["count"] for b in sex["distribution"]["categorical"]["buckets"]} == counts.to_dict()
    constraints = {f["name"]: f for f in load(baseline_dir, "constraints.json")["features"]}
    assert constraints["sex"]["string_constraints"] == {"domains": ["F", "I", "M"]}
    assert constraints["length"]["num_constraints"] == {"is_non_negative": True}
    assert all(
        c["completeness"] == 1.0 and "monitoringConfigOverrides" not in c for c in constraints.values()
    )


def test_completeness_counts_missing_values(tmp_path: Path) -> None:
    frame = abalone_frame(100)
    frame.loc[:9, "height"] = np.nan
    statistics, constraints, _ = build_baseline(table_from(frame, tmp_path))
    height = next(f for f in statistics["features"] if f["name"] == "height")
    assert height["numerical_statistics"]["common"] == {"num_present": 90, "num_missing": 10}
    assert next(f for f in constraints["features"] if f["name"] == "height")["completeness"] == 0.9


def test_baseline_options_write_every_monitoring_config_key() -> None:
    config = monitoring_config(comparison_method="Simple", categorical_drift_method="ChiSquared")
    assert config["distribution_constraints"]["comparison_method"] == "Simple"
    assert set(config) == set(DEFAULT_MONITORING_CONFIG)
    assert set(config["distribution_constraints"]) == set(
        DEFAULT_MONITORING_CONFIG["distribution_constraints"]
    )


def test_high_cardinality_strings_get_no_domain(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [f"id-{i}" for i in range(300)], "x": np.arange(300)})
    _, constraints, _ = build_baseline(table_from(frame, tmp_path))
    assert "string_constraints" not in constraints["features"][0]


# ------------------------------------------------------------------------------------------- check


def test_baseline_data_checked_against_itself_passes(tmp_path: Path, baseline_dir: Path) -> None:
    outputs = run_check(tmp_path, abalone_frame(), baseline_dir)
    assert outputs[VIOLATIONS_FILE] == {"violations": []}
    metrics = outputs[DRIFT_METRICS_FILE]["metrics"]
    assert [m["name"] for m in metrics] == [f"feature_baseline_drift_{c}" for c in COLUMNS]
    assert all(m["value"] == 0.0 and m["raw_distance"] == 0.0 and not m["violation"] for m in metrics)
    summary = outputs[SUMMARY_FILE]
    assert summary["violation_count"] == 0
    assert summary["violations_by_type"] == dict.fromkeys(CHECK_TYPES, 0)
    assert summary["item_count"] == summary["baseline_item_count"] == 600
    for name, schema in (
        (VIOLATIONS_FILE, "constraint_violations"),
        (STATISTICS_FILE, "statistics"),
        (DRIFT_METRICS_FILE, "drift_metrics"),
        (SUMMARY_FILE, "summary"),
    ):
        validate(outputs[name], schema)


def _fractional_rings(frame: pd.DataFrame) -> pd.DataFrame:
    frame["rings"] = frame["rings"].astype(float)
    frame.loc[:59, "rings"] += 0.5
    return frame


def _junk_in_length(frame: pd.DataFrame) -> pd.DataFrame:
    frame["length"] = frame["length"].astype(object)
    frame.loc[5, "length"] = "twelve"
    return frame


def _gaps_in_height(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[:29, "height"] = np.nan
    return frame


def _shifted_length(frame: pd.DataFrame) -> pd.DataFrame:
    frame["length"] = frame["length"] + 0.1
    return frame


def _negative_weights(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[:2, "shell_weight"] = -0.001
    return frame


MUTATIONS: list[tuple[str, Callable[[pd.DataFrame], pd.DataFrame], set[tuple[str, str]]]] = [
    ("fractional rings", _fractional_rings, {("rings", "data_type_check")}),
    ("text in a numeric column", _junk_in_length, {("length", "data_type_check")}),
    ("negative values", _negative_weights, {("shell_weight", "data_type_check")}),
    ("missing values", _gaps_in_height, {("height", "completeness_check")}),
    ("shifted distribution", _shifted_length, {("length", "baseline_drift_check")}),
    ("dropped column", lambda f: f.drop(columns=["diameter"]), {("diameter", "missing_column_check")}),
    ("added column", lambda f: f.assign(colour="red"), {("colour", "extra_column_check")}),
    (
        "unknown category",
        lambda f: f.assign(sex=f["sex"].where(f.index > 3, "X")),
        {("sex", "categorical_values_check")},
    ),
]


@pytest.mark.parametrize(("label", "mutate", "expected"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_each_violation_type_is_raised_by_a_crafted_batch(
    tmp_path: Path,
    baseline_dir: Path,
    label: str,
    mutate: Callable[[pd.DataFrame], pd.DataFrame],
    expected: set[tuple[str, str]],
) -> None:
    outputs = run_check(tmp_path, mutate(abalone_frame()), baseline_dir)
    assert violation_types(outputs) == expected, label
    validate(outputs[VIOLATIONS_FILE], "constraint_violations")
    summary = outputs[SUMMARY_FILE]
    assert summary["violation_count"] == len(expected)
    for _, check_type in expected:
        assert summary["violations_by_type"][check_type] == 1


def test_violation_descriptions_say_what_was_expected_and_observed(
    tmp_path: Path, baseline_dir: Path
) -> None:
    outputs = run_check(tmp_path, _junk_in_length(_gaps_in_height(abalone_frame())), baseline_dir)
    descriptions = {
        v["constraint_check_type"]: v["description"] for v in outputs[VIOLATIONS_FILE]["violations"]
    }
    assert descriptions["data_type_check"].startswith(
        "Data type match requirement is not met. Expected data type"
    )
    assert descriptions["data_type_check"].endswith("of data is Fractional.")  # Model Monitor's wording only
    assert descriptions["completeness_check"] == (
        "Data completeness requirement is not met. "
        "Expected: 100.0%. Observed: Only 95.0% of data is complete."
    )


def test_drift_is_measured_on_the_numbers_of_a_column_with_text(tmp_path: Path, baseline_dir: Path) -> None:
    outputs = run_check(tmp_path, _junk_in_length(abalone_frame()), baseline_dir)
    length = next(m for m in outputs[DRIFT_METRICS_FILE]["metrics"] if m["feature_name"] == "length")
    assert length["raw_distance"] < 0.01
    current = next(f for f in outputs[STATISTICS_FILE]["features"] if f["name"] == "length")
    assert current["inferred_type"] == "String"  # Model Monitor's rule: any text makes it a String


def test_drifted_sample_data_triggers_drift_and_notifies_without_failing(
    tmp_path: Path, baseline_dir: Path
) -> None:
    drifted = abalone_frame(seed=1)
    numeric = FEATURES[1:]
    drifted[numeric] = drifted[numeric] + 1.5 * abalone_frame()[numeric].std()
    drifted.loc[drifted.sample(frac=0.8, random_state=0).index, "sex"] = "I"
    outputs = run_check(tmp_path, drifted, baseline_dir)
    assert set(outputs[SUMMARY_FILE]["drifted_features"]) == {*numeric, "sex"}


def test_missing_and_extra_columns_name_the_column_counts(tmp_path: Path, baseline_dir: Path) -> None:
    outputs = run_check(tmp_path, abalone_frame().drop(columns=["rings"]).assign(extra=1), baseline_dir)
    by_type = {v["constraint_check_type"]: v for v in outputs[VIOLATIONS_FILE]["violations"]}
    assert by_type["missing_column_check"]["feature_name"] == "rings"
    assert by_type["extra_column_check"]["feature_name"] == "extra"
    assert "Number of columns in current dataset: 9" in by_type["extra_column_check"]["description"]


def test_header_and_headerless_round_trip(tmp_path: Path) -> None:
    frame = abalone_frame(200)
    source = write_csv(frame, tmp_path / "in" / "data.csv", header=False)
    dq.run_baseline(str(source), str(tmp_path / "base"), header=False, report=False)
    statistics = load(tmp_path / "base", "statistics.json")
    assert [f["name"] for f in statistics["features"]] == [f"_c{i}" for i in range(9)]
    outputs = run_check(tmp_path, frame.drop(columns=["rings"]), tmp_path / "base", header=False)
    assert violation_types(outputs) == {("_c8", "missing_column_check")}


def test_header_mismatch_is_an_error_not_a_pile_of_violations(tmp_path: Path, baseline_dir: Path) -> None:
    with pytest.raises(InputDataError, match="pass --header or --no-header consistently"):
        run_check(tmp_path, abalone_frame(), baseline_dir, header=False)


def test_simple_and_robust_differ_on_small_samples(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    base = pd.DataFrame({"x": rng.normal(0, 1, 150)})
    shifted = pd.DataFrame(
        {"x": rng.normal(0.35, 1, 150)}
    )  # KS ~0.14: above 0.1, below the KS critical value
    results = {}
    for method in ("Simple", "Robust"):
        statistics, constraints, _ = build_baseline(
            table_from(base, tmp_path), monitoring_config(comparison_method=method)
        )
        outcome = check_table(table_from(shifted, tmp_path / "c"), statistics, constraints)
        results[method] = outcome
    simple, robust = (results[m].drift_metrics["metrics"][0] for m in ("Simple", "Robust"))
    assert simple["raw_distance"] == robust["raw_distance"] > 0.1
    assert simple["value"] == simple["raw_distance"] and simple["violation"]
    correction = 1.8 * math.sqrt(2 / 150)
    assert robust["value"] == pytest.approx(max(0.0, robust["raw_distance"] - correction))
    assert not robust["violation"]
    assert [v["constraint_check_type"] for v in results["Simple"].violations] == ["baseline_drift_check"]
    assert results["Robust"].violations == []


def test_categorical_drift_linf_and_chi_squared(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    base = pd.DataFrame({"c": rng.choice(["a", "b", "c"], 3000, p=[0.5, 0.3, 0.2])})
    moved = pd.DataFrame({"c": rng.choice(["a", "b", "c"], 3000, p=[0.3, 0.3, 0.4])})
    same = base.sample(frac=1.0, random_state=1)  # a p-value test flags 10% of random samples at 0.1
    for method in ("LInfinity", "ChiSquared"):
        statistics, constraints, _ = build_baseline(
            table_from(base, tmp_path), monitoring_config(categorical_drift_method=method)
        )
        drift = check_table(table_from(moved, tmp_path / "m"), statistics, constraints)
        quiet = check_table(table_from(same, tmp_path / "s"), statistics, constraints)
        assert [v["constraint_check_type"] for v in drift.violations] == ["baseline_drift_check"], method
        assert quiet.violations == [], method
        metric = drift.drift_metrics["metrics"][0]
        assert metric["method"] == ("ChiSquared" if method == "ChiSquared" else "Robust")
    linf = categorical_distance({"a": 5, "b": 3, "c": 2}, {"a": 3, "b": 3, "c": 4})
    assert linf == pytest.approx(0.2)


def test_feature_overrides_and_disabled_evaluation(tmp_path: Path, baseline_dir: Path) -> None:
    statistics = load(baseline_dir, "statistics.json")
    constraints = load(baseline_dir, "constraints.json")
    table = table_from(_shifted_length(abalone_frame()), tmp_path)
    next(f for f in constraints["features"] if f["name"] == "length")["monitoringConfigOverrides"] = {
        "comparison_threshold": 0.9
    }
    assert check_table(table, statistics, constraints).violations == []
    constraints["monitoring_config"]["evaluate_constraints"] = "Disabled"
    missing = table_from(abalone_frame().drop(columns=["sex"]), tmp_path / "m")
    assert check_table(missing, statistics, constraints).violations == []


def test_emit_metrics_disabled_writes_no_metrics(tmp_path: Path, baseline_dir: Path) -> None:
    statistics = load(baseline_dir, "statistics.json")
    constraints = load(baseline_dir, "constraints.json")
    constraints["monitoring_config"]["emit_metrics"] = "Disabled"
    outcome = check_table(table_from(abalone_frame(), tmp_path), statistics, constraints)
    assert outcome.drift_metrics == {"version": 0, "metrics": []}


# ------------------------------------------------------------------ baselines written by SageMaker


def sagemaker_baseline() -> tuple[dict[str, Any], dict[str, Any]]:
    """Files as the Model Monitor container writes them: KLL sketch levels, partial monitoring_config."""
    rng = np.random.default_rng(11)
    values = np.sort(rng.normal(10, 2, 4000))
    level0 = values[::4][:600].tolist()  # a stack of compactors: level h items weigh 2**h
    level1 = values[2400::8].tolist()
    statistics = {
        "version": 0.0,
        "dataset": {"item_count": 4000},
        "features": [
            {
                "name": "_c0",
                "inferred_type": "Fractional",
                "numerical_statistics": {
                    "common": {"num_present": 4000, "num_missing": 0},
                    "mean": float(values.mean()),
                    "sum": float(values.sum()),
                    "std_dev": float(values.std()),
                    "min": float(values.min()),
                    "max": float(values.max()),
                    "distribution": {
                        "kll": {
                            "buckets": [
                                {"lower_bound": float(lo), "upper_bound": float(hi), "count": float(c)}
                                for lo, hi, c in zip(
                                    np.histogram(values, 10)[1][:-1],
                                    np.histogram(values, 10)[1][1:],
                                    np.histogram(values, 10)[0],
                                    strict=True,
                                )
                            ],
                            "sketch": {"parameters": {"c": 0.64, "k": 2048.0}, "data": [level0, level1]},
                        }
                    },
                },
            },
            {
                "name": "_c1",
                "inferred_type": "String",
                "string_statistics": {
                    "common": {"num_present": 4000, "num_missing": 0},
                    "distinct_count": 2.0,
                    "distribution": {
                        "categorical": {
                            "buckets": [{"value": "yes", "count": 3000}, {"value": "no", "count": 1000}]
                        }
                    },
                },
            },
        ],
    }
    constraints = {
        "version": 0.0,
        "features": [
            {
                "name": "_c0",
                "inferred_type": "Fractional",
                "completeness": 1.0,
                "num_constraints": {"is_non_negative": True},
            },
            {
                "name": "_c1",
                "inferred_type": "String",
                "completeness": 1.0,
                "string_constraints": {"domains": ["no", "yes"]},
            },
        ],
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0,
            "domain_content_threshold": 1.0,
            "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1},
        },
    }
    return statistics, constraints


def _current(tmp_path: Path, shift: float) -> Table:
    rng = np.random.default_rng(12)
    frame = pd.DataFrame(
        {"x": rng.normal(10 + shift, 2, 3000), "y": rng.choice(["yes", "no"], 3000, p=[0.75, 0.25])}
    )
    return table_from(frame, tmp_path, header=False)


def test_reads_a_sagemaker_baseline_with_its_kll_sketch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    statistics, constraints = sagemaker_baseline()
    with caplog.at_level(logging.WARNING):
        quiet = check_table(_current(tmp_path, 0.0), statistics, constraints)
    assert "comparison_method" in caplog.text  # defaults filled in, and said so
    assert quiet.violations == []
    metric = quiet.drift_metrics["metrics"][0]
    assert metric["baseline_cdf"] == "kll_sketch" and metric["raw_distance"] < 0.05
    shifted = check_table(_current(tmp_path / "s", 1.0), statistics, constraints)
    assert [v["constraint_check_type"] for v in shifted.violations] == ["baseline_drift_check"]


def test_unusable_sketch_falls_back_to_buckets_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    statistics, constraints = sagemaker_baseline()
    kll = statistics["features"][0]["numerical_statistics"]["distribution"]["kll"]
    kll["sketch"]["data"] = "AgEPCAAAAQAAAAAAAAA="  # an opaque encoding we cannot read
    with caplog.at_level(logging.WARNING):
        outcome = check_table(_current(tmp_path, 1.0), statistics, constraints)
    assert "falling back to its 10-bucket distribution" in caplog.text
    metric = outcome.drift_metrics["metrics"][0]
    assert metric["baseline_cdf"] == "buckets" and metric["violation"]
    detail = next(f for f in outcome.features if f["name"] == "_c0")
    assert "compared at the 10 bucket bounds" in detail["note"]


def test_monitor_can_read_our_sketch(baseline_dir: Path, tmp_path: Path) -> None:
    """Our sketch alone (no x_histogram) gives the same verdicts: Model Monitor can use our baselines."""
    statistics = load(baseline_dir, "statistics.json")
    constraints = load(baseline_dir, "constraints.json")
    for feature in statistics["features"]:
        feature.pop("x_histogram", None)
    same = check_table(table_from(abalone_frame(), tmp_path), statistics, constraints)
    assert same.violations == []
    # Items sit at fine-bin midpoints, so rounded data (atoms) can differ by one atom's mass here.
    assert max(m["raw_distance"] for m in same.drift_metrics["metrics"]) < 0.05
    shifted = check_table(
        table_from(_shifted_length(abalone_frame()), tmp_path / "s"), statistics, constraints
    )
    assert [v["feature_name"] for v in shifted.violations] == ["length"]
