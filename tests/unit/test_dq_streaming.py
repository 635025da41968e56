"""Streaming, parts and shards: the data-quality outputs do not depend on how the data arrives."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import data_quality as dq
import numpy as np
import pandas as pd
import pytest
from dq_baseline import build_baseline
from dq_chunks import read_state
from dq_errors import InputDataError
from dq_read import read_csv

from tests.unit.test_data_quality import abalone_frame, load, write_csv

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def frame(n: int = 6000, seed: int = 0) -> pd.DataFrame:
    data = abalone_frame(n, seed)
    data["note"] = ["1"] * (n - 3) + ["x", "2", "y"]  # numbers first, text only at the end: a String column
    return data


def assert_same_statistics(one: dict[str, Any], two: dict[str, Any]) -> None:
    """Counts, min, max exact; sums and means to rounding; quantile-derived values within sketch error."""
    assert one["dataset"] == two["dataset"]
    for a, b in zip(one["features"], two["features"], strict=True):
        assert (a["name"], a["inferred_type"]) == (b["name"], b["inferred_type"])
        if "numerical_statistics" in a:
            x, y = a["numerical_statistics"], b["numerical_statistics"]
            assert x["common"] == y["common"]
            assert (x["min"], x["max"]) == (y["min"], y["max"])
            for key in ("mean", "sum", "std_dev"):
                assert x[key] == pytest.approx(y[key], rel=1e-9, abs=1e-12)
            n = x["common"]["num_present"]
            for p, q in zip(
                x["distribution"]["kll"]["buckets"], y["distribution"]["kll"]["buckets"], strict=True
            ):
                assert abs(p["count"] - q["count"]) <= 0.02 * n
        else:
            assert a["string_statistics"] == b["string_statistics"]


@pytest.mark.parametrize("engine", ["arrow", "pandas"])
@pytest.mark.parametrize("block", [4 << 10, 37 << 10, 1 << 20])
def test_streaming_equals_in_memory(tmp_path: Path, engine: str, block: int) -> None:
    source = write_csv(frame(), tmp_path / "in.csv")
    whole, whole_constraints, _ = build_baseline(read_csv(str(source), True, engine))
    streamed, constraints, _ = build_baseline(read_state(str(source), True, engine, block_bytes=block))
    assert_same_statistics(streamed, whole)
    assert constraints == whole_constraints
    assert [f["inferred_type"] for f in streamed["features"]][-1] == "String"


def test_both_readers_agree_when_streaming(tmp_path: Path) -> None:
    source = write_csv(frame(), tmp_path / "in.csv")
    arrow = build_baseline(read_state(str(source), True, "arrow", block_bytes=8 << 10))
    pandas = build_baseline(read_state(str(source), True, "pandas", block_bytes=8 << 10))
    assert_same_statistics(arrow[0], pandas[0])
    assert arrow[1] == pandas[1]


def write_parts(data: pd.DataFrame, folder: Path, count: int, gz: tuple[int, ...] = ()) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, part in enumerate(np.array_split(np.arange(len(data)), count)):
        text = data.iloc[part].to_csv(index=False)
        path = folder / f"part-{index:03d}.csv"
        if index in gz:
            path = path.with_suffix(".csv.gz")
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        paths.append(path)
    return paths


@pytest.mark.parametrize("engine", ["arrow", "pandas"])
def test_a_directory_of_parts_with_gzip_is_one_data_set(tmp_path: Path, engine: str) -> None:
    data = frame()
    write_parts(data, tmp_path / "parts", 5, gz=(1, 3))
    (tmp_path / "parts" / "empty.csv").write_text("")
    single = write_csv(data, tmp_path / "one.csv")
    parts = build_baseline(read_state(str(tmp_path / "parts"), True, engine, block_bytes=16 << 10))
    whole = build_baseline(read_csv(str(single), True, engine))
    assert_same_statistics(parts[0], whole[0])
    assert parts[1] == whole[1]


def test_a_part_with_other_columns_is_named(tmp_path: Path) -> None:
    paths = write_parts(frame(300), tmp_path / "parts", 3)
    paths[2].write_text("a,b\n1,2\n")
    with pytest.raises(InputDataError) as error:
        read_state(str(tmp_path / "parts"), True)
    assert error.value.file == str(paths[2]) and "2 columns where part-000.csv has 10" in str(error.value)


def shard_runs(tmp_path: Path, data: pd.DataFrame, shards: int) -> Path:
    parts = write_parts(data, tmp_path / "all", 6, gz=(2,))
    partial = tmp_path / f"partial{shards}"
    for shard in range(shards):
        folder = tmp_path / f"shard{shards}-{shard}"
        folder.mkdir()
        for path in parts[shard::shards]:
            (folder / path.name).write_bytes(path.read_bytes())
        config = tmp_path / f"resourceconfig{shards}-{shard}.json"
        config.write_text(json.dumps({"current_host": f"algo-{shard + 1}"}))
        dq.run_baseline(
            str(folder),
            "",
            header=True,
            partial_output=str(partial),
            block_bytes=16 << 10,
            resource_config=str(config),
        )
    assert sorted(p.name for p in partial.iterdir()) == [f"algo-{i + 1}" for i in range(shards)]
    return partial


@pytest.mark.parametrize("shards", [2, 3])
def test_sharded_baseline_and_check_equal_one_instance(tmp_path: Path, shards: int) -> None:
    data = abalone_frame(9000)  # (a column of numbers in one shard and text in another is an error)
    single = write_csv(data, tmp_path / "one.csv")
    dq.run_baseline(str(single), str(tmp_path / "one"), header=True, report=False)
    partial = shard_runs(tmp_path, data, shards)
    assert dq.main(["merge", "--input", str(partial), "--output", str(tmp_path / "merged")]) == 0
    assert_same_statistics(
        load(tmp_path / "merged", "statistics.json"), load(tmp_path / "one", "statistics.json")
    )
    assert load(tmp_path / "merged", "constraints.json") == load(tmp_path / "one", "constraints.json")
    # The check of drifted data, sharded the same way.
    drifted = abalone_frame(9000, seed=3)
    drifted["rings"] = drifted["rings"] + 3
    write_parts(drifted, tmp_path / "cur", shards)
    baseline = str(tmp_path / "one")
    for shard in range(shards):
        config = str(tmp_path / f"resourceconfig{shards}-{shard}.json")
        folder = tmp_path / "cur" / f"part-{shard:03d}.csv"
        dq.run_check(
            str(folder),
            baseline,
            baseline,
            "",
            header=True,
            partial_output=str(tmp_path / "cp"),
            resource_config=config,
        )
    args = ["--baseline-statistics", baseline, "--baseline-constraints", baseline]
    assert dq.main(["merge", "--input", str(tmp_path / "cp"), "--output", str(tmp_path / "mc"), *args]) == 0
    dq.run_check(str(tmp_path / "cur"), baseline, baseline, str(tmp_path / "sc"), header=True, report=False)
    merged, one = load(tmp_path / "mc", "drift_metrics.json"), load(tmp_path / "sc", "drift_metrics.json")
    for a, b in zip(merged["metrics"], one["metrics"], strict=True):
        assert a["feature_name"] == b["feature_name"] and a["violation"] == b["violation"]
        assert a["value"] == pytest.approx(b["value"], abs=0.01)
    kinds = [
        [
            (v["feature_name"], v["constraint_check_type"])
            for v in load(folder, "constraint_violations.json")["violations"]
        ]
        for folder in (tmp_path / "mc", tmp_path / "sc")
    ]
    assert kinds[0] == kinds[1]  # (drift values in the sentences: within sketch error)
    assert "rings" in load(tmp_path / "mc", "summary.json")["drifted_features"]


PEAK = """
import sys, tracemalloc
sys.path.insert(0, {scripts!r})
from dq_chunks import read_state
from dq_baseline import build_baseline
tracemalloc.start()
build_baseline(read_state({path!r}, True, {engine!r}, block_bytes=64 << 10))
print(tracemalloc.get_traced_memory()[1])
"""


@pytest.mark.parametrize("engine", ["arrow", "pandas"])
def test_peak_memory_does_not_grow_with_rows(tmp_path: Path, engine: str) -> None:
    peaks = []
    for rows in (20_000, 100_000):
        source = write_csv(abalone_frame(rows), tmp_path / f"{rows}.csv")
        code = PEAK.format(scripts=str(SCRIPTS), path=str(source), engine=engine)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        peaks.append(int(done.stdout.strip()))
    assert peaks[1] < 1.5 * peaks[0], peaks  # five times the rows
