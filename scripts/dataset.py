"""The data set's schema as every step reads it, and the ONE validation of ``dataset.yaml``.

The CLI reads ``dataset.yaml`` (configuration names the file), validates it with :func:`from_dict` and
ships the canonical JSON (:func:`to_dict`) with the step scripts as ``dataset.json``; each step reads it
with :func:`load` (by default the ``dataset.json`` beside this file: the processing jobs' library input,
the training and serving source directory). No step script names a column.

Keys (``dataset.yaml``)::

    problem_type: binary              # regression | binary | multiclass
    target: {name: churn}
    classes: [0, 1]                   # binary and multiclass: the label values as written in the files
                                      # (quote yes/no/on/off: unquoted, YAML reads booleans; NA, null,
                                      # None, NaN... read as missing in the files and are refused)
    positive_class: 1                 # binary, optional: the class the metrics call positive (default: the
                                      # second of classes)
    probability_threshold: 0.5        # binary, optional: the predicted label is positive at or above it
    features:                         # in file order; training-data.csv is these columns, then the target
      - {name: plan, type: categorical}
      - {name: tenure_months, type: numeric}
    model_quality: {metric: f1, threshold: 0.7}   # the default check and registration gate
    name: churn                       # optional: shown in reports
    description: "..."                # optional

Runs on the SageMaker framework containers (Python 3.8): standard library (and ``metrics``) only.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

import metrics
from step_io import MISSING_TOKENS, StepError

DATASET_FILE = "dataset.json"
FEATURE_TYPES = ("numeric", "categorical")
KEYS = (
    "problem_type",
    "target",
    "classes",
    "positive_class",
    "probability_threshold",
    "features",
    "model_quality",
    "name",
    "description",
)
_NAME = re.compile(r"^[^,\"'\r\n]{1,128}$")  # a CSV header cell: no separators, quotes or line breaks


class DatasetError(StepError):
    """``dataset.yaml`` (or ``dataset.json``) is not a valid schema; ``key`` says which entry."""

    def __init__(self, key: str, what: str, fix: str, file: Optional[str] = None) -> None:
        self.key = key
        super().__init__("%s: %s" % (key, what) if key else what, fix=fix, file=file)


class Feature(NamedTuple):
    name: str
    type: str  # numeric | categorical


def label_key(value: Any) -> str:
    """A label as the files spell it, normalised: ``1``, ``1.0`` and `` 1 `` are the same class."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number == int(number):
        return str(int(number))
    return text


class Dataset(NamedTuple):
    problem_type: str
    target: str
    features: Tuple[Feature, ...]
    classes: Tuple[str, ...] = ()
    positive_class: str = ""
    probability_threshold: float = 0.5
    metric: str = ""
    threshold: float = 0.0
    name: str = ""
    description: str = ""

    @property
    def feature_names(self) -> Tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def categorical(self) -> Tuple[str, ...]:
        return tuple(f.name for f in self.features if f.type == "categorical")

    @property
    def numeric(self) -> Tuple[str, ...]:
        return tuple(f.name for f in self.features if f.type == "numeric")

    @property
    def is_classification(self) -> bool:
        return self.problem_type != metrics.REGRESSION

    @property
    def num_class(self) -> int:
        return len(self.classes)

    @property
    def labels(self) -> Tuple[str, ...]:
        """The classes in index order: the positive class last for binary (index 1)."""
        if self.problem_type != metrics.BINARY:
            return self.classes
        negative = [c for c in self.classes if c != self.positive_class]
        return (negative[0], self.positive_class)

    def prediction_columns(self) -> Tuple[str, ...]:
        """Batch transform's output columns: the prediction, or the label and one probability per class."""
        if not self.is_classification:
            return ("prediction",)
        return ("predicted_label", *tuple("probability_%s" % label for label in self.labels))


def _require(condition: bool, key: str, what: str, fix: str) -> None:
    if not condition:
        raise DatasetError(key, what, fix)


def _name(value: Any, key: str) -> str:
    _require(
        isinstance(value, str) and bool(_NAME.match(value.strip())),
        key,
        "%r is not a column name" % (value,),
        "use 1 to 128 characters without commas, quotes or line breaks",
    )
    return str(value).strip()


