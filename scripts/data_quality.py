"""Data-quality baseline and check that speak SageMaker Model Monitor's file formats.

Runs inside a SageMaker Processing job (SKLearn framework container: Python 3.8+, numpy, pandas) and,
unchanged, in local mode. pyarrow is used for fast CSV reading when it is installed; otherwise pandas.

Command line (the contract the pipeline builders wire to)::

    python3 data_quality.py baseline --input DIR_OR_CSV --output DIR [--header|--no-header]
    python3 data_quality.py check --input DIR_OR_CSV --baseline-statistics FILE_OR_DIR \
        --baseline-constraints FILE_OR_DIR --output DIR [--header|--no-header] [--fail-on-violations]

``--input`` is a CSV file or a directory of CSV parts (``.csv``, ``.csv.gz``; every part with the same
header rule and columns), read as one data set in chunks: memory does not grow with the rows. The
baseline files are a file or a directory holding ``statistics.json`` / ``constraints.json``. Headerless
CSVs name their columns ``_c0 … _cN`` as Model Monitor does.

Sharding: with ``--partial-output DIR`` each instance writes its shard's mergeable state to
``DIR/<host>/dq_partial.json`` (host from /opt/ml/config/resourceconfig.json) and ``data_quality.py merge
--input DIR --output OUT [--baseline-statistics … --baseline-constraints …]`` writes the outputs one
instance would have written on all the data (equal within the KLL sketch's error, and the category
sketch's past 10,000 distinct values: dq_counts). A shard's input may be empty (no file: SageMaker gives
an instance no object when there are fewer than instances; blank parts; only a header): it writes an
empty state, and ``merge`` fails only when every shard was empty. A column Integral in one shard and
Fractional in another merges as one instance infers it; numbers in one shard and text in another merges
as text, as one instance reads it (a shard keeps its numbers' text as written, for that). A partial
state of another version than this script's (``STATE_VERSION``) is an error (exit 2).

Outputs (written to temporary names and renamed into ``--output`` only when everything succeeded):

- baseline: ``statistics.json``, ``constraints.json``, ``report.html``
- check: ``constraint_violations.json``, ``statistics.json`` (of the current data), ``drift_metrics.json``,
  ``summary.json``, ``report.html``

Layouts follow the Model Monitor documentation ("Schema for Statistics (statistics.json file)",
"Schema for Constraints (constraints.json file)", "Schema for Violations (constraint_violations.json
file)", docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-{statistics,constraints}.html and
model-monitor-interpreting-violations.html). Extensions, all additive:

- ``statistics.json`` and ``constraints.json`` are Model Monitor's layout exactly: ``kll.sketch`` is Deequ's
  KLL sketch of the data values (dq_kll; c = 0.64, k = 2048.0); a baseline's older ``x_histogram`` is
  still read. Violation descriptions are Model Monitor's sentences (Java number formatting); details
  go to ``drift_metrics.json`` and the report.
- ``drift_metrics.json``: ``{"version": 0, "metrics": [{"name": "feature_baseline_drift_<feature>",
  "feature_name", "value", "threshold", "method", "raw_distance", "violation", "baseline_cdf"}]}``;
  ``value`` is the number compared with ``threshold`` (violation when value > threshold).
- ``summary.json``: ``{"violation_count", "violations_by_type": {<all six types>: n}, "item_count",
  "baseline_item_count", "features_checked", "drifted_features"}`` for a ConditionStep / JsonGet.

Semantics (Deequ, the library behind Model Monitor's analyzer, ``analyzers/Distance.scala``):

- Numeric drift = L-infinity distance between the baseline and current CDFs (the two-sample KS statistic).
  ``Simple`` compares it raw; ``Robust`` (the default) subtracts ``1.8 * sqrt((n + m) / (n * m))`` first
  (Deequ's default c(alpha), alpha = 0.003) and floors at 0, so small batches do not drift by chance.
- Categorical drift: ``LInfinity`` = L-infinity distance between category frequencies (Simple/Robust as
  above); ``ChiSquared`` = Pearson's goodness-of-fit test of the current counts against the baseline
  proportions (Deequ's regrouping of small categories); a violation when the p-value is below
  ``categorical_comparison_threshold``. Reported as value = 1 - p against threshold = 1 - that threshold,
  so "value > threshold" holds for every metric.
- ``datatype_check_threshold`` / ``domain_content_threshold``: the minimum fraction of present values
  that must have the baseline type / lie in the baseline domain (Model Monitor writes 1.0 and reports
  "Expected match: 100.0%"). Integral-valued numbers count as Integral, numbers count as Fractional, and
  anything is a valid String.
- ``completeness``: fraction of non-missing values; a violation when the current one is lower.
- ``is_non_negative``: negative values where the baseline had none are reported as ``data_type_check``
  (Model Monitor has no separate violation type for it).

Errors in the inputs raise :class:`DataQualityError` (dq_errors); ``main`` prints one line
``ERROR: <what> (<file>, row N / column C). Fix: <how>`` and exits 2. Rows are 1-based file lines as the
CSV reader counts them (the header is row 1). Violations are results, not errors: exit 0, or 3 with
``--fail-on-violations``.

This module is the command line and its two commands; the work is done by sibling modules, shipped
beside it (flat, on PYTHONPATH in the jobs): ``dq_read`` (the input CSV), ``dq_profile`` (column
profiles), ``dq_distance`` (drift distances), ``dq_baseline`` (statistics.json and constraints.json,
built and read back), ``dq_check`` (the check), ``dq_outputs`` (writing the outputs, the report's
payload), ``dq_report`` (the HTML report) and ``dq_errors``, on the ``step_io`` the step scripts share.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from typing import Any, Dict, List, Optional, Sequence

import step_io
from dq_baseline import (
    CATEGORICAL_DRIFT_METHODS,
    COMPARISON_METHODS,
    build_baseline,
    load_json_file,
    monitoring_config,
    resolve_baseline_file,
)
from dq_check import check_table, prepare_check
from dq_chunks import BLOCK_BYTES, read_state
from dq_errors import DataQualityError, InputDataError, InputNotFoundError
from dq_outputs import (
    CONSTRAINTS_FILE,
    DRIFT_METRICS_FILE,
    STATISTICS_FILE,
    SUMMARY_FILE,
    VIOLATIONS_FILE,
    baseline_payload,
    output_stage,
    write_report,
)
from dq_state import STATE_VERSION, DatasetState
from step_io import report_error

PARTIAL_FILE = "dq_partial.json"

# --------------------------------------------------------------------------------------------- commands


class RunResult:
    """What a command did, for the one-line summary on stdout."""

    def __init__(self, kind: str, files: List[str], message: str, violations: int = 0) -> None:
        self.kind = kind
        self.files = files
        self.message = message
        self.violations = violations


def run_baseline(
    input_path: str,
    output_dir: str,
    *,
    header: bool = False,
    config: Optional[Dict[str, Any]] = None,
    report: bool = True,
    engine: str = "auto",
    partial_output: Optional[str] = None,
    block_bytes: int = BLOCK_BYTES,
    resource_config: str = "",
) -> RunResult:
    """Baseline a dataset: statistics.json, constraints.json (and report.html) in ``output_dir``; with
    ``partial_output``, this shard's state in ``partial_output/<host>/`` instead (for ``merge``)."""
    shard = bool(partial_output)
    state = read_state(input_path, header, engine, block_bytes=block_bytes, shard=shard)
    config = config if config is not None else monitoring_config()
    if partial_output:
        extra = {"monitoring_config": config}
        return write_partial(partial_output, "baseline", state, extra, resource_config)
    return finish_baseline(state, config, output_dir, report)


