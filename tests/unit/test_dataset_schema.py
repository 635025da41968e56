"""Bad dataset.yaml files, and settings that contradict the data set, fail when the config loads: one line
naming the file (or the override) and the key, with the fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_scripts.config import load_config
from pipeline_scripts.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PENGUINS = ROOT / "data" / "penguins"

REGRESSION: dict[str, Any] = {
    "problem_type": "regression",
    "target": {"name": "rings"},
    "features": [{"name": "sex", "type": "categorical"}, {"name": "length", "type": "numeric"}],
    "model_quality": {"metric": "rmse", "threshold": 3.0},
}
BINARY: dict[str, Any] = {
    "problem_type": "binary",
    "target": {"name": "churn"},
    "classes": [0, 1],
    "positive_class": 1,
    "probability_threshold": 0.5,
    "features": [{"name": "plan", "type": "categorical"}, {"name": "tenure", "type": "numeric"}],
    "model_quality": {"metric": "f1", "threshold": 0.7},
}
MULTICLASS: dict[str, Any] = {
    "problem_type": "multiclass",
    "target": {"name": "species"},
    "classes": ["Adelie", "Chinstrap", "Gentoo"],
    "features": [{"name": "island", "type": "categorical"}, {"name": "bill", "type": "numeric"}],
    "model_quality": {"metric": "macro_f1", "threshold": 0.85},
}


def load(folder: Path, **overrides: str) -> Any:
    return load_config("local", overrides={"dataset_dir": str(folder), **overrides}, environ={})


def write(folder: Path, document: Any) -> Path:
    path = folder / "dataset.yaml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False))
    return path


def changed(base: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    document = copy.deepcopy(base)
    change(document)
    return document


@pytest.mark.parametrize("base", [REGRESSION, BINARY, MULTICLASS], ids=lambda d: d["problem_type"])
def test_the_valid_documents_load(tmp_path: Path, base: dict[str, Any]) -> None:
    write(tmp_path, base)
    config = load(tmp_path)
    assert config.dataset.problem_type == base["problem_type"]
    assert config.quality.check.metric == base["model_quality"]["metric"]


BAD: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], Any], str, str]] = [
    # (id, base, change, key named, what is said)
    ("unknown-top-level-key", REGRESSION, lambda d: d.update(label="x"), "label", "is not a known key"),
    (
        "unknown-feature-type",
        REGRESSION,
        lambda d: d["features"][1].update(type="float"),
        "features[1].type",
        "'float' is not a feature type",
    ),
    (
        "unknown-feature-key",
        REGRESSION,
        lambda d: d["features"][0].update(unit="mm"),
        "features[0].unit",
        "is not a known key",
    ),
    (
        "duplicate-feature",
        REGRESSION,
        lambda d: d["features"].append({"name": "sex", "type": "numeric"}),
        "features[2].name",
        "'sex' is listed twice",
    ),
    (
        "target-among-features",
        REGRESSION,
        lambda d: d["features"].append({"name": "rings", "type": "numeric"}),
        "target.name",
        "'rings' is also listed among the features",
    ),
    ("no-features", REGRESSION, lambda d: d.update(features=[]), "features", "must be a non-empty list"),
    ("bad-problem-type", REGRESSION, lambda d: d.update(problem_type="ranking"), "problem_type", "'ranking'"),
    (
        "column-name-with-comma",
        REGRESSION,
        lambda d: d["features"][0].update(name="a,b"),
        "features[0].name",
        "is not a column name",
    ),
    (
        "f1-for-regression",
        REGRESSION,
        lambda d: d["model_quality"].update(metric="f1"),
        "model_quality.metric",
        "'f1' is not a regression metric",
    ),
    (
        "rmse-for-multiclass",
        MULTICLASS,
        lambda d: d["model_quality"].update(metric="rmse"),
        "model_quality.metric",
        "'rmse' is not a multiclass metric",
    ),
    (
        "auc-for-multiclass",
        MULTICLASS,
        lambda d: d["model_quality"].update(metric="auc"),
        "model_quality.metric",
        "'auc' is not a multiclass metric",
    ),
    (
        "macro_f1-for-binary",
        BINARY,
        lambda d: d["model_quality"].update(metric="macro_f1"),
        "model_quality.metric",
        "'macro_f1' is not a binary metric",
    ),
    ("no-model-quality", REGRESSION, lambda d: d.pop("model_quality"), "model_quality", "must be a map"),
    ("classes-missing-binary", BINARY, lambda d: d.pop("classes"), "classes", "is required for binary"),
    (
        "classes-missing-multiclass",
        MULTICLASS,
        lambda d: d.pop("classes"),
        "classes",
        "is required for multiclass",
    ),
    (
        "binary-with-3-classes",
        BINARY,
        lambda d: d.update(classes=[0, 1, 2]),
        "classes",
        "binary needs exactly 2 classes, got 3",
    ),
    (
        "multiclass-with-2-classes",
        MULTICLASS,
        lambda d: d.update(classes=["Adelie", "Gentoo"]),
        "classes",
        "multiclass needs 3 or more classes, got 2",
    ),
    ("class-listed-twice", BINARY, lambda d: d.update(classes=[1, 1.0]), "classes", "lists a label twice"),
    (
        "positive-class-not-a-class",
        BINARY,
        lambda d: d.update(positive_class=2),
        "positive_class",
        "'2' is not one of classes",
    ),
    (
        "probability-threshold-1",
        BINARY,
        lambda d: d.update(probability_threshold=1),
        "probability_threshold",
        "1 is not a number between 0 and 1",
    ),
    (
        "probability-threshold-0",
        BINARY,
        lambda d: d.update(probability_threshold=0.0),
        "probability_threshold",
        "is not a number between 0 and 1",
    ),
    (
        "probability-threshold-text",
        BINARY,
        lambda d: d.update(probability_threshold="half"),
        "probability_threshold",
        "'half' is not a number between 0 and 1",
    ),
    (
        "positive-class-for-multiclass",
        MULTICLASS,
        lambda d: d.update(positive_class="Adelie"),
        "positive_class",
        "is for binary classification",
    ),
    (
        "f1-threshold-1.5",
        BINARY,
        lambda d: d["model_quality"].update(threshold=1.5),
        "model_quality.threshold",
        "1.5 is impossible for f1",
    ),
    (
        "rmse-threshold-negative",
        REGRESSION,
        lambda d: d["model_quality"].update(threshold=-1),
        "model_quality.threshold",
        "-1.0 is impossible for rmse",
    ),
    (
        "r2-threshold-above-1",
        REGRESSION,
        lambda d: d["model_quality"].update(metric="r2", threshold=1.2),
        "model_quality.threshold",
        "1.2 is impossible for r2",
    ),
    (
        "threshold-not-a-number",
        REGRESSION,
        lambda d: d["model_quality"].update(threshold="low"),
        "model_quality.threshold",
        "'low' is not a number",
    ),
    (
        "classes-for-regression",
        REGRESSION,
        lambda d: d.update(classes=[0, 1]),
        "classes",
        "is for classification",
    ),
    (
        "probability-threshold-for-regression",
        REGRESSION,
        lambda d: d.update(probability_threshold=0.5),
        "probability_threshold",
        "is for classification",
    ),
]


@pytest.mark.parametrize(("base", "change", "key", "what"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_dataset_yaml_names_file_and_key(
    tmp_path: Path, base: dict[str, Any], change: Callable[[dict[str, Any]], Any], key: str, what: str
) -> None:
    path = write(tmp_path, changed(base, change))
    with pytest.raises(ConfigError) as err:
        load(tmp_path)
    message = str(err.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert what in message
    assert err.value.hint  # and says how to fix it
    assert "\n" not in message


@pytest.mark.parametrize(
    ("document", "what"),
    [
        ("problem_type: regression\ntarget: {name: y\n", "not valid YAML"),
        ("features:\n  - {name: a, type: numeric}\n bad: indent\n", "not valid YAML"),
        ("- problem_type\n- regression\n", "the top level must be a map"),
        ("just a sentence\n", "the top level must be a map"),
        ("", "the top level must be a map"),
    ],
    ids=["unclosed-map", "bad-indent", "a-list", "a-string", "empty"],
)
def test_malformed_or_not_a_map(tmp_path: Path, document: str, what: str) -> None:
    path = write(tmp_path, document)
    with pytest.raises(ConfigError) as err:
        load(tmp_path)
    assert str(err.value).startswith(f"{path}: {what}"), str(err.value)
    assert "\n" not in str(err.value)


def test_a_missing_dataset_yaml_names_the_file_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found") as err:
        load(tmp_path / "nowhere")
    assert str(err.value).startswith(str(tmp_path / "nowhere" / "dataset.yaml"))
    assert "dataset_dir" in err.value.hint


# ---------------------------------------------------------------------------------------- cross-checks


def test_a_tfvars_metric_that_does_not_fit_the_problem_type_names_the_override(tmp_path: Path) -> None:
    write(tmp_path, REGRESSION)
    with pytest.raises(ConfigError) as err:
        load(tmp_path, model_quality_metric="f1", model_quality_threshold="0.7")
    message = str(err.value)
    assert message.startswith("--set model_quality_metric: model_quality_metric 'f1' is not a regression")
    assert "mse, rmse, mae, r2" in err.value.hint and "--set model_quality_metric" in err.value.hint


def test_the_same_metric_from_an_environment_variable_names_the_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(
            "local",
            overrides={"dataset_dir": str(PENGUINS)},
            environ={"MLOPS_MODEL_QUALITY_METRIC": "rmse", "MLOPS_MODEL_QUALITY_THRESHOLD": "3"},
        )
    assert str(err.value).startswith(
        "MLOPS_MODEL_QUALITY_METRIC: model_quality_metric 'rmse' is not a multiclass"
    )
    assert "MLOPS_MODEL_QUALITY_METRIC" in err.value.hint


def test_a_metric_other_than_the_data_sets_needs_its_own_threshold(tmp_path: Path) -> None:
    write(tmp_path, REGRESSION)
    with pytest.raises(ConfigError, match="model_quality_threshold is not set") as err:
        load(tmp_path, model_quality_metric="mae")
    assert str(err.value).startswith("--set model_quality_metric:")
    config = load(tmp_path, model_quality_metric="r2", model_quality_threshold="0.5")
    assert (config.quality.check.metric, config.quality.check.comparison) == ("r2", ">=")


def test_a_tfvars_threshold_the_metric_cannot_reach_names_the_override() -> None:
    with pytest.raises(ConfigError) as err:
        load(PENGUINS, model_quality_threshold="1.5")
    assert str(err.value).startswith(
        "--set model_quality_threshold: model_quality_threshold 1.5 is impossible"
    )


@pytest.mark.parametrize(
    ("key", "metric", "problem"),
    [("training.register_metric", "rmse", "multiclass"), ("hpo.register_metric", "auc", "multiclass")],
)
def test_a_registration_metric_that_does_not_fit_names_the_override(
    key: str, metric: str, problem: str
) -> None:
    threshold = key.replace("metric", "threshold")
    with pytest.raises(ConfigError) as err:
        load(PENGUINS, **{key: metric, threshold: "0.5"})
    assert str(err.value).startswith(f"--set {key}: {key} {metric!r} is not a {problem} metric")


@pytest.mark.parametrize(
    ("folder", "objective", "problem"),
    [
        (ROOT / "data", "validation:auc", "regression"),
        (PENGUINS, "validation:rmse", "multiclass"),
        (PENGUINS, "validation:logloss", "multiclass"),
    ],
)
def test_an_hpo_objective_training_does_not_log_names_the_override(
    folder: Path, objective: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load(folder, **{"hpo.objective_metric": objective})
    message = str(err.value)
    assert message.startswith(f"--set hpo.objective_metric: hpo.objective_metric {objective!r} is not logged")
    assert f"for a {problem} model" in message


def test_an_hpo_objective_type_contradicting_the_objective_names_the_override(tmp_path: Path) -> None:
    write(tmp_path, BINARY)
    with pytest.raises(ConfigError) as err:
        load(tmp_path, **{"hpo.objective_metric": "validation:auc", "hpo.objective_type": "Minimize"})
    message = str(err.value)
    assert message.startswith(
        "--set hpo.objective_type: hpo.objective_type Minimize contradicts validation:auc"
    )
    assert "use Maximize" in err.value.hint
    with pytest.raises(ConfigError, match="Maximize contradicts validation:mlogloss"):
        load(PENGUINS, **{"hpo.objective_type": "Maximize"})  # the default objective of multiclass
    config = load(tmp_path, **{"hpo.objective_metric": "validation:logloss"})
    assert (config.quality.tuning_objective, config.quality.tuning_objective_type) == (
        "validation:logloss",
        "Minimize",
    )


BINARY_YAML = """\
problem_type: binary
target: {name: churn}
classes: %s
features:
  - {name: plan, type: categorical}
