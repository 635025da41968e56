"""Bounded category counts (dq_counts): exact up to the capacity; beyond it, Misra-Gries heavy hitters
(each count at most N / (capacity + 1) below the truth) and a HyperLogLog distinct count (standard error
0.81%), with a state whose size does not grow with rows or distinct values, and shards that merge."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import dq_counts
import numpy as np
import pyarrow as pa
import pytest
from dq_baseline import build_baseline
from dq_check import check_table, prepare_check
from dq_chunks import read_state
from dq_counts import CAPACITY, Counts, HyperLogLog, hash_strings, hash_utf8
from dq_profile import NumberStats
from dq_read import Column
from dq_state import ColumnState

DISTINCT = 2_000_000
HEAVY = {f"hot-{i}": 40_000 - 3_000 * i for i in range(10)}  # ten heavy hitters among 2M singletons


def stream() -> list[tuple[list[str], list[int]]]:
    """2M distinct ids (once each) and the heavy hitters, in chunks of distinct values and counts."""
    chunks = []
    for start in range(0, DISTINCT, 250_000):
        values = [f"id-{i}" for i in range(start, start + 250_000)] + list(HEAVY)
        counts = [1] * 250_000 + [c // 8 for c in HEAVY.values()]
        chunks.append((values, counts))
    return chunks


def within_bounds(counts: Counts, truth: dict[str, int]) -> None:
    """Misra-Gries: truth - error <= kept <= truth; error <= N / (capacity + 1); heavier than error: kept."""
    assert counts.error <= counts.total / (counts.capacity + 1)
    for value, true in truth.items():
        kept = counts.counts.get(value, 0)
        assert true - counts.error <= kept <= true, value
        if true > counts.error:
            assert kept > 0, value


def test_exact_below_the_capacity() -> None:
    counts = Counts()
    truth: Counter[str] = Counter()
    rng = np.random.default_rng(0)
    for _ in range(5):
        values = [f"v{i}" for i in rng.choice(CAPACITY, 3000, replace=False)]
        numbers = rng.integers(1, 50, len(values)).tolist()
        counts.add(values, numbers)
        truth.update(dict(zip(values, numbers, strict=True)))
    assert counts.exact and counts.error == 0 and counts.counts == dict(truth)
    assert counts.distinct() == len(truth) and counts.total == sum(truth.values())
    assert counts.ordered()[0] == min(truth.items(), key=lambda kv: (-kv[1], kv[0]))


def test_two_million_distinct_values_stay_bounded_with_stated_error() -> None:
    counts = Counts()
    for values, numbers in stream():
        counts.add(values, numbers)
    truth = {value: (count // 8) * 8 for value, count in HEAVY.items()}
    assert not counts.exact and len(counts) <= CAPACITY
    within_bounds(counts, truth)
    ordered = [value for value, _ in counts.ordered()[:10]]
    assert ordered == list(HEAVY)  # the heavy hitters, in their order
    true_distinct = DISTINCT + len(HEAVY)
    assert abs(counts.distinct() - true_distinct) <= 0.03 * true_distinct  # ~3.7 standard errors
    size = len(json.dumps(counts.to_dict()))
    assert size < 400_000  # counters (<= 10,000) + 16 KiB of registers, whatever the rows


def test_shards_merge_to_the_one_instance_summary_within_error() -> None:
    chunks = stream()
    one = Counts()
    for values, numbers in chunks:
        one.add(values, numbers)
    shards = [Counts() for _ in range(3)]
    for index, (values, numbers) in enumerate(chunks):
        shards[index % 3].add(values, numbers)
    shards = [Counts.from_dict(json.loads(json.dumps(s.to_dict()))) for s in shards]  # via the partial file
    merged = shards[0].merge(shards[1]).merge(shards[2])
    assert merged.total == one.total and len(merged) <= CAPACITY
    within_bounds(merged, {value: (count // 8) * 8 for value, count in HEAVY.items()})
    assert merged.hll is not None and one.hll is not None
    assert np.array_equal(merged.hll.registers, one.hll.registers)  # a union: the same sketch
    assert merged.distinct() == one.distinct()


def test_exact_shards_stay_exact_when_their_union_fits() -> None:
    left, right = Counts(), Counts()
    left.add(["a", "b"], [3, 1])
    right.add(["b", "c"], [2, 5])
    merged = left.merge(right)
    assert merged.exact and merged.counts == {"a": 3, "b": 3, "c": 5} and merged.distinct() == 3


def test_an_exact_shard_merges_into_a_sketched_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dq_counts, "CAPACITY", 100)
    big, small = Counts(), Counts()
    big.add([f"x{i}" for i in range(1000)], [1] * 1000)
    small.add(["x1", "y"], [500, 7])
    merged = big.merge(small)
    assert merged.capacity == 100 and len(merged) <= 100
    within_bounds(merged, {"x1": 501, "y": 7})
    assert merged.ordered()[0][0] == "x1"
    assert abs(merged.distinct() - 1001) <= 30


def test_the_hash_is_the_same_for_python_and_arrow_strings() -> None:
    values = ["", "a", "héllo", "12.50", "x" * 300, "日本"]
    array = pa.array(values, type=pa.string())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32, count=len(values) + 1).astype(np.int64)
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)
    assert np.array_equal(hash_strings(values), hash_utf8(data, offsets))
    assert len(set(hash_strings(values).tolist())) == len(values)


def test_hyperloglog_is_exact_enough_when_small_and_round_trips() -> None:
    sketch = HyperLogLog()
    sketch.add_hashes(hash_strings([f"k{i}" for i in range(500)]))
    assert abs(sketch.estimate() - 500) <= 5  # linear counting
    assert np.array_equal(HyperLogLog.from_text(sketch.to_text()).registers, sketch.registers)


def test_a_column_of_two_million_ids_has_a_bounded_state_and_exact_types() -> None:
    """ColumnState over Arrow chunks: type inference and completeness stay exact past the capacity."""
    state = ColumnState("user")
    for start in range(0, DISTINCT, 500_000):
        values = [f"u{i}" for i in range(start, start + 500_000)]
        values += ["42"] * 1000 + [None] * 500  # numbers among the text, and missing values
        state.add(Column("user", None, False, pa.chunked_array([pa.array(values)])), len(values), "f", 2)
    rows = DISTINCT + 4 * 1500
    assert state.rows == rows and state.missing == 2000 and state.kinds == [4000, 0, DISTINCT]
    assert len(state.categories) <= CAPACITY
    assert len(json.dumps(state.to_dict())) < 400_000
    profile = ColumnState.from_dict(json.loads(json.dumps(state.to_dict()))).profile()
    assert profile.inferred_type == "String" and profile.num_present == rows - 2000
    assert profile.n_string == DISTINCT and profile.n_integral == 4000
    assert profile.categories[0] == "42" and profile.category_counts[0] >= 4000 - state.categories.error
    assert abs(profile.distinct() - (DISTINCT + 1)) <= 0.03 * DISTINCT


def test_a_high_cardinality_baseline_sharded_equals_one_instance_within_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end with a small capacity: statistics.json's buckets and distinct count within error."""
    monkeypatch.setattr(dq_counts, "CAPACITY", 500)
    rng = np.random.default_rng(3)
    n = 40_000
    ids = [f"s{i}" if i % 4 else f"hot{i % 7}" for i in rng.permutation(n)]
    lines = ["session,value"] + [f"{s},{v}" for s, v in zip(ids, rng.integers(0, 9, n).tolist(), strict=True)]
    shares = []
    for index in range(3):
        share = tmp_path / f"share-{index}"
        share.mkdir()
        part = lines[1 + index * (n // 3) : 1 + (index + 1) * (n // 3) if index < 2 else None]
        (share / "part.csv").write_text("\n".join([lines[0], *part]) + "\n")
        shares.append(share)
    states = [read_state(str(s), True, "arrow", shard=True) for s in shares]
    merged = states[0].merge(states[1]).merge(states[2])
    one = read_state(str(tmp_path), True, "arrow")
    truth = Counter(ids)
    distinct = []
    for state in (merged, one):
        statistics, constraints, _ = build_baseline(state)
        feature = statistics["features"][0]
        assert feature["inferred_type"] == "String"
        strings = feature["string_statistics"]
        assert strings["common"] == {"num_present": n, "num_missing": 0}
        error = state.columns[0].categories.error
        assert 0 < error <= n / 501
        for bucket in strings["distribution"]["categorical"]["buckets"]:
            assert truth[bucket["value"]] - error <= bucket["count"] <= truth[bucket["value"]]
        assert {b["value"] for b in strings["distribution"]["categorical"]["buckets"][:7]} == {
            f"hot{i}" for i in range(7)
        }
        assert abs(strings["distinct_count"] - len(truth)) <= 0.03 * len(truth)
        distinct.append(strings["distinct_count"])
        assert "string_constraints" not in constraints["features"][0]  # far too many values for a domain
    assert distinct[0] == distinct[1]  # the shards' HyperLogLogs merge into the one instance's


def _check_drift(tmp_path: Path, baseline: tuple[dict, dict], current: Path) -> tuple[dict, list, int]:
    """The check's categorical drift metric for ``code``, its violations, and the counts' error."""
    statistics, constraints = baseline
    prepared = prepare_check(statistics, constraints)
    state = read_state(str(current), True, "arrow", needs=prepared[2])
    outcome = check_table(state, statistics, constraints, prepared=prepared)
    metric = next(m for m in outcome.drift_metrics["metrics"] if m["feature_name"] == "code")
    return metric, outcome.violations, state.columns[0].categories.error


def test_the_check_past_the_capacity_is_within_the_stated_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Categorical drift is an L-infinity distance of frequencies: off by at most error / N."""
    rng = np.random.default_rng(5)
    codes = [f"c{i}" for i in range(40)]
    (tmp_path / "base.csv").write_text("code\n" + "\n".join(rng.choice(codes, 5000).tolist()) + "\n")
    weights = np.linspace(2, 1, 40) / np.linspace(2, 1, 40).sum()
    current = rng.choice(codes, 12_000, p=weights).tolist() + [f"new-{i}" for i in range(8000)]
    (tmp_path / "cur.csv").write_text("code\n" + "\n".join(current) + "\n")
    statistics, constraints, _ = build_baseline(read_state(str(tmp_path / "base.csv"), True, "arrow"))
    exact, exact_violations, exact_error = _check_drift(
        tmp_path, (statistics, constraints), tmp_path / "cur.csv"
    )
    monkeypatch.setattr(dq_counts, "CAPACITY", 200)
    approx, violations, error = _check_drift(tmp_path, (statistics, constraints), tmp_path / "cur.csv")
    assert exact_error == 0 and 0 < error <= 20_000 / 201
    assert abs(approx["raw_distance"] - exact["raw_distance"]) <= error / 20_000
    assert approx["raw_distance"] != exact["raw_distance"]  # the sketch did change something
    assert [v["constraint_check_type"] for v in violations] == [
        v["constraint_check_type"] for v in exact_violations
    ]


def test_numbers_counted_as_text_for_a_string_baseline_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check reading numbers where the baseline has a String: their text counts are bounded too."""
    monkeypatch.setattr(dq_counts, "CAPACITY", 100)
    stats = NumberStats()
    for start in range(0, 50_000, 10_000):
        values = np.concatenate([np.arange(start, start + 10_000) + 0.5, np.full(3000, 7.0)])
        stats.add(values, False, as_text=True)
    merged = NumberStats.from_dict(json.loads(json.dumps(stats.to_dict()))).merge(NumberStats())
    assert merged.value_counts is not None and len(merged.value_counts) <= 100
    labels, counts = merged.summary().as_text()
    assert labels[0] == "7" and 15_000 - merged.value_counts.error <= counts[0] <= 15_000
