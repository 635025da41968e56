"""Any schema, no code change: a randomly drawn data set runs through every step script.

For each problem type and a few seeds, a seeded RNG draws a schema (numbers of categorical and numeric
columns, column names, class labels: strings or integers) and synthetic data whose target depends on some
features, with missing feature values. The chain is the pipelines': preprocess.fit -> train.run ->
evaluate (test split) -> serve (model_fn/input_fn/predict_fn/output_fn on an inference batch) -> join ->
data_quality baseline/check -> model_quality. Every metric must equal scikit-learn's on the same
predictions, and every metric's threshold must point the right way.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any, NamedTuple

import data_quality
import datafiles
import dataset
import evaluate
import join
import metrics
import model_quality
import numpy as np
import preprocess
import pytest
import serve
import xgboost as xgb
from sklearn import metrics as skm
from step_io import MISSING_TOKENS

from tests.datasets import fit_and_train, write_dataset_json

SEEDS = {  # a few per problem type
    "regression": (11, 23, 37),
    "binary": (5, 19, 41),
    "multiclass": (7, 29, 53),
}
N_TRAIN = 300
N_INFERENCE = 80
MISSING_RATE = 0.06
TOLERANCE = 1e-9

# Written here, not read from metrics.METRICS: the table is what is under test.
LOWER_IS_BETTER = {"mse", "rmse", "mae", "logloss"}
EXPECTED_METRICS = {
    metrics.REGRESSION: {"mse", "rmse", "mae", "r2"},
    metrics.BINARY: {"f1", "accuracy", "precision", "recall", "auc", "logloss"},
    metrics.MULTICLASS: {"macro_f1", "weighted_f1", "accuracy", "logloss"},
}
HYPERPARAMETERS: dict[str, Any] = dict(
    num_round=8,
    max_depth=3,
    eta=0.3,
    gamma=0.0,
    min_child_weight=1.0,
    subsample=1.0,
    colsample_bytree=1.0,
    objective="",
    num_class=0,
    early_stopping_rounds=0,
)
_NAME_START = string.ascii_letters
_NAME_CHARS = string.ascii_letters + string.digits + "_-. []<>()"
_TAKEN_BY_READERS = {token.lower() for token in MISSING_TOKENS} | {"inf", "infinity"}


class Drawn(NamedTuple):
    schema: dataset.Dataset
    columns: dict[str, list[str]]  # categorical column -> its levels
    informative: list[str]  # the features the target depends on


def _word(rng: np.random.RandomState, taken: set[str], start: str, chars: str, longest: int) -> str:
    while True:
        text = str(rng.choice(list(start))) + "".join(
            str(c) for c in rng.choice(list(chars), size=rng.randint(0, longest))
        )
        text = text.strip()
        if text not in taken and text.lower() not in _TAKEN_BY_READERS:
            taken.add(text)
            return text


def _labels(rng: np.random.RandomState, count: int) -> list[str]:
    """Class labels or category levels: integers for some draws, strings for others."""
    if rng.rand() < 0.5:
        return [str(v) for v in rng.choice(100, size=count, replace=False)]
    taken: set[str] = set()
    chars = string.ascii_letters + string.digits + "<>=[]() "
    return [_word(rng, taken, string.ascii_letters + "<>", chars, 6) for _ in range(count)]


def draw_schema(problem_type: str, seed: int) -> Drawn:
    rng = np.random.RandomState(seed)
    names: set[str] = set()
    n_categorical, n_numeric = rng.randint(1, 4), rng.randint(1, 5)
    kinds = ["categorical"] * n_categorical + ["numeric"] * n_numeric
    rng.shuffle(kinds)
    features = [{"name": _word(rng, names, _NAME_START, _NAME_CHARS, 10), "type": kind} for kind in kinds]
    target = _word(rng, names, _NAME_START, _NAME_CHARS, 10)
    levels = {f["name"]: _labels(rng, rng.randint(2, 6)) for f in features if f["type"] == "categorical"}
    # Names that collide with a one-hot column ("<categorical>_<level>"), for the numeric feature or the
    # target: valid schemas the model's inputs must still tell apart.
    collide = rng.randint(3)
    if collide:
        categorical = str(rng.choice(sorted(levels)))
        clash = f"{categorical}_{levels[categorical][0]}"
        if clash not in names:
            if collide == 1:
                next(f for f in features if f["type"] == "numeric")["name"] = clash
            else:
                target = clash
    raw: dict[str, Any] = {
        "problem_type": problem_type,
        "target": {"name": target},
        "features": features,
        "name": f"random-{problem_type}-{seed}",
    }
    if problem_type == metrics.REGRESSION:
        raw["model_quality"] = {"metric": "rmse", "threshold": 100.0}
    else:
        classes = _labels(rng, 2 if problem_type == metrics.BINARY else rng.randint(3, 6))
        # Integer labels as YAML integers, the way a dataset.yaml spells them.
        raw["classes"] = [int(c) if c.isdigit() else c for c in classes]
        metric = str(rng.choice(sorted(EXPECTED_METRICS[problem_type] - LOWER_IS_BETTER)))
        raw["model_quality"] = {"metric": metric, "threshold": 0.1}
        if problem_type == metrics.BINARY:
            raw["positive_class"] = raw["classes"][rng.randint(2)]
            raw["probability_threshold"] = round(float(rng.uniform(0.3, 0.7)), 3)
    schema = dataset.from_dict(raw)
    assert dataset.from_dict(dataset.to_dict(schema)) == schema
    informative = [str(rng.choice(schema.numeric)), str(rng.choice(schema.categorical))]
    return Drawn(schema, levels, informative)


def draw_rows(drawn: Drawn, n: int, rng: np.random.RandomState) -> tuple[list[list[str]], list[str]]:
    """(feature cells, target cells) as the files spell them; the target depends on ``informative``."""
    schema = drawn.schema
    values: dict[str, np.ndarray] = {}
    score = np.zeros(n)
    for name in schema.feature_names:
        if name in schema.categorical:
            levels = drawn.columns[name]
            values[name] = rng.choice(len(levels), size=n)
            if name in drawn.informative:
                score += rng.normal(0, 2, size=len(levels))[values[name]]
        else:
            values[name] = rng.normal(rng.uniform(-50, 50), rng.uniform(0.1, 20), size=n)
            if name in drawn.informative:
                z = (values[name] - values[name].mean()) / values[name].std()
                score += 1.5 * z
    score += rng.normal(0, 0.3, size=n)
    if schema.is_classification:
        # Quantile bins of the score: every class present, each depending on the informative features.
        cuts = np.quantile(score, np.linspace(0, 1, schema.num_class + 1)[1:-1])
        order = list(schema.classes)
        rng.shuffle(order)
        labels = [order[i] for i in np.searchsorted(cuts, score)]
        target = [label + ".0" if label.isdigit() and rng.rand() < 0.2 else label for label in labels]
    else:
        target = [f"{10 + 3 * s:.4f}" for s in score]
    rows = []
    for i in range(n):
        row = []
        for name in schema.feature_names:
            if rng.rand() < MISSING_RATE:
                row.append("")
            elif name in schema.categorical:
                row.append(drawn.columns[name][values[name][i]])
            else:
                row.append(f"{values[name][i]:.3f}")
        rows.append(row)
    return rows, target


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


class Chain(NamedTuple):
    schema: dataset.Dataset
    root: Path
    model_dir: Path
    evaluation: dict[str, Any]
    test_truth: np.ndarray
    test_prediction: np.ndarray
    served: serve.Predictions
    output_text: str
    quality: dict[str, Any]
    dq_summary: dict[str, Any]


def run_chain(problem_type: str, seed: int, root: Path) -> Chain:
    drawn = draw_schema(problem_type, seed)
    schema = drawn.schema
    dataset_json = write_dataset_json(root / "code", schema)
    rng = np.random.RandomState(seed + 1000)
    rows, target = draw_rows(drawn, N_TRAIN + N_INFERENCE, rng)
    training = _write(
        root / "input" / datafiles.TRAINING_FILE,
        [",".join([*row, t]) for row, t in zip(rows[:N_TRAIN], target[:N_TRAIN], strict=True)],
    )
    features = _write(root / "features" / datafiles.INFERENCE_FILE, [",".join(r) for r in rows[N_TRAIN:]])
    _write(root / "ground_truth" / datafiles.GROUND_TRUTH_FILE, target[N_TRAIN:])

    dirs = fit_and_train(training, root, schema, {**HYPERPARAMETERS, "seed": seed}, seed=seed)
    archive = dirs["archive"]
    evaluation = evaluate.evaluate(str(archive), str(dirs["test"]), str(root / "evaluation"))

    # The test split's predictions, made the way evaluate makes them (same reader, same booster).
    model = serve.model_fn(str(dirs["model"]))
    assert model.schema == schema  # the schema travelled inside preprocessor.json
    test = datafiles.read_numeric_csv(
        str(dirs["test"] / preprocess.TEST_FILE), [schema.target, *model.transformer["output_columns"]]
    ).to_numpy(dtype=np.float64)
    dmatrix = xgb.DMatrix(test[:, 1:], feature_names=list(model.transformer["output_columns"]))
    test_prediction = np.asarray(model.booster.predict(dmatrix), dtype=np.float64)

    served = serve.predict_fn(serve.input_fn(features.read_bytes(), "text/csv"), model)
    output_text = serve.output_fn(served, "text/csv")
    _write(root / "predictions" / (datafiles.INFERENCE_FILE + ".out"), output_text.splitlines())
    joined = join.join(str(features.parent), str(root / "predictions"), str(root / "joined"), schema)

    baseline = ["baseline", "--input", str(dirs["baseline"] / preprocess.BASELINE_FILE), "--header"]
    assert data_quality.main([*baseline, "--output", str(root / "dq_baseline"), "--no-report"]) == 0
    check = ["check", "--input", joined["data_quality"], "--header", "--output", str(root / "dq_check")]
    check += ["--baseline-statistics", str(root / "dq_baseline")]
    check += ["--baseline-constraints", str(root / "dq_baseline"), "--no-report"]
    assert data_quality.main(check) == 0
    dq_summary = json.loads((root / "dq_check" / "summary.json").read_text())

    quality_args = ["--predictions", str(root / "joined"), "--ground-truth", str(root / "ground_truth")]
    quality_args += ["--output", str(root / "model_quality"), "--dataset", str(dataset_json)]
    assert model_quality.main(quality_args) == 0
    quality = json.loads((root / "model_quality" / model_quality.MODEL_QUALITY_FILE).read_text())
    return Chain(
        schema,
        root,
        dirs["model"],
        evaluation,
        test[:, 0],
        test_prediction,
        served,
        output_text,
        quality,
        dq_summary,
    )


def sklearn_metrics(schema: dataset.Dataset, truth: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """scikit-learn's values; ``truth``: values or class indices, ``prediction``: values or probabilities."""
    if schema.problem_type == metrics.REGRESSION:
        return {
            "mse": skm.mean_squared_error(truth, prediction),
            "rmse": skm.root_mean_squared_error(truth, prediction),
            "mae": skm.mean_absolute_error(truth, prediction),
            "r2": skm.r2_score(truth, prediction),
        }
    y = truth.astype(int)
    if schema.problem_type == metrics.BINARY:
        positive = prediction[:, -1] if prediction.ndim == 2 else prediction
        predicted = (positive >= schema.probability_threshold).astype(int)
        return {
            "f1": skm.f1_score(y, predicted, zero_division=0),
            "accuracy": skm.accuracy_score(y, predicted),
            "precision": skm.precision_score(y, predicted, zero_division=0),
            "recall": skm.recall_score(y, predicted, zero_division=0),
            "auc": skm.roc_auc_score(y, positive),
            "logloss": skm.log_loss(y, y_proba=positive, labels=[0, 1]),
        }
    normalised = prediction / prediction.sum(axis=1, keepdims=True)
    predicted = np.argmax(prediction, axis=1)
    return {
        "macro_f1": skm.f1_score(y, predicted, average="macro", zero_division=0),
        "weighted_f1": skm.f1_score(y, predicted, average="weighted", zero_division=0),
        "accuracy": skm.accuracy_score(y, predicted),
        "logloss": skm.log_loss(y, y_proba=normalised, labels=list(range(schema.num_class))),
    }


