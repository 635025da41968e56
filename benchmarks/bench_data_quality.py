"""Benchmark of scripts/data_quality.py on generated abalone-like data (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_data_quality.py                 # 1M rows
    .venv/bin/python benchmarks/bench_data_quality.py --ten-million   # and 10M rows (≈1.1 GB of CSV)

For each size it prints, from one run:

- end to end: wall time and peak memory (the child's max RSS) of the exact commands the pipeline runs,
  ``data_quality.py baseline … --header`` and ``data_quality.py check … --header`` (reports included);
- compute vs a numpy floor, measured in one process on the same arrays: the floor is
  count/missing/mean/std/min/max/10-bin histogram per numeric column; "compute" is the whole
  ``build_baseline`` / ``check_table`` (numeric and string columns, constraints, drift, documents).

Targets (issues 3 and 14, 2-core machine): 1M rows ≤ 1 s end to end for each of baseline and check;
100M rows (``--rows 100000000`` or ``DQ_BENCH_ROWS=100000000``, ≈5.5 GB of CSV each, generated once) ≤ 90 s
and ≤ 1 GB peak (streamed: memory does not grow with rows); compute ≤ 3x the numpy floor (above 10M
rows the floor is a streamed read-and-sum of the same file, against the end-to-end time). Generated
files are cached in --work-dir.
whylogs / evidently are timed too when they happen to be installed (they are not dependencies).

Side by side with Evidently (not a dependency: it needs pandas < 3), in a separate interpreter::

    python3 -m venv /tmp/evvenv && /tmp/evvenv/bin/pip install evidently 'pandas<3'
    .venv/bin/python benchmarks/bench_data_quality.py --evidently-python /tmp/evvenv/bin/python

times Evidently's ``DataDriftPreset`` report (reference = the baseline file, current = the check file;
pandas reads the CSVs) against this engine's baseline + check on the same files, and prints which
columns each calls drifted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "data_quality.py"
sys.path.insert(0, str(ROOT / "scripts"))

from dq_baseline import build_baseline  # noqa: E402
from dq_check import check_table  # noqa: E402
from dq_read import pa, read_csv  # noqa: E402

COLUMNS = ["sex", "length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight"]
COLUMNS += ["shell_weight"]  # abalone's features (data/dataset.yaml)
TARGETS = {1_000_000: (1.0, None), 10_000_000: (8.0, 1024.0), 100_000_000: (90.0, 1024.0)}  # seconds, MB
IN_MEMORY_LIMIT = 10_000_000  # above this, the floor is a streamed read-and-sum (the data does not fit)
CHUNK = 1_000_000


# ----------------------------------------------------------------------------------------------- data


def _source_rows() -> dict[str, np.ndarray]:
    """The real abalone rows when the repository has them, else a synthetic stand-in of the same shape."""
    sample = ROOT / "data" / "abalone.csv"
    if sample.is_file():
        table = read_csv(str(sample), True)
        out: dict[str, np.ndarray] = {}
        for column in table.columns:
            if column.numbers is not None:
                out[column.name] = column.numbers
            else:
                out[column.name] = np.array(
                    column.strings.to_pylist() if hasattr(column.strings, "to_pylist") else column.strings
                )
        return out
    rng = np.random.default_rng(0)
    n = 4177
    length = np.clip(rng.normal(0.52, 0.12, n), 0.08, 0.82)
    return {
        "sex": rng.choice(np.array(["M", "F", "I"]), n),
        "length": length,
        "diameter": length * 0.8,
        "height": length * 0.27,
        "whole_weight": length**3 * 5,
        "shucked_weight": length**3 * 2.2,
        "viscera_weight": length**3 * 1.1,
        "shell_weight": length**3 * 1.4,
        "rings": np.clip(np.round(rng.gamma(6.0, 1.65, n)), 1, 29),
    }


def generate(path: Path, rows: int, seed: int, shift_sd: float = 0.0) -> Path:
    """Resampled abalone rows with 2% multiplicative noise; ``shift_sd`` moves ``length`` by that many sd."""
    if path.is_file():
        return path
    source = _source_rows()
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".partial")
    length_sd = float(np.std(source["length"]))
    names = [*COLUMNS, "rings"]
    writer: Any = None
    with open(tmp, "wb") as fh:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            pick = rng.integers(0, len(source["rings"]), n)
            columns: dict[str, np.ndarray] = {"sex": source["sex"][pick].astype(str)}
            for name in COLUMNS[1:]:
                values = source[name][pick] * (1.0 + rng.normal(0.0, 0.02, n))
                columns[name] = np.round(values + (shift_sd * length_sd if name == "length" else 0.0), 4)
            columns["rings"] = source["rings"][pick].astype(np.int64)
            if pa is not None:  # fast path
                import pyarrow.csv as pacsv

                batch = pa.table({name: columns[name] for name in names})
                if writer is None:
                    options = pacsv.WriteOptions(quoting_style="needed")
                    writer = pacsv.CSVWriter(fh, batch.schema, write_options=options)
                writer.write_table(batch)
            else:
                import pandas as pd

                pd.DataFrame(columns)[names].to_csv(fh, index=False, header=start == 0)
        if writer is not None:
            writer.close()
    tmp.replace(path)
    return path


# -------------------------------------------------------------------------------------------- running


def run_cli(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of one data_quality.py run in a fresh interpreter."""
    start = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603  (this interpreter and the repo's own script, no shell)
        [sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"data_quality.py {' '.join(args)} exited {code}: {err}")
    return wall, usage.ru_maxrss / 1024.0, out.strip()


def numpy_floor(arrays: list[np.ndarray]) -> None:
    for values in arrays:
        missing = np.isnan(values)
        present = values[~missing] if missing.any() else values
        _ = (present.size, int(missing.sum()), present.mean(), present.std(), present.min(), present.max())
        np.histogram(present, bins=10)


def best_of(repeat: int, action: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def compute_ratios(train: Path, current: Path, repeat: int) -> dict[str, float]:
    """Compute time of baseline and check vs the numpy floor, same process, same arrays."""
    base_table = read_csv(str(train), True)
    cur_table = read_csv(str(current), True)
    base_arrays = [c.numbers for c in base_table.columns if c.numbers is not None]
    cur_arrays = [c.numbers for c in cur_table.columns if c.numbers is not None]
    floor_base, _ = best_of(repeat, lambda: numpy_floor(base_arrays))
    floor_cur, _ = best_of(repeat, lambda: numpy_floor(cur_arrays))
    baseline_s, built = best_of(repeat, lambda: build_baseline(base_table))
    statistics = json.loads(json.dumps(built[0]))  # as the check reads it from disk
    check_s, _ = best_of(repeat, lambda: check_table(cur_table, statistics, built[1]))
    return {"floor_baseline": floor_base, "baseline": baseline_s, "floor_check": floor_cur, "check": check_s}


def streamed_floor(path: Path) -> float:
    """Seconds to read the CSV block by block and sum every numeric column (numpy on pyarrow's buffers)."""
    import pyarrow.csv as pacsv

    start = time.perf_counter()
    reader = pacsv.open_csv(str(path), read_options=pacsv.ReadOptions(block_size=16 << 20))
    total = 0.0
    for batch in reader:
        for column in batch.columns:
            if column.type in ("double", "int64"):
                total += float(np.asarray(column.fill_null(0)).sum())
    return time.perf_counter() - start


def optional_tools(train: Path, rows: int) -> list[str]:
    """Time whylogs / evidently profiling of the same file when they are installed."""
    lines = []
    try:
        import whylogs  # type: ignore[import-not-found]
    except ImportError:
        lines.append("whylogs: not installed (skipped)")
    else:
        import pandas as pd

        frame = pd.read_csv(train)
        start = time.perf_counter()
        whylogs.log(frame)
        lines.append(
            f"whylogs: profile of {rows:,} rows in {time.perf_counter() - start:.2f} s (pandas read excluded)"
        )
    try:
        import evidently  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        lines.append("evidently: not installed (skipped)")
    else:
        lines.append("evidently: installed, but its API changes between releases; not timed")
    return lines


# Run by --evidently-python's interpreter: one JSON line of timings and per-column verdicts on stdout.
# A ValueDrift's value is a distance (drift when >= threshold) or, for "p_value" methods, a p-value (< it).
EVIDENTLY_SCRIPT = """
import json, sys, time
start = time.perf_counter()
import evidently
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
imported = time.perf_counter()
reference, current = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
read = time.perf_counter()
document = Report([DataDriftPreset()]).run(current, reference).dict()
done = time.perf_counter()
columns = []
for metric in document["metrics"]:
    config = json.loads(json.dumps(metric["config"], default=str))
    if not str(config.get("type", "")).endswith("ValueDrift"):
        continue
    value, threshold, method = float(metric["value"]), float(config["threshold"]), str(config["method"])
    drifted = value < threshold if "p_value" in method else value >= threshold
    columns.append({"column": config["column"], "method": method, "value": value, "drifted": drifted})
print(json.dumps({
    "import": imported - start, "read": read - imported, "report": done - read, "total": done - start,
    "columns": columns, "versions": {"evidently": evidently.__version__, "pandas": pd.__version__},
}))
"""


def evidently_side_by_side(
    python: str, train: Path, current: Path, ours: float, drifted: list[str]
) -> list[str]:
    """Evidently's DataDriftPreset on the same two files, in the interpreter ``python``."""
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603  (an interpreter the user named, our own script, no shell)
        [python, "-c", EVIDENTLY_SCRIPT, str(train), str(current)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return [f"evidently: {python} exited {done.returncode}: {done.stderr.strip()[-500:]}"]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    versions = ", ".join(f"{name} {version}" for name, version in result["versions"].items())
    flagged = [c["column"] for c in result["columns"] if c["drifted"]]
    methods = sorted({c["method"] for c in result["columns"]})
    return [
        f"evidently DataDriftPreset ({versions}; {', '.join(methods)}): {wall:.2f} s wall"
        f" = start-up and import {result['import']:.2f} s + pandas read of both CSVs {result['read']:.2f} s"
        f" + report {result['report']:.2f} s",
        f"  this engine, baseline + check end to end (start-up, reads and HTML reports included): "
        f"{ours:.2f} s; Evidently's wall time is {wall / ours:.1f}x that",
        f"  drifted columns: this engine {drifted or 'none'}; Evidently {flagged or 'none'}",
    ]


def bench(rows: int, work: Path, repeat: int, evidently_python: str | None = None) -> list[str]:
    train = generate(work / f"train-{rows}.csv", rows, seed=0)
    current = generate(work / f"current-{rows}.csv", rows, seed=1, shift_sd=0.25)
    baseline_dir, check_dir = work / f"baseline-{rows}", work / f"check-{rows}"
    base = run_cli(["baseline", "--input", str(train), "--output", str(baseline_dir), "--header"])
    check = run_cli(
        [
            "check",
            "--input",
            str(current),
            "--baseline-statistics",
            str(baseline_dir),
            "--baseline-constraints",
            str(baseline_dir),
            "--output",
            str(check_dir),
            "--header",
        ]
    )
    if rows <= IN_MEMORY_LIMIT:
        ratios = compute_ratios(train, current, repeat)
    else:  # end to end against reading and summing the same file in blocks (pyarrow + numpy)
        ratios = {
            "floor_baseline": streamed_floor(train),
            "baseline": base[0],
            "floor_check": streamed_floor(current),
            "check": check[0],
        }
    wall_target, memory_target = TARGETS.get(rows, (None, None))
    lines = [f"{rows:,} rows ({train.stat().st_size / 1e6:.0f} MB CSV each)"]
    for step, (wall, peak, out) in (("baseline", base), ("check", check)):
        verdict = ""
        if wall_target is not None:
            ok = wall <= wall_target and (memory_target is None or peak <= memory_target)
            verdict = f"  target ≤ {wall_target:g} s" + (f", ≤ {memory_target:g} MB" if memory_target else "")
            verdict += "  OK" if ok else "  MISSED"
        lines.append(f"  {step:<8} end to end {wall:6.2f} s   peak {peak:7.0f} MB{verdict}")
        lines.append(f"           {out}")
    for step in ("baseline", "check"):
        floor, compute = ratios[f"floor_{step}"], ratios[step]
        ratio = compute / floor
        lines.append(
            f"  {step:<8} compute {compute:6.3f} s vs numpy floor {floor:6.3f} s = {ratio:4.2f}x"
            f"  target ≤ 3x  {'OK' if ratio <= 3 else 'MISSED'}"
        )
    if evidently_python:
        summary = json.loads((check_dir / "summary.json").read_text())
        drifted = list(summary["drifted_features"])
        for line in evidently_side_by_side(evidently_python, train, current, base[0] + check[0], drifted):
            lines.append("  " + line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, action="append", help="row counts to run (default 1000000)")
    parser.add_argument(
        "--ten-million", action="store_true", help="also run 10,000,000 rows (opt-in: ≈1.1 GB)"
    )
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "dq-bench")
    parser.add_argument("--repeat", type=int, default=3, help="in-process repetitions (best is kept)")
    parser.add_argument("--with-others", action="store_true", help="time whylogs/evidently when installed")
    parser.add_argument(
        "--evidently-python",
        metavar="PATH",
        help="a Python interpreter with evidently installed (a separate venv): time its DataDriftPreset "
        "on the same files, side by side",
    )
    args = parser.parse_args(argv)
    sizes = args.rows or [int(os.environ.get("DQ_BENCH_ROWS", "0")) or 1_000_000]
    if args.ten_million and 10_000_000 not in sizes:
        sizes.append(10_000_000)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    python = sys.version.split()[0]
    print(f"data_quality.py benchmark · {os.cpu_count()} CPUs · pyarrow: {pa is not None} · Python {python}")
    for rows in sizes:
        for line in bench(rows, args.work_dir, args.repeat, args.evidently_python):
            print(line, flush=True)
        if args.with_others:
            for line in optional_tools(args.work_dir / f"train-{rows}.csv", rows):
                print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
