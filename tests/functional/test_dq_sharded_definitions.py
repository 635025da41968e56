"""processing.instance_count > 1: the builtin data-quality steps become shards (ShardedByS3Key, partial
states) and a one-instance merge of the usual name, output and files (pipeline_scripts/build/dq_steps.py).
With one instance the definitions are the golden copies (tests/functional/test_definitions.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline_scripts.build import dq_steps, steps
from pipeline_scripts.build.definitions import BuiltPipeline, build_all
from pipeline_scripts.build.validate import iter_steps, validate_definition
from pipeline_scripts.config import load_config
from pipeline_scripts.config.contracts import load as load_contracts
from tests.functional.test_definitions import approved_for, normalise, refs, step_map

CONTRACTS = load_contracts()
P = steps.PROCESSING


def build(**overrides: str) -> dict[str, BuiltPipeline]:
    config = load_config("local", environ={}, overrides=overrides)
    return {b.kind: b for b in build_all(config, approved_for(config))}


@pytest.fixture(scope="module")
def single() -> dict[str, BuiltPipeline]:
    return build()


@pytest.fixture(scope="module")
def sharded() -> dict[str, BuiltPipeline]:
    return build(**{"processing.instance_count": "3"})


def same_but_instances(step: dict[str, Any]) -> str:
    """A step without its instance count (shards run on processing.instance_count, the rest on one)."""

    def drop(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: drop(v) for k, v in node.items() if not (k == "InstanceCount" and "VolumeSizeInGB" in node)
            }
        return [drop(item) for item in node] if isinstance(node, list) else node

    return normalise(drop(step))


def inputs(step: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["InputName"]: i["S3Input"] for i in step["Arguments"]["ProcessingInputs"]}


def outputs(step: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["OutputName"]: o["S3Output"] for o in step["Arguments"]["ProcessingOutputConfig"]["Outputs"]}


def instances(step: dict[str, Any]) -> int:
    return int(step["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"])


def arguments(step: dict[str, Any]) -> list[str]:
    return list(step["Arguments"]["AppSpecification"]["ContainerArguments"])


@pytest.mark.parametrize("kind", ["training", "hpo", "inference"])
def test_sharded_definitions_have_the_contracts_steps_and_validate(
    sharded: dict[str, BuiltPipeline], kind: str
) -> None:
    built = sharded[kind]
    names = [step["Name"] for step in iter_steps(built.definition["Steps"])]
    assert names == list(CONTRACTS.sharded_pipeline(kind))
    assert validate_definition(built.definition, len(built.definition_json)) == []


def test_one_instance_explicitly_is_the_golden_definition(single: dict[str, BuiltPipeline]) -> None:
    explicit = build(**{"processing.instance_count": "1"})
    for kind, built in single.items():
        assert explicit[kind].definition_json == built.definition_json
        assert not {dq_steps.BASELINE_SHARDS, dq_steps.CHECK_SHARDS} & set(step_map(built))


@pytest.mark.parametrize("kind", ["training", "hpo", "inference"])
def test_only_the_shard_steps_run_on_several_instances(
    single: dict[str, BuiltPipeline], sharded: dict[str, BuiltPipeline], kind: str
) -> None:
    """The step scripts are single-process programs: N copies would do the same work N times and write
    the same outputs over each other. Only the shards use processing.instance_count; every other
    processing step, and the merge, is the one-instance step it was."""
    shard_names = {dq_steps.BASELINE_SHARDS, dq_steps.CHECK_SHARDS}
    one = step_map(single[kind])
    for name, step in step_map(sharded[kind]).items():
        if step["Type"] != "Processing":
            continue
        assert instances(step) == (3 if name in shard_names else 1), name
        if name == steps.PREPROCESS:  # it writes the baseline data in one part per shard
            assert arguments(step) == [*arguments(one[name]), "--baseline-parts", "3"]
        elif name in one and name not in (steps.DATA_QUALITY_BASELINE, steps.DATA_QUALITY_CHECK):
            assert normalise(step) == normalise(one[name]), name


@pytest.mark.parametrize("kind", ["training", "hpo"])
def test_the_baseline_shards_then_merges_to_the_same_output(
    single: dict[str, BuiltPipeline], sharded: dict[str, BuiltPipeline], kind: str
) -> None:
    one, many = step_map(single[kind]), step_map(sharded[kind])
    shards, merge = many[dq_steps.BASELINE_SHARDS], many[steps.DATA_QUALITY_BASELINE]
    # The shards: every instance, its share of the preprocessed baseline data, a partial state per host.
    assert instances(shards) == 3
    data = inputs(shards)["baseline_dataset"]
    assert data["S3DataDistributionType"] == "ShardedByS3Key"
    assert data["S3Uri"] == inputs(one[steps.DATA_QUALITY_BASELINE])["baseline_dataset"]["S3Uri"]
    assert data["LocalPath"] == dq_steps.SHARD
    assert {i["S3DataDistributionType"] for n, i in inputs(shards).items() if n != "baseline_dataset"} == {
        "FullyReplicated"
    }
    assert arguments(shards) == [
        "baseline",
        "--input",
        dq_steps.SHARD,
        "--header",
        "--partial-output",
        f"{P}/partial",
        "--resource-config",
        "/opt/ml/config/resourceconfig.json",
    ]
    assert list(outputs(shards)) == ["partials_data_quality_baseline"]
    # The merge: one instance, every partial state, the single step's output (same name, same S3 URI).
    assert instances(merge) == 1
    assert inputs(merge)["partials"]["S3Uri"] == {
        "Get": f"Steps.{dq_steps.BASELINE_SHARDS}.ProcessingOutputConfig.Outputs"
        "['partials_data_quality_baseline'].S3Output.S3Uri"
    }
    assert inputs(merge)["partials"]["S3DataDistributionType"] == "FullyReplicated"
    assert arguments(merge) == ["merge", "--input", f"{P}/partials", "--output", f"{P}/output"]
    assert outputs(merge) == outputs(one[steps.DATA_QUALITY_BASELINE])
    assert refs(merge) == {dq_steps.BASELINE_SHARDS}
    # The registry gets the same baseline URIs (the merge step's output), so upsert and the check agree.
    register_one, register_many = one[steps.REGISTER]["Arguments"], many[steps.REGISTER]["Arguments"]
    for key in ("ModelMetrics", "DriftCheckBaselines"):
        assert register_many[key]["ModelDataQuality"] == register_one[key]["ModelDataQuality"]
    # preprocess.py writes the baseline data in one part per instance (one object would go to one).
    assert arguments(many[steps.PREPROCESS]) == [*arguments(one[steps.PREPROCESS]), "--baseline-parts", "3"]
    # Everything else is unchanged (but for the instance count of processing jobs).
    others = set(one) - {steps.DATA_QUALITY_BASELINE, steps.PREPROCESS}
    assert {n: same_but_instances(many[n]) for n in others} == {n: same_but_instances(one[n]) for n in others}


def test_the_check_shards_then_merges_to_the_same_output(
    single: dict[str, BuiltPipeline], sharded: dict[str, BuiltPipeline]
) -> None:
    one, many = step_map(single["inference"]), step_map(sharded["inference"])
    shards, merge = many[dq_steps.CHECK_SHARDS], many[steps.DATA_QUALITY_CHECK]
    single_inputs = inputs(one[steps.DATA_QUALITY_CHECK])
    assert instances(shards) == 3
    data = inputs(shards)["dataset"]
    assert data["S3DataDistributionType"] == "ShardedByS3Key"
    assert data["S3Uri"] == single_inputs["dataset"]["S3Uri"]  # the joined batch (a file or a prefix)
    for step in (shards, merge):  # both read the approved version's baseline, whole
        for name in ("statistics", "constraints"):
            assert inputs(step)[name] == single_inputs[name]
    baseline = [
        "--baseline-statistics",
        f"{P}/baseline/statistics",
        "--baseline-constraints",
        f"{P}/baseline/constraints",
    ]
    assert arguments(shards) == [
        "check",
        "--input",
        dq_steps.SHARD,
        "--header",
        *baseline,
        "--partial-output",
        f"{P}/partial",
        "--resource-config",
        "/opt/ml/config/resourceconfig.json",
    ]
    assert instances(merge) == 1
    assert arguments(merge) == ["merge", "--input", f"{P}/partials", "--output", f"{P}/output", *baseline]
    assert outputs(merge) == outputs(one[steps.DATA_QUALITY_CHECK])
    assert refs(merge) == {dq_steps.CHECK_SHARDS}
    assert refs(shards) == {steps.JOIN}
    # What follows waits for the merge, whose name the custom notification and the rules know.
    ground_truth = many[steps.CHECK_GROUND_TRUTH]
    assert ground_truth["DependsOn"] == [steps.DATA_QUALITY_CHECK]
    others = set(one) - {steps.DATA_QUALITY_CHECK}
    assert {n: same_but_instances(many[n]) for n in others} == {n: same_but_instances(one[n]) for n in others}


def test_failing_on_violations_is_the_merges_exit_code() -> None:
    built = build(**{"processing.instance_count": "2", "inference.fail_on_data_quality_violations": "true"})
    s = step_map(built["inference"])
    assert arguments(s[steps.DATA_QUALITY_CHECK])[-1] == "--fail-on-violations"
    assert "--fail-on-violations" not in arguments(s[dq_steps.CHECK_SHARDS])


def test_the_model_monitor_engine_is_not_sharded() -> None:
    built = build(**{"processing.instance_count": "2", "inference.data_quality_engine": "model_monitor"})
    for kind, name in (("training", steps.DATA_QUALITY_BASELINE), ("inference", steps.DATA_QUALITY_CHECK)):
        s = step_map(built[kind])
        assert s[name]["Type"] == "QualityCheck"
        assert not {dq_steps.BASELINE_SHARDS, dq_steps.CHECK_SHARDS} & set(s)
        assert json.dumps(s[name]).count("ShardedByS3Key") == 0
    assert "--baseline-parts" not in arguments(step_map(built["training"])[steps.PREPROCESS])