def assert_same_metrics(schema: dataset.Dataset, section: dict[str, Any], expected: dict[str, float]) -> None:
    assert set(expected) == EXPECTED_METRICS[schema.problem_type]
    for name, value in expected.items():
        assert section[name]["value"] == pytest.approx(value, abs=TOLERANCE, rel=0), name


CASES = [(p, s) for p in metrics.PROBLEM_TYPES for s in SEEDS[p]]


@pytest.fixture(scope="module", params=CASES, ids=[f"{p}-{s}" for p, s in CASES])
def chain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    problem_type, seed = request.param
    return run_chain(problem_type, seed, tmp_path_factory.mktemp(f"{problem_type}-{seed}"))


def test_the_metric_table_lists_each_problem_types_metrics() -> None:
    for problem_type, names in EXPECTED_METRICS.items():
        assert set(metrics.metric_names(problem_type)) == names


def test_evaluate_agrees_with_scikit_learn_on_the_test_split(chain: Chain) -> None:
    schema = chain.schema
    section = chain.evaluation[metrics.SECTIONS[schema.problem_type]]
    assert_same_metrics(schema, section, sklearn_metrics(schema, chain.test_truth, chain.test_prediction))
    if schema.is_classification:
        assert section["accuracy"]["value"] > 1.0 / schema.num_class  # the model found the signal
    else:
        assert section["r2"]["value"] > 0.3


