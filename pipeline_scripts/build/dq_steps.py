"""The builtin engine's data-quality steps (``scripts/data_quality.py``): one step, or shards and a merge.

``processing.instance_count`` = 1 (pipelines.yaml): one step, ``DataQualityBaseline`` (training, HPO) or
``DataQualityCheck`` (inference), reads the data set and writes the outputs.

``processing.instance_count`` = N > 1: first ``DataQualityBaselineShards`` / ``DataQualityCheckShards``
on N instances. Its data input is ``ShardedByS3Key``: SageMaker gives each instance about 1/N of the
objects under the input prefix (a prefix of many CSV parts is what spreads the work; a single file goes
whole to one instance, and an instance that gets nothing writes an empty state). Each instance streams its
share into a mergeable state and writes it with ``--partial-output`` under ``<partials output>/<host>/``
(output ``partials_data_quality_baseline`` / ``partials_data_quality_check``).
Then the step of the usual name runs ``data_quality.py merge`` on one instance: it reads every partial
state and writes exactly the files the one step writes (statistics.json, constraints.json,
constraint_violations.json, drift_metrics.json, summary.json, report.html) to the same output. So the
registry's baseline URIs, property files, event rules and ``custom_notification_config`` (which name
the merging step) and ``--fail-on-violations`` (passed to the merge) work unchanged.

Step names: contracts.json (``steps``, and ``shards``: which step gets a shard step). The
``model_monitor`` engine (QualityCheckStep, pipeline_scripts/build/model_monitor.py) is not sharded
here: Model Monitor's analyzer is one job whatever its instance count.
"""

from __future__ import annotations

from typing import Any

from pipeline_scripts.build import steps
from pipeline_scripts.build.sdk import ProcessingStep
from pipeline_scripts.build.steps import BuildContext
from pipeline_scripts.config.contracts import load as load_contracts

P = steps.PROCESSING
SCRIPT = "data_quality.py"
RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"  # SageMaker writes it on every instance
# An instance's share of the data; not under input/, where the code and lib inputs go: a share may be
# empty, and the script must then see an empty folder.
SHARD = f"{P}/data"

_CONTRACTS = load_contracts()
BASELINE_SHARDS = _CONTRACTS.shards[steps.DATA_QUALITY_BASELINE]
CHECK_SHARDS = _CONTRACTS.shards[steps.DATA_QUALITY_CHECK]


def shard_count(ctx: BuildContext) -> int:
    """How many instances the data-quality steps shard over (1: not sharded)."""
    count: int = ctx.config.pipelines.processing.instance_count
    return count


def baseline_parts_arguments(ctx: BuildContext) -> list[str]:
    """``preprocess.py fit``'s arguments for the baseline data: one part per instance when the baseline
    is sharded (ShardedByS3Key distributes objects, so one file would go whole to one instance)."""
    builtin = ctx.config.pipelines.inference.data_quality_engine == "builtin"
    return ["--baseline-parts", str(shard_count(ctx))] if builtin and shard_count(ctx) > 1 else []


def baseline_steps(ctx: BuildContext, dataset: Any) -> list[ProcessingStep]:
    """Statistics and constraints of ``dataset`` (a CSV with a header, or a prefix of such parts) in the
    output ``data_quality_baseline``; the last step returned writes them."""
    output = steps.output(ctx, "data_quality_baseline", "output")
    if shard_count(ctx) == 1:
        return [
            steps.script_step(
                ctx,
                steps.DATA_QUALITY_BASELINE,
                SCRIPT,
                inputs=[steps.processing_input("baseline_dataset", dataset, f"{P}/input")],
                outputs=[output],
                arguments=["baseline", "--input", f"{P}/input", "--output", f"{P}/output", "--header"],
            )
        ]
    shards = _shards(
        ctx,
        BASELINE_SHARDS,
        "baseline",
        steps.processing_input("baseline_dataset", dataset, SHARD, sharded=True),
        arguments=["baseline", "--input", SHARD, "--header"],
    )
    merge = _merge(ctx, steps.DATA_QUALITY_BASELINE, "baseline", shards, output, arguments=[])
    return [shards, merge]


