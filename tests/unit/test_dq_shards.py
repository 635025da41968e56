"""Sharded data quality at its edges: empty shares, a column typed differently across shards, bounded
category counts. The outputs of the merge are those one instance writes on all the data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import data_quality as dq
import pandas as pd
import pytest

from tests.unit.test_data_quality import abalone_frame, load, write_csv
from tests.unit.test_dq_streaming import assert_same_statistics


def host_config(tmp_path: Path, host: str) -> str:
    path = tmp_path / f"resourceconfig-{host}.json"
    path.write_text(json.dumps({"current_host": host, "hosts": ["algo-1", "algo-2", "algo-3"]}))
    return str(path)


def run_shards(
    tmp_path: Path, shares: list[Path], name: str, baseline: Path | None = None, header: bool = True
) -> Path:
    """Each share on its own host with --partial-output; returns the partials folder."""
    partials = tmp_path / f"{name}-partials"
    for index, share in enumerate(shares):
        config = host_config(tmp_path, f"algo-{index + 1}")
        common = {"header": header, "partial_output": str(partials), "resource_config": config}
        if baseline is None:
            dq.run_baseline(str(share), "", **common)  # type: ignore[arg-type]
        else:
            dq.run_check(str(share), str(baseline), str(baseline), "", **common)  # type: ignore[arg-type]
    return partials


def merge(partials: Path, out: Path, baseline: Path | None = None) -> int:
    extra = [] if baseline is None else ["--baseline-statistics", str(baseline)]
    extra += [] if baseline is None else ["--baseline-constraints", str(baseline)]
    return dq.main(["merge", "--input", str(partials), "--output", str(out), "--no-report", *extra])


def one_instance(data: pd.DataFrame, tmp_path: Path, name: str, baseline: Path | None = None) -> Path:
    source = write_csv(data, tmp_path / f"{name}.csv")
    out = tmp_path / f"{name}-one"
    if baseline is None:
        dq.run_baseline(str(source), str(out), header=True, report=False)
    else:
        dq.run_check(str(source), str(baseline), str(baseline), str(out), header=True, report=False)
    return out


# --- empty shares: SageMaker gives an instance no object when there are fewer objects than instances ---


def test_instances_with_an_empty_share_add_nothing(tmp_path: Path) -> None:
    data = abalone_frame(3000)
    whole = tmp_path / "share-1"
    write_csv(data, whole / "data-quality-input.csv")
    empty = tmp_path / "share-2"
    empty.mkdir()
    header_only = tmp_path / "share-3"
    write_csv(data.iloc[:0], header_only / "part-9.csv")
    shares = [empty, whole, header_only]
    partials = run_shards(tmp_path, shares, "baseline")
    assert sorted(p.name for p in partials.iterdir()) == ["algo-1", "algo-2", "algo-3"]
    assert merge(partials, tmp_path / "merged") == 0
    one = one_instance(data, tmp_path, "baseline")
    for name in ("statistics.json", "constraints.json"):
        assert load(tmp_path / "merged", name) == load(one, name)  # one share holds everything: exact
    # The check, sharded the same way (one instance has the whole batch, two have nothing).
    batch = abalone_frame(2000, seed=5)
    batch["rings"] = batch["rings"] + 4
    write_csv(batch, tmp_path / "cur-1" / "data-quality-input.csv")
    (tmp_path / "cur-2").mkdir()
    check_partials = run_shards(tmp_path, [tmp_path / "cur-1", tmp_path / "cur-2"], "check", one)
    assert merge(check_partials, tmp_path / "merged-check", one) == 0
    single = one_instance(batch, tmp_path, "check", one)
    for name in ("constraint_violations.json", "statistics.json", "drift_metrics.json", "summary.json"):
        assert load(tmp_path / "merged-check", name) == load(single, name)
    assert load(single, "constraint_violations.json")["violations"]  # the drift is found


def test_a_missing_share_folder_is_an_empty_share(tmp_path: Path) -> None:
    partials = run_shards(tmp_path, [tmp_path / "absent"], "baseline")
    document = json.loads((partials / "algo-1" / dq.PARTIAL_FILE).read_text())
    assert document["state"]["n_rows"] == 0 and document["state"]["columns"] == []


def test_when_every_share_is_empty_the_merge_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a").mkdir()
    write_csv(abalone_frame(10).iloc[:0], tmp_path / "b" / "part.csv")
    partials = run_shards(tmp_path, [tmp_path / "a", tmp_path / "b"], "baseline")
    assert merge(partials, tmp_path / "merged") == 2
    assert "no shard had data rows" in capsys.readouterr().err
    assert not (tmp_path / "merged").exists()


def test_one_instance_still_refuses_an_empty_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    code = dq.main(["baseline", "--input", str(tmp_path / "empty"), "--output", str(tmp_path / "o")])
    assert code == 2 and "no CSV part" in capsys.readouterr().err


def statistics_of(directory: Path) -> dict[str, Any]:
    return dict(load(directory, "statistics.json"))


def test_parts_over_shards_equal_one_instance_within_sketch_error(tmp_path: Path) -> None:
    data = abalone_frame(12000, seed=2)
    shares = []
    for index in range(3):
        share = tmp_path / f"parts-{index}"
        for part in range(2):
            rows = data.iloc[(index * 2 + part) * 2000 : (index * 2 + part + 1) * 2000]
            write_csv(rows, share / f"part-{index * 2 + part}.csv")
        shares.append(share)
    assert merge(run_shards(tmp_path, shares, "parts"), tmp_path / "merged") == 0
    one = one_instance(data, tmp_path, "parts")
    assert_same_statistics(statistics_of(tmp_path / "merged"), statistics_of(one))
    assert load(tmp_path / "merged", "constraints.json") == load(one, "constraints.json")


# --- a column typed differently across shards ---------------------------------------------------------


def test_integral_in_one_shard_and_fractional_in_another_merge_as_one_instance_infers(tmp_path: Path) -> None:
    whole = pd.DataFrame({"rings": [7, 9, 11, 8] * 250, "weight": [1, 2, 3, 4] * 250})
    fractional = pd.DataFrame({"rings": [7, 9, 10, 8] * 250, "weight": [1.5, 2.25, 3.0, 0.5] * 250})
    shares = [
        write_csv(whole, tmp_path / "s1" / "p.csv").parent,
        write_csv(fractional, tmp_path / "s2" / "p.csv").parent,
    ]
    assert merge(run_shards(tmp_path, shares, "mixed"), tmp_path / "merged") == 0
    one = one_instance(pd.concat([whole, fractional], ignore_index=True), tmp_path, "mixed")
    merged = statistics_of(tmp_path / "merged")
    types = {f["name"]: f["inferred_type"] for f in merged["features"]}
    assert types == {"rings": "Integral", "weight": "Fractional"}
    assert_same_statistics(merged, statistics_of(one))
    assert load(tmp_path / "merged", "constraints.json") == load(one, "constraints.json")
    # The check of a batch typed the other way round in its shards: the same violations as one instance.
    check_partials = run_shards(tmp_path, [shares[1], shares[0]], "mixed-check", one)
    assert merge(check_partials, tmp_path / "merged-check", one) == 0
    batch = one_instance(pd.concat([fractional, whole], ignore_index=True), tmp_path, "batch", one)
    violations = load(tmp_path / "merged-check", "constraint_violations.json")
    assert violations == load(batch, "constraint_violations.json")