def finish_baseline(state: DatasetState, config: Dict[str, Any], output_dir: str, report: bool) -> RunResult:
    statistics, constraints, profiles = build_baseline(state, config)
    with output_stage(output_dir) as outputs:
        outputs.write_json(os.path.join(output_dir, STATISTICS_FILE), statistics, compact=True)
        outputs.write_json(os.path.join(output_dir, CONSTRAINTS_FILE), constraints)
        if report:
            payload = baseline_payload(state, statistics, constraints, profiles)
            write_report(outputs, output_dir, "baseline", payload)
        files = outputs.commit()
    message = f"baseline of {state.n_rows} rows, {len(profiles)} features ({state.path}) -> {output_dir}"
    return RunResult("baseline", files, message)


class Baseline:
    """The baseline a check compares against: its two files, parsed."""

    def __init__(self, statistics_path: str, constraints_path: str) -> None:
        self.statistics_file = resolve_baseline_file(statistics_path, STATISTICS_FILE)
        self.constraints_file = resolve_baseline_file(constraints_path, CONSTRAINTS_FILE)
        self.statistics = load_json_file(self.statistics_file, "baseline statistics")
        self.constraints = load_json_file(self.constraints_file, "baseline constraints")
        self.prepared = prepare_check(
            self.statistics, self.constraints, self.statistics_file, self.constraints_file
        )