model_quality: {metric: f1, threshold: 0.7}
"""


@pytest.mark.parametrize(
    ("classes", "what"),
    [
        ("[yes, no]", "True is not a label: YAML reads yes, no, on, off, true and false as booleans"),
        ("[On, Off]", "True is not a label"),
        ("[NA, churned]", "'NA' is not a label: the data files read it as a missing value"),
        ("[~, churned]", "None is not a label"),
        ("[[a], b]", "['a'] is not a label"),
    ],
    ids=["yes-no", "on-off", "NA", "null", "a-list"],
)
def test_a_class_no_data_file_can_hold_is_refused(tmp_path: Path, classes: str, what: str) -> None:
    """Unquoted yes/no are YAML booleans ("True" would be the label) and NA reads as missing: no row could
    carry the class, so every file would fail its upload check. Refused where it is written."""
    path = write(tmp_path, BINARY_YAML % classes)
    with pytest.raises(ConfigError) as err:
        load(tmp_path)
    assert str(err.value).startswith(f"{path}: classes: {what}"), str(err.value)
    assert ("quote" if classes != "[NA, churned]" else "use another label") in err.value.hint


def test_quoted_yes_no_classes_load(tmp_path: Path) -> None:
    write(tmp_path, BINARY_YAML % "['no', 'yes']")
    assert load(tmp_path).dataset.labels == ("no", "yes")


def test_a_boolean_positive_class_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, BINARY_YAML % "['no', 'yes']" + "positive_class: yes\n")
    with pytest.raises(ConfigError) as err:
        load(tmp_path)
    assert str(err.value).startswith(f"{path}: positive_class: True is not a label"), str(err.value)
