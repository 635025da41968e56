"""The data-quality outputs: the files in ``--output``, written all together or not at all, and the
HTML report with its payload.
"""

# zip(strict=...) needs Python 3.10; these scripts run on the containers' Python 3.8.
# ruff: noqa: B905
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, Dict, Iterator, List, Union

from dq_errors import OutputError
from dq_profile import FeatureProfile
from dq_read import Table
from dq_state import DatasetState
from step_io import StagedOutputs, staged_outputs

try:  # sibling module in scripts/ (on PYTHONPATH in the jobs); the check still runs without it
    import dq_report
except ImportError:  # pragma: no cover
    dq_report = None

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
DRIFT_METRICS_FILE = "drift_metrics.json"
SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"


@contextlib.contextmanager
def output_stage(out_dir: str) -> Iterator[StagedOutputs]:
    """Outputs staged in ``out_dir`` (made if need be): they appear only if the block completes.

    On error nothing new appears, files already in ``out_dir`` are left as they were, and a directory made
    here is removed again. A directory that cannot be written is an OutputError before the block runs.
    """
    made = False
    try:
        if not os.path.isdir(out_dir):
            os.makedirs(out_dir)
            made = True
        # Can files be made there? An OSError now is about --output, not a write that failed midway.
        os.rmdir(tempfile.mkdtemp(prefix=".dq-tmp-", dir=out_dir))
    except OSError as exc:
        raise OutputError(
            f"output directory cannot be written: {exc.strerror}",
            file=out_dir,
            fix="pass a writable --output",
        ) from exc
    try:
        with staged_outputs() as stage:
            yield stage
    except BaseException:
        if made:
            with contextlib.suppress(OSError):  # not empty after all: leave it
                os.rmdir(out_dir)
        raise


def write_report(outputs: StagedOutputs, output_dir: str, kind: str, payload: Dict[str, Any]) -> None:
    """report.html of a ``kind`` ("baseline" or "check") run, staged with the other outputs."""
    path = outputs.path(os.path.join(output_dir, REPORT_FILE))
    if dq_report is None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(
                "<!doctype html><meta charset='utf-8'><title>data quality</title>"
                "<p>The report module (dq_report.py) was not shipped with this script; "
                "see the JSON files.</p>\n"
            )
        return
    if kind == "baseline":
        dq_report.write_baseline_report(payload, path)
    else:
        dq_report.write_check_report(payload, path)


def baseline_payload(
    table: Union[Table, DatasetState],
    statistics: Dict[str, Any],
    constraints: Dict[str, Any],
    profiles: List[FeatureProfile],
) -> Dict[str, Any]:
    features = []
    for profile, constraint in zip(profiles, constraints["features"]):
        item: Dict[str, Any] = {
            "name": profile.name,
            "type": profile.inferred_type,
            "present": profile.num_present,
            "missing": profile.num_missing,
            "constraint": constraint,
        }
        if profile.numeric is not None and profile.numeric.num_present:
            s = profile.numeric
            item.update(
                {
                    "mean": s.mean,
                    "std": s.std,
                    "min": s.min,
                    "max": s.max,
                    "hist": (s.representatives(), s.counts),
                }
            )
        else:
            item["distinct"] = profile.distinct()
            item["categories"] = list(zip(profile.categories[:20], profile.category_counts[:20].tolist()))
        features.append(item)
    return {
        "input": table.path,
        "item_count": table.n_rows,
        "features": features,
        "monitoring_config": constraints["monitoring_config"],
    }