def run_check(
    input_path: str,
    statistics_path: str,
    constraints_path: str,
    output_dir: str,
    *,
    header: bool = False,
    report: bool = True,
    engine: str = "auto",
    partial_output: Optional[str] = None,
    block_bytes: int = BLOCK_BYTES,
    resource_config: str = "",
) -> RunResult:
    """Check a dataset against a baseline; writes the five outputs to ``output_dir`` (or, with
    ``partial_output``, this shard's state to ``partial_output/<host>/``)."""
    baseline = Baseline(statistics_path, constraints_path)
    state = read_state(
        input_path,
        header,
        engine,
        needs=baseline.prepared[2],
        block_bytes=block_bytes,
        shard=bool(partial_output),
    )
    if partial_output:
        return write_partial(partial_output, "check", state, {}, resource_config)
    return finish_check(state, baseline, output_dir, report)


def finish_check(state: DatasetState, baseline: Baseline, output_dir: str, report: bool) -> RunResult:
    outcome = check_table(
        state,
        baseline.statistics,
        baseline.constraints,
        baseline.statistics_file,
        baseline.constraints_file,
        prepared=baseline.prepared,
    )
    with output_stage(output_dir) as outputs:
        outputs.write_json(os.path.join(output_dir, VIOLATIONS_FILE), {"violations": outcome.violations})
        outputs.write_json(os.path.join(output_dir, STATISTICS_FILE), outcome.statistics, compact=True)
        outputs.write_json(os.path.join(output_dir, DRIFT_METRICS_FILE), outcome.drift_metrics)
        outputs.write_json(os.path.join(output_dir, SUMMARY_FILE), outcome.summary)
        if report:
            write_report(
                outputs,
                output_dir,
                "check",
                {
                    "input": state.path,
                    "baseline_statistics": baseline.statistics_file,
                    "baseline_constraints": baseline.constraints_file,
                    "summary": outcome.summary,
                    "violations": outcome.violations,
                    "features": outcome.features,
                },
            )
        files = outputs.commit()
    by_type = ", ".join(f"{k}: {v}" for k, v in outcome.summary["violations_by_type"].items() if v)
    message = f"check of {state.n_rows} rows: {len(outcome.violations)} violations" + (
        f" ({by_type})" if by_type else ""
    )
    return RunResult("check", files, message + f" -> {output_dir}", len(outcome.violations))


# --------------------------------------------------------------------------------------------- shards


def current_host(resource_config: str) -> str:
    """This instance's name in a multi-instance job (``algo-1`` …; SageMaker's resourceconfig.json)."""
    if not resource_config:
        return "algo-1"
    try:
        with open(resource_config, encoding="utf-8") as fh:
            host = json.load(fh).get("current_host")
    except (OSError, ValueError, AttributeError):
        return "algo-1"
    return str(host) if isinstance(host, str) and host and "/" not in host else "algo-1"