def test_batch_transform_output_has_the_prediction_columns(chain: Chain) -> None:
    schema = chain.schema
    columns = schema.prediction_columns()
    lines = chain.output_text.splitlines()
    assert len(lines) == N_INFERENCE
    assert all(len(line.split(",")) == len(columns) for line in lines)
    written = datafiles.read_predictions_csv(str(chain.root / "joined" / join.PREDICTIONS_FILE), schema)
    assert tuple(written.columns) == columns
    if not schema.is_classification:
        assert columns == ("prediction",)
        return
    assert columns == ("predicted_label", *(f"probability_{label}" for label in schema.labels))
    assert sorted(schema.labels) == sorted(schema.classes)
    if schema.problem_type == metrics.BINARY:
        assert schema.labels[1] == schema.positive_class
    probabilities = chain.served.values
    assert probabilities.shape == (N_INFERENCE, schema.num_class)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    printed = written[list(columns[1:])].to_numpy(dtype=np.float64)
    np.testing.assert_allclose(printed.sum(axis=1), 1.0, rtol=0, atol=1e-5)
    if schema.problem_type == metrics.BINARY:
        expected = [
            schema.labels[1] if p >= schema.probability_threshold else schema.labels[0]
            for p in probabilities[:, 1]
        ]
    else:
        expected = [schema.labels[i] for i in np.argmax(probabilities, axis=1)]
    assert list(written[columns[0]]) == expected