def check_steps(ctx: BuildContext, dataset: Any, statistics: Any, constraints: Any) -> list[ProcessingStep]:
    """``dataset`` (a CSV with a header, or a prefix of such parts) against the baseline files: the
    violations and the batch's statistics in the output ``data_quality``; the last step writes them."""
    output = steps.output(ctx, "data_quality", "output")
    baseline_inputs = [
        steps.processing_input("statistics", statistics, f"{P}/baseline/statistics"),
        steps.processing_input("constraints", constraints, f"{P}/baseline/constraints"),
    ]
    baseline_arguments = [
        "--baseline-statistics",
        f"{P}/baseline/statistics",
        "--baseline-constraints",
        f"{P}/baseline/constraints",
    ]
    fail = ["--fail-on-violations"] if ctx.config.pipelines.inference.fail_on_data_quality_violations else []
    if shard_count(ctx) == 1:
        return [
            steps.script_step(
                ctx,
                steps.DATA_QUALITY_CHECK,
                SCRIPT,
                inputs=[steps.processing_input("dataset", dataset, f"{P}/input"), *baseline_inputs],
                outputs=[output],
                arguments=[
                    "check",
                    "--input",
                    f"{P}/input",
                    *baseline_arguments,
                    "--output",
                    f"{P}/output",
                    "--header",
                    *fail,
                ],
            )
        ]
    shards = _shards(
        ctx,
        CHECK_SHARDS,
        "check",
        steps.processing_input("dataset", dataset, SHARD, sharded=True),
        arguments=["check", "--input", SHARD, "--header", *baseline_arguments],
        extra_inputs=baseline_inputs,
    )
    merge = _merge(
        ctx,
        steps.DATA_QUALITY_CHECK,
        "check",
        shards,
        output,
        arguments=[*baseline_arguments, *fail],
        extra_inputs=baseline_inputs,
    )
    return [shards, merge]


def _partials_output(kind: str) -> str:
    """``partials_data_quality_<kind>``: not ``data_quality…_partials``, whose S3 URI would share its
    start with the ``data_quality`` / ``data_quality_baseline`` outputs (a listing or sync of those
    prefixes, which have no trailing slash, would pick the partial states up)."""
    return f"partials_data_quality_{kind}"


def _shards(
    ctx: BuildContext,
    name: str,
    kind: str,
    data: Any,
    *,
    arguments: list[str],
    extra_inputs: list[Any] | None = None,
) -> ProcessingStep:
    """Every instance: its share of ``data`` → ``<partials>/<host>/dq_partial.json``."""
    return steps.script_step(
        ctx,
        name,
        SCRIPT,
        inputs=[data, *(extra_inputs or [])],
        outputs=[steps.output(ctx, _partials_output(kind), "partial")],
        arguments=[*arguments, "--partial-output", f"{P}/partial", "--resource-config", RESOURCE_CONFIG],
        resources=ctx.config.pipelines.processing,
    )


def _merge(
    ctx: BuildContext,
    name: str,
    kind: str,
    shards: ProcessingStep,
    output: Any,
    *,
    arguments: list[str],
    extra_inputs: list[Any] | None = None,
) -> ProcessingStep:
    """One instance: every shard's partial state → the outputs the one step writes."""
    partials = steps.output_uri(shards, _partials_output(kind))
    return steps.script_step(
        ctx,
        name,
        SCRIPT,
        inputs=[steps.processing_input("partials", partials, f"{P}/partials"), *(extra_inputs or [])],
        outputs=[output],
        arguments=["merge", "--input", f"{P}/partials", "--output", f"{P}/output", *arguments],
    )
