"""Join step: line up the scored batch with its predictions.

    python3 join.py --features DIR --predictions DIR --output DIR

- ``--features`` (default ``/opt/ml/processing/input/features``): the validated ``inference-data.csv``
  (headerless features) that batch transform scored
- ``--predictions`` (default ``/opt/ml/processing/input/predictions``): batch transform's output, a file
  named ``<input>.out`` with one line per row in input order (serve.py: the prediction, or the predicted
  label and the class probabilities)
- ``--dataset``: the schema (default: ``dataset.json`` beside this script)
- ``--output`` (default ``/opt/ml/processing/output``) receives:

  - ``data-quality-input.csv``: WITH a header, the features, so its columns line up with the training
    baseline (``baseline.csv``, features only: model quality judges the predictions)
  - ``predictions.csv``: headerless, the prediction columns (the model-quality step's input)

A different number of feature rows and predictions is an error naming both counts.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Dict, List, Optional

import datafiles
import dataset
import step_io
from datafiles import DataError, StepError
from dataset import Dataset

logger = logging.getLogger(__name__)

DATA_QUALITY_FILE = "data-quality-input.csv"
PREDICTIONS_FILE = "predictions.csv"


def find_predictions_file(predictions_location: str, features_path: str) -> str:
    """``<features file name>.out`` when present, else the single ``*.out`` file."""
    return datafiles.find_single_file(
        predictions_location, (".out",), preferred=os.path.basename(features_path) + ".out"
    )


def join(
    features_location: str, predictions_location: str, output_dir: str, schema: Dataset
) -> Dict[str, str]:
    """Write data-quality-input.csv and predictions.csv; returns them by role."""
    features_path = datafiles.find_single_csv(features_location, preferred=datafiles.INFERENCE_FILE)
    predictions_path = find_predictions_file(predictions_location, features_path)
    features = datafiles.read_features_csv(features_path, schema)
    predictions = datafiles.read_predictions_csv(predictions_path, schema)
    if len(features) != len(predictions):
        raise DataError(
            "%d feature rows (%s) but %d predictions (%s)"
            % (len(features), features_path, len(predictions), predictions_path),
            fix="join the batch transform output of exactly this input file (one line per row)",
        )
    joined = features[list(schema.feature_names)]
    outputs = {
        "data_quality": os.path.join(output_dir, DATA_QUALITY_FILE),
        "predictions": os.path.join(output_dir, PREDICTIONS_FILE),
    }
    with datafiles.staged_outputs() as stage:
        stage.write_csv(outputs["data_quality"], joined, header=True)
        stage.write_csv(outputs["predictions"], predictions, header=False)
    logger.info("joined %d rows of %s and %s", len(joined), features_path, predictions_path)
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