def write_partial(
    directory: str, kind: str, state: DatasetState, extra: Dict[str, Any], resource_config: str
) -> RunResult:
    """This shard's state as ``directory/<host>/dq_partial.json`` (one folder per host: no name clashes
    when every host's output is uploaded under the same S3 prefix)."""
    folder = os.path.join(directory, current_host(resource_config))
    document = {"version": STATE_VERSION, "kind": kind, "state": state.to_dict(), **extra}
    with output_stage(folder) as outputs:
        outputs.write_json(os.path.join(folder, PARTIAL_FILE), document, compact=True)
        files = outputs.commit()
    message = f"partial {kind} state of {state.n_rows} rows ({state.path}) -> {folder}"
    return RunResult("partial", files, message)


def partial_files(directory: str) -> List[str]:
    found = []
    for folder, directories, names in os.walk(directory):
        directories.sort()
        found += [os.path.join(folder, n) for n in sorted(names) if n == PARTIAL_FILE]
    if not found:
        raise InputNotFoundError(
            f"no {PARTIAL_FILE} under the input directory",
            file=directory,
            fix="pass the folder the shards wrote with --partial-output (every host's sub-folder)",
        )
    return found


def run_merge(
    input_dir: str,
    output_dir: str,
    *,
    statistics_path: Optional[str] = None,
    constraints_path: Optional[str] = None,
    report: bool = True,
) -> RunResult:
    """Merge the shards' partial states into the outputs one instance would have written."""
    documents = []
    for path in partial_files(input_dir):
        document = load_json_file_any(path)
        version = document.get("version")
        if version != STATE_VERSION:
            raise InputDataError(
                f"a partial state of version {version!r}; this data_quality.py reads version {STATE_VERSION}",
                file=path,
                fix="run the shards and the merge with the same data_quality.py (re-run the shards)",
            )
        if document.get("kind") not in ("baseline", "check"):
            raise InputDataError(
                "not a partial state written by data_quality.py (no baseline or check kind)",
                file=path,
                fix="merge the partial states of one sharded run",
            )
        documents.append((path, document))
    kinds = {document["kind"] for _, document in documents}
    if len(kinds) > 1:
        raise InputDataError(
            "the partial states mix baseline and check runs",
            file=input_dir,
            fix="merge the partial states of one sharded run",
        )
    baseline = None
    if "check" in kinds:
        if not (statistics_path and constraints_path):
            raise InputNotFoundError(
                "merging a check needs its baseline",
                file=input_dir,
                fix="pass --baseline-statistics and --baseline-constraints (those the check shards used)",
            )
        baseline = Baseline(statistics_path, constraints_path)
    needs = baseline.prepared[2] if baseline is not None else None
    merged: Optional[DatasetState] = None
    for path, document in documents:
        state = DatasetState.from_dict(document["state"], *([needs] if needs else []))
        merged = state if merged is None else merged.merge(state, path)
    assert merged is not None  # noqa: S101 (partial_files found at least one)
    if merged.n_rows == 0:
        raise InputDataError(
            "no shard had data rows (every share of the input was empty, blank or only a header)",
            file=input_dir,
            fix="pass a data set with at least one data row",
        )
    if baseline is not None:
        return finish_check(merged, baseline, output_dir, report)
    return finish_baseline(
        merged, documents[0][1].get("monitoring_config") or monitoring_config(), output_dir, report
    )


