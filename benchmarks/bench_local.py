"""Local-mode figures: batch-transform throughput on 1M rows, and the demo's wall time.

1. Transform: the local executor's batch-transform server (``local_aws/executor/serving_runner.py``, a
   subprocess as in a pipeline, MultiRecord requests of ``MaxPayloadInMB`` 6) over 1M rows, against two
   baselines run in this process on the same rows with the same model:
   - plain xgboost prediction: read the CSV (pandas), apply the saved transformer, ``booster.predict``,
     write one prediction per line (``%.6g``) — a minimal scoring script; target ratio ≥ 0.5;
   - ``booster.predict`` alone on the prepared matrix (no I/O), for scale.
2. Demo: ``mlops demo`` wall time in a subprocess for each shipped data set: abalone (regression,
   ``data/``) and penguins (multiclass, ``data/penguins``); target < 40 s each on 2 cores.

Not a test: run with ``make bench`` (or ``python benchmarks/bench_local.py [--skip-demo]``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import dataset  # noqa: E402
import pandas as pd  # noqa: E402
import preprocess  # noqa: E402
import serve  # noqa: E402
import train  # noqa: E402
import xgboost as xgb  # noqa: E402
import yaml  # noqa: E402

ABALONE = dataset.from_dict(yaml.safe_load((ROOT / "data" / "dataset.yaml").read_text()))
FEATURES = ABALONE.feature_names
DATASETS = {"abalone": ROOT / "data", "penguins": ROOT / "data" / "penguins"}

ROWS = 1_000_000
HYPERPARAMETERS = dict(
    num_round=100,
    max_depth=5,
    eta=0.2,
    gamma=0.0,
    min_child_weight=1.0,
    subsample=1.0,
    colsample_bytree=1.0,
    objective="reg:squarederror",
    early_stopping_rounds=0,
    seed=42,
)


def trained_model(root: Path) -> Path:
    dirs = {n: root / n for n in ("train", "validation", "test", "preprocessor", "baseline", "model")}
    preprocess.fit(
        str(ROOT / "data" / "training-data.csv"),
        train_dir=str(dirs["train"]),
        validation_dir=str(dirs["validation"]),
        test_dir=str(dirs["test"]),
        transformer_dir=str(dirs["preprocessor"]),
        baseline_dir=str(dirs["baseline"]),
        schema=ABALONE,
    )
    with contextlib.redirect_stdout(io.StringIO()):  # the per-round metric lines are for the job's log
        train.run(
            str(dirs["train"]),
            str(dirs["validation"]),
            str(dirs["preprocessor"]),
            str(dirs["model"]),
            HYPERPARAMETERS,
        )
    return dirs["model"]


def big_input(path: Path) -> Path:
    rows = (ROOT / "data" / "inference-data.csv").read_text().splitlines()
    repeats = -(-ROWS // len(rows))
    path.write_text("\n".join((rows * repeats)[:ROWS]) + "\n")
    return path


def plain_xgboost(model_dir: Path, source: Path, out: Path) -> float:
    started = time.perf_counter()
    model = serve.model_fn(str(model_dir))
    frame = pd.read_csv(source, header=None, names=list(FEATURES), dtype={"sex": object})
    matrix = preprocess.apply_transformer(model.transformer, frame)
    predictions = model.booster.predict(
        xgb.DMatrix(matrix, feature_names=list(model.transformer["output_columns"]))
    )
    np.savetxt(out, predictions, fmt="%.6g")
    return time.perf_counter() - started


def bare_predict(model_dir: Path, source: Path) -> float:
    model = serve.model_fn(str(model_dir))
    frame = pd.read_csv(source, header=None, names=list(FEATURES), dtype={"sex": object})
    dmatrix = xgb.DMatrix(
        preprocess.apply_transformer(model.transformer, frame),
        feature_names=list(model.transformer["output_columns"]),
    )
    started = time.perf_counter()
    model.booster.predict(dmatrix)
    return time.perf_counter() - started


def local_transform(model_dir: Path, source: Path, out: Path, work: Path) -> float:
    spec = {
        "program": "serve.py",
        "code_dir": str(ROOT / "scripts"),
        "model_dir": str(model_dir),
        "content_type": "text/csv",
        "accept": "text/csv",
        "split_type": "Line",
        "batch_strategy": "MultiRecord",
        "max_payload_bytes": 6 * 1024 * 1024,
        "assemble_with": "Line",
        "input_filter": None,
        "join_source": None,
        "output_filter": None,
        "items": [{"input": str(source), "output": str(out)}],
    }
    spec_path = work / "spec.json"
    spec_path.write_text(json.dumps(spec))
    runner = ROOT / "local_aws" / "executor" / "serving_runner.py"
    started = time.perf_counter()
    subprocess.run(  # noqa: S603  (this interpreter and the repo's own runner, no shell)
        [sys.executable, str(runner), "--spec", str(spec_path)], check=True, cwd=work
    )
    return time.perf_counter() - started


def demo_wall_time(folder: Path, out: Path) -> tuple[float, int, str]:
    """``mlops demo --dataset folder`` in a subprocess: wall seconds, exit code, the summary line."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603  (this interpreter running mlops demo, no shell)
        [sys.executable, "-m", "pipeline_scripts.cli", "demo", "--dataset", str(folder), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    summary = " ".join(line for line in done.stdout.splitlines() if "expected transitions happened" in line)
    return wall, done.returncode, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir = trained_model(work / "trained")
        source = big_input(work / "inference-1m.csv")
        plain = plain_xgboost(model_dir, source, work / "plain.out")
        local = local_transform(model_dir, source, work / "local.out", work)
        bare = bare_predict(model_dir, source)
        lines = sum(1 for _ in (work / "local.out").open())
        print(f"batch transform, {ROWS:,} rows ({lines:,} predictions written)")
        print(f"  plain xgboost scoring (read, transform, predict, write): {plain:6.2f} s ")
        print(f"  local batch transform (serving_runner + serve.py):       {local:6.2f} s ")
        print(f"  booster.predict alone, no I/O:                          {bare:6.2f} s")
        print(f"  throughput ratio local / plain: {plain / local:.2f} (target >= 0.5)")
        print(f"  throughput ratio local / predict alone: {bare / local:.2f} (for scale)")
    if not args.skip_demo:
        for name, folder in DATASETS.items():
            wall, exit_code, summary = demo_wall_time(folder, ROOT / "build" / f"bench-demo-{name}")
            print(f"mlops demo ({name}): {wall:.1f} s wall (target < 40 s), exit {exit_code}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
