"""A column numeric in one shard and text in another: the merge types it as one instance reads it (as text,
its numbers' categories as written), for baselines and checks, on both CSV engines."""

from __future__ import annotations

import json
from pathlib import Path

import data_quality as dq
import pytest
from dq_state import STATE_VERSION, DatasetState

from tests.unit.test_data_quality import load
from tests.unit.test_dq_shards import host_config, merge
from tests.unit.test_dq_streaming import assert_same_statistics

HEADER = "id,code,amount,size"
# Numbers as people write them ("007", "1.50", "2.0", "1e3", " -4", ".25"): one instance keeps that text
# as categories, and reads " 4" as an Integral number.
NUMERIC_ROWS = [
    f"{i},{c},{a},{s}"
    for i, (c, a, s) in enumerate(
        [("007", "1.50", "3"), ("12", "2.0", " 4"), ("12", "", "5"), ("1e3", "7", "6"), (" -4", ".25", "3")]
        * 40
    )
]
TEXT_ROWS = [
    f"{200 + i},{c},{a},{s}"
    for i, (c, a, s) in enumerate(
        [("x", "1.50", "3"), ("12", "Unknown", "4"), ("y", "2.5", ""), ("007", "8", "6")] * 30
    )
]
MORE_NUMBERS = [
    f"{400 + i},{c},{a},{s}"
    for i, (c, a, s) in enumerate([("5", "3.25", "7"), ("007", "1.50", "8"), ("", "9", "3")] * 50)
]


def write(path: Path, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path.parent


def shard_run(
    tmp_path: Path, shares: list[Path], name: str, engine: str, baseline: Path | None = None
) -> Path:
    partials = tmp_path / f"{name}-partials"
    for index, share in enumerate(shares):
        common = {
            "header": True,
            "partial_output": str(partials),
            "resource_config": host_config(tmp_path, f"algo-{index + 1}"),
            "engine": engine,
        }
        if baseline is None:
            dq.run_baseline(str(share), "", **common)  # type: ignore[arg-type]
        else:
            dq.run_check(str(share), str(baseline), str(baseline), "", **common)  # type: ignore[arg-type]
    return partials


def one_run(
    tmp_path: Path, parts: list[list[str]], name: str, engine: str, baseline: Path | None = None
) -> Path:
    folder = tmp_path / f"{name}-all"
    for index, rows in enumerate(parts):
        write(folder / f"part-{index}.csv", rows)
    out = tmp_path / f"{name}-one"
    common = {"header": True, "report": False, "engine": engine}
    if baseline is None:
        dq.run_baseline(str(folder), str(out), **common)  # type: ignore[arg-type]
    else:
        dq.run_check(str(folder), str(baseline), str(baseline), str(out), **common)  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("engine", ["arrow", "pandas"])
@pytest.mark.parametrize(
    "parts",
    [[NUMERIC_ROWS, TEXT_ROWS], [TEXT_ROWS, NUMERIC_ROWS], [NUMERIC_ROWS, TEXT_ROWS, MORE_NUMBERS]],
    ids=["numbers-then-text", "text-then-numbers", "three-shards"],
)
def test_numbers_in_one_shard_and_text_in_another_merge_as_one_instance(
    tmp_path: Path, engine: str, parts: list[list[str]]
) -> None:
    shares = [write(tmp_path / f"share-{i}" / "part.csv", rows) for i, rows in enumerate(parts)]
    assert merge(shard_run(tmp_path, shares, "base", engine), tmp_path / "merged") == 0
    one = one_run(tmp_path, parts, "base", engine)
    merged = load(tmp_path / "merged", "statistics.json")
    types = {f["name"]: f["inferred_type"] for f in merged["features"]}
    assert types == {"id": "Integral", "code": "String", "amount": "String", "size": "Integral"}
    assert_same_statistics(merged, load(one, "statistics.json"))  # string statistics: exactly equal
    code = next(f for f in merged["features"] if f["name"] == "code")["string_statistics"]
    buckets = {b["value"]: b["count"] for b in code["distribution"]["categorical"]["buckets"]}
    assert buckets["007"] == sum(rows.count(r) for rows in parts for r in rows if ",007," in r) > 0
    assert "7" not in buckets and buckets["1e3"] == 40  # as written, not as the number read
    assert load(tmp_path / "merged", "constraints.json") == load(one, "constraints.json")

    # A check against that baseline, sharded with the text in another shard than in the baseline.
    check_parts = [MORE_NUMBERS, TEXT_ROWS[:40], NUMERIC_ROWS[:60]]
    check_shares = [write(tmp_path / f"cur-{i}" / "part.csv", rows) for i, rows in enumerate(check_parts)]
    partials = shard_run(tmp_path, check_shares, "check", engine, one)
    assert merge(partials, tmp_path / "merged-check", one) == 0
    single = one_run(tmp_path, check_parts, "check", engine, one)
    for name in ("constraint_violations.json", "summary.json", "drift_metrics.json"):
        assert load(tmp_path / "merged-check", name) == load(single, name), name
    violations = load(single, "constraint_violations.json")["violations"]
    found = {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    assert {("code", "data_type_check"), ("amount", "data_type_check")} <= found  # numbers vs String
    assert_same_statistics(
        load(tmp_path / "merged-check", "statistics.json"), load(single, "statistics.json")
    )


def test_a_numeric_shard_state_without_its_text_still_names_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shares = [write(tmp_path / "s1" / "p.csv", NUMERIC_ROWS), write(tmp_path / "s2" / "p.csv", TEXT_ROWS)]
    partials = shard_run(tmp_path, shares, "old", "arrow")
    path = partials / "algo-1" / dq.PARTIAL_FILE
    document = json.loads(path.read_text())
    for column in document["state"]["columns"]:
        column["text_kept"] = False  # as a state read from numbers alone
    path.write_text(json.dumps(document))
    assert merge(partials, tmp_path / "merged") == 2
    error = capsys.readouterr().err
    assert "columns amount, code are numbers in one shard and text in another" in error
    state = DatasetState.from_dict(document["state"])
    assert not state.columns[1].text_kept


@pytest.mark.parametrize("version", [1, 99, None])
def test_a_partial_state_of_another_version_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: int | None
) -> None:
    partials = shard_run(tmp_path, [write(tmp_path / "s1" / "p.csv", NUMERIC_ROWS)], "v", "arrow")
    path = partials / "algo-1" / dq.PARTIAL_FILE
    document = json.loads(path.read_text())
    assert document["version"] == STATE_VERSION == 2
    document["version"] = version
    path.write_text(json.dumps(document))
    assert merge(partials, tmp_path / "merged") == 2
    error = capsys.readouterr().err
    assert f"a partial state of version {version!r}; this data_quality.py reads version 2" in error
    assert "re-run the shards" in error and not (tmp_path / "merged").exists()
