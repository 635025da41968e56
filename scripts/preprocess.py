"""Preprocessing step: split and transform training data, or validate an inference batch.

Subcommands (run as ``python3 preprocess.py <subcommand> ...`` in the SKLearn processing container):

``fit``
    Reads the headerless training CSV (the data set's features, then its target), splits it with a fixed
    seed, fits the transformer on the TRAIN split only and writes, each in its own output directory:

    - ``train.csv``, ``validation.csv``, ``test.csv``: transformed, headerless, the target first (for
      classification its class index, 0..K-1 in the schema's label order) then the transformer's output
      columns (the XGBoost CSV convention)
    - ``preprocessor.json``: the fitted transformer, with the data set's schema (the model carries it)
    - ``baseline.csv``: the raw train-split features WITH a header, the data-quality baseline. The target is
      left out: batches have predictions, not labels, and a prediction's distribution is not the label's
      (a regression model's predictions are narrower), so comparing them would flag every clean batch.
      With ``--baseline-parts N`` (N > 1) it is N files ``baseline-part-00000.csv`` … of consecutive rows,
      each with the header, so a data-quality job sharded over N instances (``ShardedByS3Key``) gives
      each instance one.

``validate``
    Reads a raw, headerless inference CSV (the features), validates it and writes it, normalised and with the
    same rows, as ``inference-data.csv`` for batch transform. A batch folder of CSV parts
    (``batch_parts.py``) gives one validated output part per input part, under the same name. No
    transformation here: serving applies the transformer saved with the model, so training and serving
    can never disagree.

The transformer is a plain JSON document (not a pickle: the SKLearn and XGBoost containers ship different
scikit-learn versions)::

    {"version": 2, "features": [...], "categorical": {"sex": ["F", "I", "M"]},
     "numeric": {"length": {"mean": ..., "scale": ...}, ...}, "output_columns": [...],
     "dataset": {...dataset.json...}}

Every subcommand takes ``--dataset`` (default: the ``dataset.json`` beside this script).

Categoricals are one-hot encoded in sorted category order (an unseen or missing category gives all
zeros; the model inputs are named ``<feature>_<category>`` and ``<feature>``, with ``[``, ``]`` and ``<``
replaced and a ``~2`` suffix on a name already taken, as XGBoost needs); numerics are standardised with
the train split's mean and population standard deviation (a zero
scale becomes 1; missing values stay NaN, which XGBoost treats as missing).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from typing import Any, Dict, List, Optional, Set, Tuple

import batch_parts
import datafiles
import dataset
import numpy as np
import pandas as pd
import step_io
from datafiles import ArtifactError, DataError, StepError
from dataset import Dataset

logger = logging.getLogger(__name__)

TRANSFORMER_VERSION = 2
TRANSFORMER_FILE = "preprocessor.json"
TRAIN_FILE = "train.csv"
VALIDATION_FILE = "validation.csv"
TEST_FILE = "test.csv"
BASELINE_FILE = "baseline.csv"
BASELINE_PART = "baseline-part-{:05d}.csv"  # --baseline-parts N > 1


# --------------------------------------------------------------------------------------------------------
# Transformer
# --------------------------------------------------------------------------------------------------------


def _model_input_name(text: str, taken: Set[str]) -> str:
    """A model input's name as XGBoost accepts it: no ``[``, ``]`` or ``<``, and unique (a numeric feature
    or the target may be called like a one-hot column, ``<categorical>_<level>``)."""
    name = text.replace("[", "(").replace("]", ")").replace("<", "lt")
    unique, count = name, 1
    while unique in taken:
        count += 1
        unique = "%s~%d" % (name, count)
    taken.add(unique)
    return unique


def fit_transformer(frame: pd.DataFrame, schema: Dataset) -> Dict[str, Any]:
    """Fit the transformer spec on the raw features (call it with the train split only)."""
    if len(frame) == 0:
        raise DataError("no rows to fit the transformer on", fix="provide training data with rows")
    categorical: Dict[str, List[str]] = {}
    numeric: Dict[str, Dict[str, float]] = {}
    output_columns: List[str] = []
    taken = {schema.target}  # the transformed files' first column
    for name in schema.feature_names:
        if name in schema.categorical:
            values = frame[name].to_numpy(dtype=object)
            categories = sorted({str(value) for value in values[pd.notna(values)]})
            categorical[name] = categories
            output_columns.extend(
                _model_input_name("%s_%s" % (name, category), taken) for category in categories
            )
        else:
            values = frame[name].to_numpy(dtype=np.float64)
            present = values[~np.isnan(values)]
            mean = float(present.mean()) if len(present) else 0.0
            scale = float(present.std()) if len(present) else 1.0
            numeric[name] = {"mean": mean, "scale": scale if scale > 0.0 else 1.0}
            output_columns.append(_model_input_name(name, taken))
    return {
        "version": TRANSFORMER_VERSION,
        "features": list(schema.feature_names),
        "categorical": categorical,
        "numeric": numeric,
        "output_columns": output_columns,
        "dataset": dataset.to_dict(schema),
    }


def apply_transformer(spec: Dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Transform raw features into the model's float64 input matrix (same result at training and serving)."""
    blocks = []
    for name in spec["features"]:
        if name in spec["categorical"]:
            values = frame[name].to_numpy(dtype=object)
            categories = np.asarray(spec["categorical"][name], dtype=object)
            matches = np.zeros((len(values), len(categories)), dtype=np.float64)
            for index, category in enumerate(categories):
                matches[:, index] = values == category
            blocks.append(matches)
        else:
            stats = spec["numeric"][name]
            values = frame[name].to_numpy(dtype=np.float64)
            blocks.append(((values - stats["mean"]) / stats["scale"]).reshape(-1, 1))
    matrix = np.hstack(blocks) if blocks else np.zeros((len(frame), 0))
    return np.ascontiguousarray(matrix, dtype=np.float64)