def _features(raw: Any) -> Tuple[Feature, ...]:
    _require(
        isinstance(raw, list) and len(raw) > 0,
        "features",
        "must be a non-empty list",
        "list the columns in file order, e.g. - {name: age, type: numeric}",
    )
    seen = set()
    out: List[Feature] = []
    for index, entry in enumerate(raw):
        key = "features[%d]" % index
        _require(
            isinstance(entry, dict),
            key,
            "must be a map with name and type",
            "write - {name: x, type: numeric}",
        )
        unknown = sorted(set(entry) - {"name", "type"})
        _require(
            not unknown,
            "%s.%s" % (key, unknown[0] if unknown else ""),
            "is not a known key",
            "a feature has only name and type",
        )
        name = _name(entry.get("name"), key + ".name")
        kind = entry.get("type")
        _require(
            kind in FEATURE_TYPES,
            key + ".type",
            "%r is not a feature type" % (kind,),
            "use numeric or categorical",
        )
        _require(
            name not in seen, key + ".name", "%r is listed twice" % name, "give every column its own name"
        )
        seen.add(name)
        out.append(Feature(name, str(kind)))
    return tuple(out)


def _label(value: Any, key: str) -> str:
    """A class label as the files spell it (``label_key``); YAML's booleans, nulls and lists are none."""
    _require(
        isinstance(value, (str, int, float)) and not isinstance(value, bool),
        key,
        "%r is not a label%s"
        % (
            value,
            ": YAML reads yes, no, on, off, true and false as booleans" if isinstance(value, bool) else "",
        ),
        "quote the labels as the files spell them, e.g. classes: ['no', 'yes']",
    )
    return label_key(value)


def _classes(raw: Mapping[str, Any], problem_type: str) -> Tuple[Tuple[str, ...], str, float]:
    if problem_type == metrics.REGRESSION:
        for key in ("classes", "positive_class", "probability_threshold"):
            _require(
                key not in raw,
                key,
                "is for classification",
                "remove it, or set problem_type binary/multiclass",
            )
        return (), "", 0.5
    classes = raw.get("classes") or []
    _require(
        isinstance(classes, list) and len(classes) >= 2,
        "classes",
        "is required for %s: the label values as written in the files" % problem_type,
        "list them, e.g. classes: [0, 1]",
    )
    keys = tuple(_label(c, "classes") for c in classes)
    _require(all(keys), "classes", "holds an empty label", "list the labels as written in the files")
    for key in keys:
        _require(
            key not in MISSING_TOKENS,
            "classes",
            "%r is not a label: the data files read it as a missing value" % key,
            "use another label, here and in the files (%s mean missing)" % ", ".join(MISSING_TOKENS[1:6]),
        )
    _require(len(set(keys)) == len(keys), "classes", "lists a label twice", "list each label once")
    if problem_type == metrics.BINARY:
        _require(
            len(keys) == 2,
            "classes",
            "binary needs exactly 2 classes, got %d" % len(keys),
            "list the two labels, or use problem_type: multiclass",
        )
        positive = _label(raw.get("positive_class", classes[1]), "positive_class")
        _require(
            positive in keys,
            "positive_class",
            "%r is not one of classes" % positive,
            "use one of %s" % list(keys),
        )
        cutoff = raw.get("probability_threshold", 0.5)
        _require(
            isinstance(cutoff, (int, float)) and not isinstance(cutoff, bool) and 0 < float(cutoff) < 1,
            "probability_threshold",
            "%r is not a number between 0 and 1" % (cutoff,),
            "use e.g. 0.5",
        )
        return keys, positive, float(cutoff)
    _require(
        len(keys) >= 3,
        "classes",
        "multiclass needs 3 or more classes, got %d" % len(keys),
        "list every label, or use problem_type: binary",
    )
    for key in ("positive_class", "probability_threshold"):
        _require(key not in raw, key, "is for binary classification", "remove it")
    return keys, "", 0.5


def _model_quality(raw: Any, problem_type: str) -> Tuple[str, float]:
    _require(
        isinstance(raw, dict),
        "model_quality",
        "must be a map with metric and threshold",
        "write model_quality: {metric: %s, threshold: ...}" % metrics.DEFAULT_METRIC[problem_type],
    )
    unknown = sorted(set(raw) - {"metric", "threshold"})
    _require(
        not unknown,
        "model_quality.%s" % (unknown[0] if unknown else ""),
        "is not a known key",
        "model_quality has only metric and threshold",
    )
    metric = raw.get("metric")
    names = metrics.metric_names(problem_type)
    _require(
        metric in names,
        "model_quality.metric",
        "%r is not a %s metric" % (metric, problem_type),
        "use one of %s" % ", ".join(names),
    )
    threshold = raw.get("threshold")
    number = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
    problem = metrics.threshold_problem(str(metric), problem_type, float(threshold)) if number else None
    _require(
        number and problem is None,
        "model_quality.threshold",
        problem or "%r is not a number" % (threshold,),
        "write a number the metric can reach, e.g. 0.7",
    )
    return str(metric), float(threshold)


