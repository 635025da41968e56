"""train.py: XGBoost script mode, metric lines for the SageMaker regexes, model directory contents."""

from __future__ import annotations

import re
from pathlib import Path

import preprocess
import pytest
import train
import xgboost as xgb

from tests.datasets import ABALONE

DATA = Path(__file__).resolve().parents[2] / "data"
TRAIN_REGEX = r"train-rmse:([0-9\.]+)"
VALIDATION_REGEX = r"validation-rmse:([0-9\.]+)"
ITERATION_LINE = re.compile(r"^\[(\d+)\]\ttrain-rmse:[0-9.]+\tvalidation-rmse:[0-9.]+$")


@pytest.fixture
def channels(tmp_path: Path) -> dict[str, Path]:
    source = tmp_path / "raw" / "training-data.csv"
    source.parent.mkdir()
    source.write_text("\n".join((DATA / "training-data.csv").read_text().splitlines()[:300]) + "\n")
    dirs = {name: tmp_path / name for name in ("train", "validation", "test", "preprocessor", "baseline")}
    preprocess.fit(
        str(source),
        train_dir=str(dirs["train"]),
        validation_dir=str(dirs["validation"]),
        test_dir=str(dirs["test"]),
        transformer_dir=str(dirs["preprocessor"]),
        baseline_dir=str(dirs["baseline"]),
        schema=ABALONE,
    )
    dirs["model"] = tmp_path / "model"
    return dirs


@pytest.fixture
def sagemaker_env(channels: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("SM_MODEL_DIR", str(channels["model"]))
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(channels["train"]))
    monkeypatch.setenv("SM_CHANNEL_VALIDATION", str(channels["validation"]))
    monkeypatch.setenv("SM_CHANNEL_PREPROCESSOR", str(channels["preprocessor"]))
    return channels


def test_main_trains_from_sagemaker_env(
    sagemaker_env: dict[str, Path], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    argv = [
        "--num_round",
        "20",
        "--max_depth",
        "3",
        "--eta",
        "0.3",
        "--_tuning_objective_metric",
        "validation:rmse",
    ]
    assert train.main(argv) == 0
    out = capsys.readouterr().out
    model_dir = sagemaker_env["model"]
    assert sorted(path.name for path in model_dir.iterdir()) == ["preprocessor.json", "xgboost-model.json"]
    assert (model_dir / "preprocessor.json").read_bytes() == (
        sagemaker_env["preprocessor"] / "preprocessor.json"
    ).read_bytes()
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model.json"))
    assert booster.num_boosted_rounds() == 20

    iterations = [line for line in out.splitlines() if ITERATION_LINE.match(line)]
    assert [int(ITERATION_LINE.match(line).group(1)) for line in iterations] == list(range(20))  # type: ignore[union-attr]
    train_values = re.findall(TRAIN_REGEX, out)
    validation_values = re.findall(VALIDATION_REGEX, out)
    assert len(train_values) == len(validation_values) == 21  # 20 iterations + the final line
    # The LAST match is the final metric: no early stopping, so the last iteration's.
    assert validation_values[-1] == validation_values[-2]
    assert float(train_values[-1]) < float(train_values[0])
    assert out.splitlines()[-1].startswith("train-rmse:")
    assert "ignoring arguments this script does not use: --_tuning_objective_metric" in caplog.text


def test_early_stopping_saves_and_reports_the_best_iteration(
    channels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    hyperparameters = dict(
        num_round=200,
        max_depth=6,
        eta=0.5,
        gamma=0.0,
        min_child_weight=1.0,
        subsample=1.0,
        colsample_bytree=1.0,
        objective='"reg:squarederror"',  # double-encoded, as the v2 SDK may send it
        early_stopping_rounds=5,
        seed=42,
    )
    hyperparameters["objective"] = train._text(str(hyperparameters["objective"]))
    metrics = train.run(
        str(channels["train"]),
        str(channels["validation"]),
        str(channels["preprocessor"]),
        str(channels["model"]),
        hyperparameters,
    )
    out = capsys.readouterr().out
    validation_values = [float(v) for v in re.findall(VALIDATION_REGEX, out)]
    per_iteration = validation_values[:-1]
    assert len(per_iteration) < 200
    assert validation_values[-1] == min(per_iteration)
    assert metrics["validation-rmse"] == pytest.approx(min(per_iteration), abs=1e-6)
    booster = xgb.Booster()
    booster.load_model(str(channels["model"] / "xgboost-model.json"))
    assert booster.num_boosted_rounds() == per_iteration.index(min(per_iteration)) + 1


def test_integer_hyperparameters_accept_integral_floats() -> None:
    args, _ = train.build_parser().parse_known_args(["--max_depth", "5.0", "--num_round", "7"])
    assert (args.max_depth, args.num_round) == (5, 7)
    with pytest.raises(SystemExit):
        train.build_parser().parse_args(["--max_depth", "5.5"])


def test_mismatched_training_file_exits_2_without_model(
    sagemaker_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = sagemaker_env["train"] / "train.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    assert train.main(["--num_round", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "row has 10 columns, expected 11" in err and "train.csv, row 1)" in err
    assert not sagemaker_env["model"].exists() or list(sagemaker_env["model"].iterdir()) == []


def test_missing_preprocessor_exits_2(
    sagemaker_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (sagemaker_env["preprocessor"] / "preprocessor.json").unlink()
    assert train.main(["--num_round", "5"]) == 2
    assert "transformer file does not exist" in capsys.readouterr().err


def test_bad_hyperparameter_is_a_step_error(
    sagemaker_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert train.main(["--num_round", "5", "--objective", "reg:nonsense"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ERROR: objective 'reg:nonsense' does not fit a regression problem. Fix: use")
    assert err.count("\n") == 1
    assert train.main(["--num_round", "5", "--max_depth", "-3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ERROR: XGBoost rejected the training configuration")
    assert err.count("\n") == 1
