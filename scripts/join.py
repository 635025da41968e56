"""Join step: line up the scored batch with its predictions, part by part.

    python3 join.py --features DIR --predictions DIR --output DIR

- ``--features`` (default ``/opt/ml/processing/input/features``): the validated batch that batch transform
  scored: ``inference-data.csv``, or one headerless CSV part per input part (``preprocess.py validate``)
- ``--predictions`` (default ``/opt/ml/processing/input/predictions``): batch transform's output, one
  ``<part>.out`` per features part (the same relative name), one line per row in input order (serve.py:
  the prediction, or the predicted label and the class probabilities)
- ``--dataset``: the schema (default: ``dataset.json`` beside this script)
- ``--output`` (default ``/opt/ml/processing/output``) receives:

  - ``data-quality-input/``: one CSV part per features part (same relative name), each WITH a header,
    the features, so its columns line up with the training baseline (``baseline.csv``, features only:
    model quality judges the predictions). The data-quality step reads the folder (``dq_chunks.py``).
  - ``predictions.csv``: headerless, the prediction columns of every part in the parts' order (the
    model-quality step's input; ``ground-truth.csv`` follows the same order)

A features part without its ``.out`` file, a ``.out`` file without its features part, and a part whose
row count differs from its predictions' are errors naming the part. One part is in memory at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from typing import Dict, List, Optional, Tuple

import batch_parts
import datafiles
import dataset
import step_io
from datafiles import DataError, StepError
from dataset import Dataset

logger = logging.getLogger(__name__)

DATA_QUALITY_DIR = "data-quality-input"
PREDICTIONS_FILE = "predictions.csv"
PREDICTIONS_SUFFIX = ".out"


def _prediction_files(predictions_location: str) -> Dict[str, str]:
    """``relative name without .out`` -> path of every ``.out`` file batch transform wrote."""
    if not os.path.isdir(predictions_location):
        raise DataError(
            "predictions directory does not exist",
            fix="point --predictions at the batch transform output",
            file=predictions_location,
        )
    found: Dict[str, str] = {}
    for folder, directories, names in os.walk(predictions_location):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        for name in names:
            if name.startswith(".") or not name.endswith(PREDICTIONS_SUFFIX):
                continue
            full = os.path.join(folder, name)
            relative = os.path.relpath(full, predictions_location).replace(os.sep, "/")
            found[relative[: -len(PREDICTIONS_SUFFIX)]] = full
    return found


def pair_parts(features_location: str, predictions_location: str) -> List[Tuple[str, str, str]]:
    """``(relative name, features path, predictions path)`` of every part, in the parts' order."""
    parts = batch_parts.list_parts(features_location, what="features")
    predictions = _prediction_files(predictions_location)
    if len(parts) == 1 and parts[0][0] not in predictions and len(predictions) == 1:
        # One file scored under another name (a transform of the file itself): still one-to-one.
        only = next(iter(predictions))
        predictions = {parts[0][0]: predictions.pop(only)}
    missing = [relative for relative, _ in parts if relative not in predictions]
    if missing:
        raise DataError(
            "no predictions for %d of %d features part(s): %s (expected %s in %s)"
            % (
                len(missing),
                len(parts),
                ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""),
                missing[0] + PREDICTIONS_SUFFIX,
                predictions_location,
            ),
            fix="join the batch transform output of exactly these features (one <part>.out per part); "
            "a transform job that failed part-way leaves parts unscored: run the pipeline again",
        )
    names = {relative for relative, _ in parts}
    extra = sorted(key + PREDICTIONS_SUFFIX for key in predictions if key not in names)
    if extra:
        raise DataError(
            "%d predictions file(s) without a features part: %s (in %s)"
            % (len(extra), ", ".join(extra[:5]) + (" ..." if len(extra) > 5 else ""), predictions_location),
            fix="join the batch transform output of exactly these features, nothing else",
        )
    return [(relative, path, predictions[relative]) for relative, path in parts]


def join(
    features_location: str, predictions_location: str, output_dir: str, schema: Dataset
) -> Dict[str, str]:
    """Write data-quality-input/ and predictions.csv; returns them by role."""
    pairs = pair_parts(features_location, predictions_location)
    outputs = {
        "data_quality": os.path.join(output_dir, DATA_QUALITY_DIR),
        "predictions": os.path.join(output_dir, PREDICTIONS_FILE),
    }
    rows = 0
    with datafiles.staged_outputs() as stage, contextlib.ExitStack() as files:
        predictions_out = None  # opened once the first part is known to be good (nothing written before)
        for relative, features_path, predictions_path in pairs:
            features = datafiles.read_features_csv(features_path, schema)
            predictions = datafiles.read_predictions_csv(predictions_path, schema)
            if len(features) != len(predictions):
                raise DataError(
                    "part %s: %d feature rows (%s) but %d predictions (%s)"
                    % (relative, len(features), features_path, len(predictions), predictions_path),
                    fix="join the batch transform output of exactly this input part (one line per row)",
                )
            if predictions_out is None:
                path = stage.path(outputs["predictions"])
                predictions_out = files.enter_context(open(path, "w", encoding="utf-8", newline="\n"))
            target = os.path.join(outputs["data_quality"], *relative.split("/"))
            stage.write_csv(target, features[list(schema.feature_names)], header=True)
            predictions.to_csv(predictions_out, header=False, index=False)
            rows += len(features)
            del features, predictions
    logger.info(
        "joined %d rows of %d part(s) of %s and %s", rows, len(pairs), features_location, predictions_location
    )
    return outputs


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Join inference features with batch transform predictions.")
    parser.add_argument("--features", default="/opt/ml/processing/input/features")
    parser.add_argument("--predictions", default="/opt/ml/processing/input/predictions")
    parser.add_argument("--output", default="/opt/ml/processing/output")
    dataset.add_argument(parser)
    args = parser.parse_args(argv)
    datafiles.configure_logging()
    try:
        join(args.features, args.predictions, args.output, dataset.load(args.dataset))
    except StepError as error:
        return datafiles.report_error(error)
    return datafiles.EXIT_OK


if __name__ == "__main__":
    step_io.exit_process(main())