def load_json_file_any(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise InputDataError(
            f"cannot read the partial state: {exc}", file=path, fix="re-run the shard"
        ) from exc
    if not isinstance(data, dict):
        raise InputDataError("the partial state is not a JSON object", file=path, fix="re-run the shard")
    return data


# ----------------------------------------------------------------------------------------------- CLI


def _fraction(text: str) -> float:
    value = _non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction between 0 and 1")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a non-negative number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="data_quality.py",
        description="Data-quality baseline and check in SageMaker Model Monitor's formats.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{baseline,check,merge}")
    commands.required = True

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--input",
            default="/opt/ml/processing/input",
            help="CSV file, or a directory of CSV parts (.csv, .csv.gz)",
        )
        sub.add_argument("--output", default="/opt/ml/processing/output", help="directory for the outputs")
        group = sub.add_mutually_exclusive_group()
        group.add_argument(
            "--header", dest="header", action="store_true", help="the first row names the columns"
        )
        group.add_argument(
            "--no-header",
            dest="header",
            action="store_false",
            help="no header row: columns _c0.._cN (default)",
        )
        sub.set_defaults(header=False)
        sub.add_argument("--no-report", dest="report", action="store_false", help="skip report.html")
        sub.add_argument(
            "--csv-engine", choices=("auto", "arrow", "pandas"), default="auto", help=argparse.SUPPRESS
        )
        sub.add_argument(
            "--partial-output",
            default=None,
            help="write this shard's partial state to DIR/<host>/ (combine with merge) instead of --output",
        )
        sub.add_argument(
            "--resource-config", default="/opt/ml/config/resourceconfig.json", help=argparse.SUPPRESS
        )

    baseline = commands.add_parser(
        "baseline", help="write statistics.json and constraints.json for a dataset"
    )
    common(baseline)
    baseline.add_argument(
        "--comparison-threshold",
        type=_non_negative,
        default=0.1,
        help="numeric drift threshold (default 0.1)",
    )
    baseline.add_argument("--comparison-method", choices=COMPARISON_METHODS, default="Robust")
    baseline.add_argument("--categorical-comparison-threshold", type=_non_negative, default=0.1)
    baseline.add_argument(
        "--categorical-drift-method", choices=CATEGORICAL_DRIFT_METHODS, default="LInfinity"
    )
    baseline.add_argument(
        "--datatype-check-threshold", type=_fraction, default=1.0, help="required type match (default 1.0)"
    )
    baseline.add_argument(
        "--domain-content-threshold", type=_fraction, default=1.0, help="required domain match (default 1.0)"
    )

    check = commands.add_parser("check", help="check a dataset against a baseline")
    common(check)
    check.add_argument(
        "--baseline-statistics", default="/opt/ml/processing/baseline/statistics", help="file or directory"
    )
    check.add_argument(
        "--baseline-constraints", default="/opt/ml/processing/baseline/constraints", help="file or directory"
    )
    fail_on_violations(check)

    merge = commands.add_parser("merge", help="combine the shards' partial states into the outputs")
    merge.add_argument(
        "--input", default="/opt/ml/processing/input", help="folder of the shards' --partial-output"
    )
    merge.add_argument("--output", default="/opt/ml/processing/output", help="directory for the outputs")
    merge.add_argument("--no-report", dest="report", action="store_false", help="skip report.html")
    merge.add_argument("--baseline-statistics", default=None, help="(a check) the shards' baseline")
    merge.add_argument("--baseline-constraints", default=None, help="(a check) the shards' baseline")
    fail_on_violations(merge)
    return parser


def fail_on_violations(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--fail-on-violations", action="store_true", help="exit 3 when there are violations (default: exit 0)"
    )


def _run(args: argparse.Namespace) -> RunResult:
    if args.command == "merge":
        return run_merge(
            args.input,
            args.output,
            statistics_path=args.baseline_statistics,
            constraints_path=args.baseline_constraints,
            report=args.report,
        )
    if args.command == "baseline":
        config = monitoring_config(
            comparison_threshold=args.comparison_threshold,
            comparison_method=args.comparison_method,
            categorical_comparison_threshold=args.categorical_comparison_threshold,
            categorical_drift_method=args.categorical_drift_method,
            datatype_check_threshold=args.datatype_check_threshold,
            domain_content_threshold=args.domain_content_threshold,
        )
        return run_baseline(args.input, args.output, config=config, **_reading(args))
    return run_check(
        args.input, args.baseline_statistics, args.baseline_constraints, args.output, **_reading(args)
    )


def _reading(args: argparse.Namespace) -> Dict[str, Any]:
    """The options baseline and check share."""
    return {
        "header": args.header,
        "report": args.report,
        "engine": args.csv_engine,
        "partial_output": args.partial_output,
        "resource_config": args.resource_config,
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        result = _run(args)
    except DataQualityError as exc:
        return report_error(exc)
    print(result.message)
    if result.kind == "check" and args.fail_on_violations and result.violations:
        return 3
    return 0


if __name__ == "__main__":
    step_io.exit_process(main())