def from_dict(raw: Any) -> Dataset:
    """Validate a parsed ``dataset.yaml``/``dataset.json``; raises DatasetError naming the key."""
    _require(isinstance(raw, dict), "", "the top level must be a map", "see the keys in scripts/dataset.py")
    unknown = sorted(set(raw) - set(KEYS))
    _require(
        not unknown, unknown[0] if unknown else "", "is not a known key", "known keys: %s" % ", ".join(KEYS)
    )
    problem_type = raw.get("problem_type")
    _require(
        problem_type in metrics.PROBLEM_TYPES,
        "problem_type",
        "%r is not a problem type" % (problem_type,),
        "use one of %s" % ", ".join(metrics.PROBLEM_TYPES),
    )
    target = raw.get("target")
    _require(
        isinstance(target, dict) and set(target) == {"name"},
        "target",
        "must be a map with one key, name",
        "write target: {name: <the label column>}",
    )
    target_name = _name(target["name"], "target.name")
    features = _features(raw.get("features"))
    _require(
        target_name not in {f.name for f in features},
        "target.name",
        "%r is also listed among the features" % target_name,
        "the target is the last column, not a feature",
    )
    classes, positive, cutoff = _classes(raw, str(problem_type))
    metric, threshold = _model_quality(raw.get("model_quality"), str(problem_type))
    for key in ("name", "description"):
        _require(isinstance(raw.get(key, ""), str), key, "must be a string", "quote it")
    return Dataset(
        problem_type=str(problem_type),
        target=target_name,
        features=features,
        classes=classes,
        positive_class=positive,
        probability_threshold=cutoff,
        metric=metric,
        threshold=threshold,
        name=str(raw.get("name", "")),
        description=str(raw.get("description", "")),
    )


def to_dict(dataset: Dataset) -> Dict[str, Any]:
    """The canonical document (``dataset.json``): what :func:`from_dict` reads back unchanged."""
    document: Dict[str, Any] = {
        "problem_type": dataset.problem_type,
        "target": {"name": dataset.target},
        "features": [{"name": f.name, "type": f.type} for f in dataset.features],
        "model_quality": {"metric": dataset.metric, "threshold": dataset.threshold},
    }
    if dataset.is_classification:
        document["classes"] = list(dataset.classes)
    if dataset.problem_type == metrics.BINARY:
        document["positive_class"] = dataset.positive_class
        document["probability_threshold"] = dataset.probability_threshold
    for key in ("name", "description"):
        if getattr(dataset, key):
            document[key] = getattr(dataset, key)
    return document


def to_json(dataset: Dataset) -> str:
    return json.dumps(to_dict(dataset), indent=2, sort_keys=True) + "\n"


def default_path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), DATASET_FILE)


def load(path: Optional[str] = None) -> Dataset:
    """The schema in ``path`` (default: ``dataset.json`` beside this file)."""
    location = path or default_path()
    if os.path.isdir(location):
        location = os.path.join(location, DATASET_FILE)
    if not os.path.isfile(location):
        raise DatasetError(
            "",
            "the data set schema %s does not exist" % DATASET_FILE,
            fix="run the step from the code bundle `mlops pipelines upsert` uploads, or pass --dataset",
            file=location,
        )
    try:
        with open(location, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError) as error:
        raise DatasetError(
            "", "cannot be read as JSON (%s)" % error, fix="regenerate it", file=location
        ) from error
    try:
        return from_dict(raw)
    except DatasetError as error:
        raise DatasetError(error.key, error.what.split(": ", 1)[-1], error.fix, file=location) from None


def add_argument(parser: Any) -> None:
    """``--dataset PATH`` for a step's command line."""
    parser.add_argument(
        "--dataset",
        default=None,
        help="dataset.json (default: beside the script, where the code bundle puts it)",
    )


def class_index(labels: Sequence[str]) -> Dict[str, int]:
    return {label: i for i, label in enumerate(labels)}
