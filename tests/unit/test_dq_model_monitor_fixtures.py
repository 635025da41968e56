"""The engine against real Model Monitor files (tests/fixtures/model_monitor, sources in its README)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import data_quality as dq
import numpy as np
import pytest
from dq_baseline import BaselineFileError, parse_baseline
from dq_check import java_double
from dq_kll import KllSketch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "model_monitor"
CHURN = FIXTURES / "churn_training_first10.csv"


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _real_tables() -> dict[str, Any]:
    return _json(FIXTURES / "churn_baseline_tables.json")


@pytest.fixture(scope="module")
def churn_baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("churn") / "baseline"
    dq.run_baseline(str(CHURN), str(out), header=True, report=False)
    return out


def _flat_keys(feature: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in feature.items():
        name = prefix + key
        if isinstance(value, dict):
            keys |= _flat_keys(value, name + ".")
        else:
            keys.add(name)
    return keys


def test_the_sdk_files_are_read() -> None:
    statistics = _json(FIXTURES / "sdk" / "statistics.json")
    constraints = _json(FIXTURES / "sdk" / "constraints.json")
    features, config = parse_baseline(statistics, constraints, "statistics.json", "constraints.json")
    assert [f.name for f in features] == ["message", "second_message"]
    message = features[0]
    assert message.inferred_type == "String" and message.domains == ["preproc-not-YET-supported-for-csv-json"]
    assert message.overrides == {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled"}
    assert message.categories == {"preproc-not-YET-supported-for-csv-json": 418.0}
    assert config["distribution_constraints"]["comparison_threshold"] == 1.0


def test_numbers_in_a_string_feature_fail_the_data_type_check(tmp_path: Path) -> None:
    """The SDK's QualityCheckStep integration test expects a data_type_check here."""
    baseline = FIXTURES / "sdk"
    good = tmp_path / "good.csv"
    good.write_text("message\n" + "preproc-not-YET-supported-for-csv-json\n" * 418)
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("message\n" + "".join(f"{i}\n" for i in range(50)))
    for source, expected in ((good, []), (numbers, ["data_type_check"])):
        out = tmp_path / source.stem
        dq.run_check(str(source), str(baseline), str(baseline), str(out), header=True, report=False)
        violations = _json(out / "constraint_violations.json")["violations"]
        message = [v for v in violations if v["feature_name"] == "message"]
        assert [
            v["constraint_check_type"] for v in message if v["constraint_check_type"] == "data_type_check"
        ] == (expected)
    assert message[0]["description"] == (
        "Data type match requirement is not met. Expected data type: String, Expected match: 100.0%. "
        "Observed: Only 0.0% of data is String."
    )


def test_statistics_keys_and_numbers_match_the_real_baselining_job(churn_baseline: Path) -> None:
    ours = {f["name"]: f for f in _json(churn_baseline / "statistics.json")["features"]}
    real = _real_tables()["statistics"]
    real_keys = {k for k in real["columns"]}
    for row in real["rows"]:
        feature = ours[row["name"]]
        assert _flat_keys(feature) == real_keys, row["name"]
        assert feature["inferred_type"] == row["inferred_type"]
        numeric = feature["numerical_statistics"]
        assert numeric["common"]["num_present"] == int(row["numerical_statistics.common.num_present"])
        for key in ("mean", "sum", "std_dev", "min", "max"):
            assert numeric[key] == pytest.approx(
                float(row[f"numerical_statistics.{key}"]), rel=1e-5, abs=1e-6
            )
        sketch = numeric["distribution"]["kll"]["sketch"]
        assert sketch["parameters"] == {"c": 0.64, "k": 2048.0}
        assert isinstance(sketch["parameters"]["k"], float)
        # the real sketch's first level, as pandas printed it (truncated): the same values in the same order
        printed = row["numerical_statistics.distribution.kll.sketch.data"]
        shown = [float(v) for v in re.findall(r"-?\d+\.\d+", printed.split("...")[0])[:-1]]
        assert sketch["data"][0][: len(shown)] == shown, row["name"]


def test_constraints_keys_match_the_real_baselining_job(churn_baseline: Path) -> None:
    ours = _json(churn_baseline / "constraints.json")
    assert ours["version"] == 0.0 and isinstance(ours["version"], float)
    real = _real_tables()["constraints"]
    for feature in ours["features"]:
        assert _flat_keys(feature) == set(real["columns"])


def test_kll_sketch_cdf_is_within_one_percent_and_merges() -> None:
    rng = np.random.default_rng(7)
    values = rng.lognormal(size=300_000)
    whole, parts = KllSketch(), [KllSketch() for _ in range(3)]
    whole.update(values)
    for part, chunk in zip(parts, np.array_split(values, 3), strict=True):
        for piece in np.array_split(chunk, 40):
            part.update(piece)
    merged = parts[0].merge(parts[1]).merge(parts[2])
    ordered = np.sort(values)
    probes = ordered[::211]
    exact = np.searchsorted(ordered, probes, side="right") / values.size
    for sketch in (whole, merged):
        assert sketch.count() == values.size
        assert float(np.max(np.abs(sketch.cdf(probes) - exact))) <= 0.01


def test_java_number_formatting() -> None:
    assert [java_double(v) for v in (100.0, 99.71751412429379, 0.0, 1e-4, 12345678.0)] == [
        "100.0",
        "99.71751412429379",
        "0.0",
        "1.0E-4",
        "1.2345678E7",
    ]


def test_published_violation_wording_is_ours() -> None:
    pattern = re.compile(
        r"Data type match requirement is not met\. "
        r"Expected data type: (\w+), Expected match: ([\d.E-]+)%\.\s+"
        r"Observed: Only ([\d.E-]+)% of data is \1\."
    )
    for violation in _json(FIXTURES / "published_violations.json")["violations"]:
        match = pattern.fullmatch(violation["description"])
        assert match, violation["description"]
        assert java_double(float(match.group(3)) / 100 * 100) == match.group(3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(version=99), "version 99"),
        (lambda c: c["features"][0].update(inferred_type="Decimal"), "inferred_type 'Decimal'"),
    ],
)
def test_bad_baselines_are_errors(change: Any, message: str) -> None:
    statistics = _json(FIXTURES / "sdk" / "statistics.json")
    constraints = _json(FIXTURES / "sdk" / "constraints.json")
    change(constraints)
    with pytest.raises(BaselineFileError, match=message):
        parse_baseline(statistics, constraints, "statistics.json", "constraints.json")


@pytest.mark.parametrize("engine", ["arrow", "pandas"])
def test_both_readers_keep_text_as_text(tmp_path: Path, engine: str) -> None:
    from dq_read import read_csv, string_value_counts

    source = tmp_path / "t.csv"
    source.write_text("ts,flag,x\n2024-01-02T03:04:05+02:00,True,1\n2024-01-03T03:04:05Z,false,2\n")
    table = read_csv(str(source), True, engine)
    assert sorted(string_value_counts(table.columns[0].strings)[0]) == [
        "2024-01-02T03:04:05+02:00",
        "2024-01-03T03:04:05Z",
    ]
    assert sorted(string_value_counts(table.columns[1].strings)[0]) == ["True", "false"]


def test_a_file_of_blank_lines_is_empty(tmp_path: Path) -> None:
    source = tmp_path / "blank.csv"
    source.write_text("\n\n\n")
    args = ["baseline", "--input", str(source), "--output", str(tmp_path / "out"), "--no-header"]
    assert dq.main(args) == 2