def save_transformer(
    spec: Dict[str, Any], path: str, stage: Optional[datafiles.StagedOutputs] = None
) -> None:
    """Write the spec as JSON (through ``stage`` when given, else atomically on its own)."""
    if stage is None:
        datafiles.write_json_atomic(spec, path)
    else:
        stage.write_json(path, spec)


def load_transformer(path: str, schema: Optional[Dataset] = None) -> Dict[str, Any]:
    """Read a spec written by save_transformer; a directory means its preprocessor.json. With ``schema``,
    its features must be the ones the transformer was fitted on."""
    if os.path.isdir(path):
        path = os.path.join(path, TRANSFORMER_FILE)
    fix = "re-run the preprocessing step (preprocess.py fit) and train again, so model and transformer match"
    if not os.path.isfile(path):
        raise ArtifactError("transformer file does not exist", fix=fix, file=path)
    try:
        with open(path, encoding="utf-8") as handle:
            spec = json.load(handle)
    except (OSError, ValueError) as error:
        raise ArtifactError("transformer file is not valid JSON (%s)" % error, fix=fix, file=path) from error
    if not isinstance(spec, dict) or spec.get("version") != TRANSFORMER_VERSION:
        found = spec.get("version") if isinstance(spec, dict) else None
        raise ArtifactError(
            "transformer file has version %r, this code reads version %d" % (found, TRANSFORMER_VERSION),
            fix=fix,
            file=path,
        )
    missing = [
        key for key in ("features", "categorical", "numeric", "output_columns", "dataset") if key not in spec
    ]
    if missing:
        raise ArtifactError("transformer file lacks %s" % ", ".join(missing), fix=fix, file=path)
    if schema is not None and list(spec["features"]) != list(schema.feature_names):
        raise ArtifactError(
            "transformer was fitted on features %s, the schema now has %s"
            % (",".join(spec["features"]), ",".join(schema.feature_names)),
            fix=fix,
            file=path,
        )
    return spec


def transformer_schema(spec: Dict[str, Any]) -> Dataset:
    """The data set schema the transformer (and so the model) was trained with."""
    return dataset.from_dict(spec["dataset"])


# --------------------------------------------------------------------------------------------------------
# Splitting and writing
# --------------------------------------------------------------------------------------------------------


