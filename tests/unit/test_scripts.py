"""The step scripts as a whole: Python 3.8 compatibility and the chain a pipeline runs, end to end."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import evaluate
import join
import model_quality
import preprocess
import pytest
import serve
import train

from tests.datasets import write_dataset_json

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
DATA = ROOT / "data"

# Standard-library APIs newer than Python 3.8 that the grammar check cannot see.
NEWER_THAN_38 = re.compile(
    r"\.removeprefix\(|\.removesuffix\(|strict=|functools\.cache\b|datetime\.UTC\b|\bzoneinfo\b|"
    r"\btomllib\b|filter=\"data\"|\bmath\.lcm\b|\bstr \| None\b|^\s*match .*:$",
    re.MULTILINE,
)


def test_scripts_exist() -> None:
    names = {path.stem for path in SCRIPTS}
    assert {"datafiles", "preprocess", "train", "evaluate", "serve", "join", "model_quality"} <= names


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_script_is_python_38_compatible(path: Path) -> None:
    source = path.read_text()
    ast.parse(source, filename=str(path), feature_version=(3, 8))
    assert "from __future__ import annotations" in source
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())  # comments may name them
    assert not NEWER_THAN_38.findall(code)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_container_paths_only_in_argument_parsing(path: Path) -> None:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    allowed = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name in ("build_parser", "main")
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "/opt/ml" in node.value:
            assert id(node) in docstrings or id(node) in allowed, (
                f"{path.name}:{node.lineno}: container path outside argument parsing"
            )


def lines(path: Path, count: int) -> str:
    return "\n".join(path.read_text().splitlines()[:count]) + "\n"


def test_chain_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path
    (work / "raw").mkdir()
    (work / "raw" / "training-data.csv").write_text(lines(DATA / "training-data.csv", 400))

    # Training pipeline: preprocess -> train -> (SageMaker packs the model dir) -> evaluate.
    fit_argv = ["fit", "--input", str(work / "raw")]
    for name in ("train", "validation", "test", "transformer", "baseline"):
        fit_argv += ["--output-" + name, str(work / name)]
    assert preprocess.main(fit_argv) == 0
    monkeypatch.setenv("SM_MODEL_DIR", str(work / "model"))
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(work / "train"))
    monkeypatch.setenv("SM_CHANNEL_VALIDATION", str(work / "validation"))
    monkeypatch.setenv("SM_CHANNEL_PREPROCESSOR", str(work / "transformer"))
    assert train.main(["--num_round", "20", "--max_depth", "4", "--eta", "0.3"]) == 0
    assert re.findall(r"validation-rmse:([0-9\.]+)", capsys.readouterr().out)
    (work / "artifact").mkdir()
    with tarfile.open(work / "artifact" / "model.tar.gz", "w:gz") as tar:
        for path in sorted((work / "model").iterdir()):
            tar.add(path, arcname=path.name)
    assert (
        evaluate.main(
            ["--model", str(work / "artifact"), "--test", str(work / "test"), "--output", str(work / "ev")]
        )
        == 0
    )
    evaluation = json.loads((work / "ev" / "evaluation.json").read_text())
    assert evaluation["regression_metrics"]["rmse"]["value"] < 4.0

    # Inference pipeline: validate -> batch transform (serve) -> join -> model quality, clean then drifted.
    results = {}
    for batch, source in (("clean", DATA), ("drifted", DATA / "drifted")):
        root = work / batch
        (root / "input").mkdir(parents=True)
        (root / "input" / "inference-data.csv").write_text(lines(source / "inference-data.csv", 200))
        (root / "truth").mkdir()
        (root / "truth" / "ground-truth.csv").write_text(lines(source / "ground-truth.csv", 200))
        assert (
            preprocess.main(["validate", "--input", str(root / "input"), "--output", str(root / "validated")])
            == 0
        )
        scored = root / "transform" / "inference-data.csv.out"
        assert (
            serve.main(
                [
                    "--model-dir",
                    str(work / "model"),
                    "--input",
                    str(root / "validated" / "inference-data.csv"),
                    "--output",
                    str(scored),
                ]
            )
            == 0
        )
        assert (
            join.main(
                [
                    "--features",
                    str(root / "validated"),
                    "--predictions",
                    str(scored.parent),
                    "--output",
                    str(root / "joined"),
                ]
            )
            == 0
        )
        code = model_quality.main(
            [
                "--predictions",
                str(root / "joined"),
                "--ground-truth",
                str(root / "truth"),
                "--output",
                str(root / "mq"),
                "--threshold",
                "3.0",
            ]
        )
        report = json.loads((root / "mq" / "model_quality.json").read_text())
        results[batch] = (
            code,
            report["regression_metrics"]["rmse"]["value"],
            report["dataset"]["item_count"],
        )
    assert results["clean"][0] == 0 and results["clean"][1] < 3.0
    assert results["drifted"][0] == 1 and results["drifted"][1] > 3.5
    assert results["clean"][2] == results["drifted"][2] == 200
    assert "MODEL QUALITY FAILED: rmse" in capsys.readouterr().err


def test_script_runs_as_the_container_runs_it(tmp_path: Path) -> None:
    # SageMaker runs `python3 /opt/ml/processing/input/code/<script>.py` with scripts/ on PYTHONPATH.
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "predictions.csv").write_text("10\n12\n")
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "ground-truth.csv").write_text("10\n8\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONPATH"] = str(ROOT / "scripts")
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "model_quality.py"),
            "--predictions",
            str(tmp_path / "p"),
            "--ground-truth",
            str(tmp_path / "g"),
            "--output",
            str(tmp_path / "o"),
            "--threshold",
            "1.0",
            "--dataset",
            str(write_dataset_json(tmp_path / "lib")),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith("MODEL QUALITY FAILED: rmse 2.828 exceeds threshold 1.000 on 2 rows")
    assert (tmp_path / "o" / "model_quality.json").is_file()