def test_data_quality_checks_every_feature(chain: Chain) -> None:
    assert chain.dq_summary["item_count"] == N_INFERENCE
    assert chain.dq_summary["features_checked"] == len(chain.schema.features)


def test_model_quality_agrees_with_scikit_learn(chain: Chain) -> None:
    schema = chain.schema
    predictions = datafiles.read_predictions_csv(str(chain.root / "joined" / join.PREDICTIONS_FILE), schema)
    truth = datafiles.read_target_csv(str(chain.root / "ground_truth" / datafiles.GROUND_TRUTH_FILE), schema)
    if schema.is_classification:
        index = dataset.class_index(schema.labels)
        truth_values = np.asarray([index[label] for label in truth])
        prediction = predictions[list(schema.prediction_columns()[1:])].to_numpy(dtype=np.float64)
    else:
        truth_values = truth.to_numpy(dtype=np.float64)
        prediction = predictions["prediction"].to_numpy(dtype=np.float64)
    section = chain.quality[metrics.SECTIONS[schema.problem_type]]
    assert chain.quality["dataset"]["item_count"] == N_INFERENCE
    assert_same_metrics(schema, section, sklearn_metrics(schema, truth_values, prediction))
    if schema.is_classification:
        predicted = (
            (prediction[:, 1] >= schema.probability_threshold).astype(int)
            if schema.problem_type == metrics.BINARY
            else np.argmax(prediction, axis=1)
        )
        matrix = skm.confusion_matrix(truth_values, predicted, labels=list(range(schema.num_class)))
        assert section["confusion_matrix"] == {
            actual: {label: int(matrix[i][j]) for j, label in enumerate(schema.labels)}
            for i, actual in enumerate(schema.labels)
        }


def test_every_metric_threshold_points_the_right_way(chain: Chain) -> None:
    schema = chain.schema
    section = chain.quality[metrics.SECTIONS[schema.problem_type]]
    for name in metrics.metric_names(schema.problem_type):
        value = float(section[name]["value"])
        step = 1e-9 * max(1.0, abs(value))
        better, worse = (
            (value - step, value + step) if name in LOWER_IS_BETTER else (value + step, value - step)
        )
        # The threshold just worse than the value: the value is better, so it passes (and vice versa).
        assert model_quality.threshold_check(name, schema.problem_type, value, worse)["passed"], name
        assert model_quality.threshold_check(name, schema.problem_type, value, value)["passed"], name
        assert not model_quality.threshold_check(name, schema.problem_type, value, better)["passed"], name
        assert metrics.higher_is_better(name, schema.problem_type) is (name not in LOWER_IS_BETTER)


def test_the_model_quality_step_exits_1_past_the_threshold(chain: Chain) -> None:
    schema = chain.schema
    value = float(chain.quality["threshold_check"]["value"])
    assert chain.quality["threshold_check"]["metric"] == schema.metric
    strict = value - 1e-6 if schema.metric in LOWER_IS_BETTER else value + 1e-6
    args = ["--predictions", str(chain.root / "joined"), "--ground-truth", str(chain.root / "ground_truth")]
    args += ["--dataset", str(chain.root / "code" / "dataset.json")]
    equal = [*args, "--output", str(chain.root / "mq_equal"), "--threshold", repr(value)]
    assert model_quality.main(equal) == 0
    assert (
        model_quality.main([*args, "--output", str(chain.root / "mq_strict"), "--threshold", repr(strict)])
        == 1
    )