def split_indices(
    n_rows: int, validation_fraction: float, test_fraction: float, seed: int
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices (each sorted) of the train, validation and test splits; reproducible for a seed."""
    if not (0.0 < validation_fraction < 1.0 and 0.0 < test_fraction < 1.0):
        raise StepError(
            "validation and test fractions must each be between 0 and 1 (got %s and %s)"
            % (validation_fraction, test_fraction),
            fix="pass --validation-fraction and --test-fraction such as 0.15",
        )
    if validation_fraction + test_fraction >= 1.0:
        raise StepError(
            "validation + test fractions leave no training rows (%s + %s >= 1)"
            % (validation_fraction, test_fraction),
            fix="make the two fractions sum to less than 1 (e.g. 0.15 each)",
        )
    n_test = round(n_rows * test_fraction)
    n_validation = round(n_rows * validation_fraction)
    if min(n_test, n_validation, n_rows - n_test - n_validation) < 1:
        raise DataError(
            "%d rows are too few to split into train, validation and test" % n_rows,
            fix="provide more training rows",
        )
    # RandomState, not default_rng: its stream is frozen across numpy versions.
    order = np.random.RandomState(seed).permutation(n_rows)
    test = np.sort(order[:n_test])
    validation = np.sort(order[n_test : n_test + n_validation])
    train = np.sort(order[n_test + n_validation :])
    return train, validation, test


def encoded_target(schema: Dataset, values: pd.Series) -> np.ndarray:
    """The target as the model learns it: the value (regression) or the class index (``schema.labels``)."""
    if not schema.is_classification:
        return values.to_numpy(dtype=np.float64)
    index = dataset.class_index(schema.labels)
    return np.asarray([index[label] for label in values], dtype=np.float64)


def transformed_frame(spec: Dict[str, Any], frame: pd.DataFrame, schema: Dataset) -> pd.DataFrame:
    """The target first, then the transformed features: the XGBoost CSV layout."""
    matrix = apply_transformer(spec, frame)
    out = pd.DataFrame(matrix, columns=spec["output_columns"])
    out.insert(0, schema.target, encoded_target(schema, frame[schema.target]))
    return out


def fit(
    input_path: str,
    *,
    train_dir: str,
    validation_dir: str,
    test_dir: str,
    transformer_dir: str,
    baseline_dir: str,
    schema: Dataset,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 42,
    baseline_parts: int = 1,
) -> Dict[str, str]:
    """The ``fit`` subcommand; returns the written files by role (the baseline's folder when it is in
    ``baseline_parts`` > 1 parts)."""
    source = datafiles.find_single_csv(input_path, preferred=datafiles.TRAINING_FILE)
    data = datafiles.read_training_csv(source, schema)
    train_rows, validation_rows, test_rows = split_indices(
        len(data), validation_fraction, test_fraction, seed
    )
    train = data.iloc[train_rows].reset_index(drop=True)
    spec = fit_transformer(train, schema)
    logger.info(
        "%s: %d rows -> train %d, validation %d, test %d; %d model inputs",
        source,
        len(data),
        len(train_rows),
        len(validation_rows),
        len(test_rows),
        len(spec["output_columns"]),
    )
    outputs = {
        "train": os.path.join(train_dir, TRAIN_FILE),
        "validation": os.path.join(validation_dir, VALIDATION_FILE),
        "test": os.path.join(test_dir, TEST_FILE),
        "transformer": os.path.join(transformer_dir, TRANSFORMER_FILE),
        "baseline": os.path.join(baseline_dir, BASELINE_FILE),
    }
    with datafiles.staged_outputs() as stage:
        stage.write_csv(outputs["train"], transformed_frame(spec, train, schema))
        for role, rows in (("validation", validation_rows), ("test", test_rows)):
            part = data.iloc[rows].reset_index(drop=True)
            stage.write_csv(outputs[role], transformed_frame(spec, part, schema))
        save_transformer(spec, outputs["transformer"], stage)
        baseline = train[list(schema.feature_names)]
        if baseline_parts <= 1:
            stage.write_csv(outputs["baseline"], baseline, header=True)
        else:
            outputs["baseline"] = baseline_dir
            bounds = np.linspace(0, len(baseline), baseline_parts + 1).round().astype(int)
            for index in range(baseline_parts):
                part = os.path.join(baseline_dir, BASELINE_PART.format(index))
                stage.write_csv(part, baseline.iloc[bounds[index] : bounds[index + 1]], header=True)
    return outputs


def validate(input_path: str, output_dir: str, schema: Dataset, input_uri: Optional[str] = None) -> List[str]:
    """The ``validate`` subcommand; returns the written files.

    One batch file is written as ``inference-data.csv``. A folder of parts (``batch_parts``) is
    validated part by part (an error names the part, row and column) and written as one output part per
    input part under the same relative name, so batch transform's instances each score whole parts and
    name their results ``<part>.out``. Nothing is written unless every part is valid. ``input_uri`` (the
    pipeline's ``InputDataUri``) picks the one object a file URI names out of its S3 prefix's siblings.
    """
    parts = batch_parts.list_parts(input_path, uri=input_uri)
    if len(parts) > 1:  # Spark writes empty parts for empty partitions: they hold no rows to score
        blank = [relative for relative, source in parts if batch_parts.is_blank(source)]
        if blank and len(blank) < len(parts):
            logger.warning("skipping %d empty part(s): %s", len(blank), ", ".join(blank))
            parts = [item for item in parts if item[0] not in blank]
    if len(parts) == 1:
        parts = [(datafiles.INFERENCE_FILE, parts[0][1])]
    rows = 0
    with datafiles.staged_outputs() as stage:
        for relative, source in parts:
            frame = datafiles.read_features_csv(source, schema)
            stage.write_csv(os.path.join(output_dir, *relative.split("/")), frame)
            rows += len(frame)
            logger.info("%s: %d valid rows", source, len(frame))
            del frame
        written = stage.commit()
    logger.info("%d part(s), %d rows in all", len(parts), rows)
    return written


# --------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.required = True

    fit_parser = commands.add_parser("fit", help="split training data, fit and apply the transformer")
    fit_parser.add_argument("--input", default="/opt/ml/processing/input", help="dir (or file) of the CSV")
    fit_parser.add_argument("--output-train", default="/opt/ml/processing/train")
    fit_parser.add_argument("--output-validation", default="/opt/ml/processing/validation")
    fit_parser.add_argument("--output-test", default="/opt/ml/processing/test")
    fit_parser.add_argument("--output-transformer", default="/opt/ml/processing/transformer")
    fit_parser.add_argument("--output-baseline", default="/opt/ml/processing/baseline")
    fit_parser.add_argument("--validation-fraction", type=float, default=0.15)
    fit_parser.add_argument("--test-fraction", type=float, default=0.15)
    fit_parser.add_argument("--seed", type=int, default=42)
    fit_parser.add_argument(
        "--baseline-parts",
        type=int,
        default=1,
        help="write the baseline as this many CSV parts, each with the header (default 1: baseline.csv)",
    )
    dataset.add_argument(fit_parser)

    validate_parser = commands.add_parser("validate", help="validate an inference batch")
    validate_parser.add_argument(
        "--input", default="/opt/ml/processing/input", help="dir (or file) of the CSV"
    )
    validate_parser.add_argument("--output", default="/opt/ml/processing/output")
    validate_parser.add_argument(
        "--input-uri",
        help="the S3 URI --input was downloaded from: a file URI selects that object from the prefix",
    )
    dataset.add_argument(validate_parser)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    datafiles.configure_logging()
    try:
        schema = dataset.load(args.dataset)
        if args.command == "fit":
            fit(
                args.input,
                train_dir=args.output_train,
                validation_dir=args.output_validation,
                test_dir=args.output_test,
                transformer_dir=args.output_transformer,
                baseline_dir=args.output_baseline,
                schema=schema,
                validation_fraction=args.validation_fraction,
                test_fraction=args.test_fraction,
                seed=args.seed,
                baseline_parts=args.baseline_parts,
            )
        else:
            validate(args.input, args.output, schema, args.input_uri)
    except StepError as error:
        return datafiles.report_error(error)
    return datafiles.EXIT_OK


if __name__ == "__main__":
    step_io.exit_process(main())
