"""EventBridge pattern semantics (local_aws.events.patterns), operator by operator, and on sample events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local_aws.events.patterns import PatternError, matches, validate_pattern

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


EVENT: dict[str, Any] = {
    "source": "aws.s3",
    "detail-type": "Object Created",
    "resources": ["arn:aws:s3:::a", "arn:aws:s3:::b"],
    "detail": {
        "name": "Training-Data.CSV",
        "size": 300,
        "ratio": 0.5,
        "flag": False,
        "nothing": None,
        "empty": "",
        "ip": "10.0.0.17",
        "ip6": "2001:db8::1",
        "tags": ["red", "green"],
        "items": [{"k": "a", "v": 1}, {"k": "b", "v": 2}],
        "nested": {"deep": {"leaf": "x"}},
    },
}


def detail(**fields: Any) -> dict[str, Any]:
    return {"detail": fields}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # exact values and nesting
        ({"source": ["aws.s3"]}, True),
        ({"source": ["aws.sagemaker"]}, False),
        ({"source": ["aws.sagemaker", "aws.s3"]}, True),
        ({"source": ["AWS.S3"]}, False),
        (detail(size=[300]), True),
        (detail(size=[300.0]), True),
        (detail(size=["300"]), False),
        (detail(ratio=[0.5]), True),
        (detail(flag=[False]), True),
        (detail(flag=[0]), False),
        (detail(nothing=[None]), True),
        (detail(missing=[None]), False),
        (detail(empty=[""]), True),
        (detail(name=[""]), False),
        ({"detail": {"nested": {"deep": {"leaf": ["x"]}}}}, True),
        ({"detail": {"nested": {"deep": {"leaf": ["y"]}}}}, False),
        ({"source": ["aws.s3"], "detail-type": ["Object Deleted"]}, False),
        # arrays in the event: any element
        ({"resources": ["arn:aws:s3:::b"]}, True),
        ({"resources": ["arn:aws:s3:::c"]}, False),
        (detail(tags=["green"]), True),
        # arrays of objects: one element must satisfy the whole sub-pattern
        ({"detail": {"items": {"k": ["b"], "v": [2]}}}, True),
        ({"detail": {"items": {"k": ["a"], "v": [2]}}}, False),
        # a nested pattern against a scalar cannot match
        ({"detail": {"name": {"x": ["y"]}}}, False),
    ],
)
def test_exact_values_nesting_and_arrays(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


@pytest.mark.parametrize(
    ("matcher", "field", "expected"),
    [
        ({"prefix": "Training"}, "name", True),
        ({"prefix": "training"}, "name", False),
        ({"prefix": {"equals-ignore-case": "training-"}}, "name", True),
        ({"prefix": {"equals-ignore-case": "inference"}}, "name", False),
        ({"prefix": "3"}, "size", False),  # prefix applies to strings only
        ({"prefix": ""}, "name", True),
        ({"suffix": ".CSV"}, "name", True),
        ({"suffix": ".csv"}, "name", False),
        ({"suffix": {"equals-ignore-case": ".csv"}}, "name", True),
        ({"suffix": {"equals-ignore-case": ".json"}}, "name", False),
        ({"equals-ignore-case": "training-data.csv"}, "name", True),
        ({"equals-ignore-case": "training-data.json"}, "name", False),
        ({"equals-ignore-case": "300"}, "size", False),
        ({"wildcard": "Training-*.CSV"}, "name", True),
        ({"wildcard": "*Data*"}, "name", True),
        ({"wildcard": "Training"}, "name", False),
        ({"wildcard": "*.csv"}, "name", False),
        ({"wildcard": "red"}, "tags", True),
        ({"numeric": [">", 0, "<=", 300]}, "size", True),
        ({"numeric": [">", 0, "<", 300]}, "size", False),
        ({"numeric": ["=", 300]}, "size", True),
        ({"numeric": ["=", 301]}, "size", False),
        ({"numeric": [">=", 0.5]}, "ratio", True),
        ({"numeric": ["<", 0.5]}, "ratio", False),
        ({"numeric": [">", 0]}, "name", False),  # numeric applies to numbers only
        ({"numeric": [">", -1]}, "flag", False),  # booleans are not numbers
        ({"cidr": "10.0.0.0/24"}, "ip", True),
        ({"cidr": "10.0.1.0/24"}, "ip", False),
        ({"cidr": "2001:db8::/32"}, "ip6", True),
        ({"cidr": "2001:db9::/32"}, "ip6", False),
        ({"cidr": "10.0.0.0/8"}, "ip6", False),
        ({"cidr": "10.0.0.0/8"}, "name", False),
        ({"anything-but": "Other"}, "name", True),
        ({"anything-but": "Training-Data.CSV"}, "name", False),
        ({"anything-but": ["a", "Training-Data.CSV"]}, "name", False),
        ({"anything-but": [1, 2]}, "size", True),
        ({"anything-but": [300]}, "size", False),
        ({"anything-but": {"prefix": "Training"}}, "name", False),
        ({"anything-but": {"prefix": "Inference"}}, "name", True),
        ({"anything-but": {"suffix": ".CSV"}}, "name", False),
        ({"anything-but": {"suffix": ".json"}}, "name", True),
        ({"anything-but": {"equals-ignore-case": ["training-data.csv"]}}, "name", False),
        ({"anything-but": {"wildcard": "*.CSV"}}, "name", False),
        ({"anything-but": {"wildcard": "*.json"}}, "name", True),
        ({"anything-but": "red"}, "tags", True),  # "green" is not red
        ({"anything-but": ["red", "green"]}, "tags", False),
        ({"anything-but": "x"}, "missing", False),  # missing fields never match anything-but
        ({"exists": True}, "name", True),
        ({"exists": True}, "missing", False),
        ({"exists": False}, "missing", True),
        ({"exists": False}, "name", False),
        ({"exists": True}, "nothing", True),  # a null value exists
        ({"exists": True}, "nested", False),  # exists works on leaf nodes only
    ],
)
def test_operators(matcher: dict[str, Any], field: str, expected: bool) -> None:
    assert matches({"detail": {field: [matcher]}}, EVENT) is expected


def test_exists_false_when_the_parent_object_is_missing() -> None:
    assert matches({"detail": {"absent": {"leaf": [{"exists": False}]}}}, EVENT)
    assert not matches({"detail": {"absent": {"leaf": [{"exists": True}]}}}, EVENT)


def test_matchers_in_one_array_are_alternatives() -> None:
    pattern = {"detail": {"name": [{"prefix": "Inference"}, {"suffix": ".CSV"}]}}
    assert matches(pattern, EVENT)
    assert not matches({"detail": {"name": [{"prefix": "Inference"}, "x"]}}, EVENT)


def test_wildcard_escapes() -> None:
    event = {"detail": {"s": "a*b\\c"}}
    assert matches({"detail": {"s": [{"wildcard": "a\\*b\\\\c"}]}}, event)
    assert not matches({"detail": {"s": [{"wildcard": "a\\*b"}]}}, event)
    assert not matches({"detail": {"s": [{"wildcard": "a\\*"}]}}, {"detail": {"s": "ab"}})


def test_or_at_top_level_and_nested() -> None:
    top = {"$or": [{"source": ["aws.sagemaker"]}, {"detail": {"size": [{"numeric": [">", 100]}]}}]}
    assert matches(top, EVENT)
    assert not matches({"$or": [{"source": ["aws.sagemaker"]}, {"detail": {"size": [1]}}]}, EVENT)
    nested = {"source": ["aws.s3"], "detail": {"$or": [{"name": [{"prefix": "x"}]}, {"tags": ["red"]}]}}
    assert matches(nested, EVENT)
    # $or is ANDed with its sibling fields
    assert not matches({"source": ["aws.sagemaker"], "$or": [{"detail-type": ["Object Created"]}]}, EVENT)


def test_pattern_may_be_json_text() -> None:
    assert matches(json.dumps({"source": ["aws.s3"]}), EVENT)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({}, "empty object"),
        ({"source": "aws.s3"}, 'write ["aws.s3"]'),
        ({"source": []}, "empty arrays"),
        ({"source": [["aws.s3"]]}, "nested arrays"),
        ({"detail": {}}, "empty object"),
        ({"source": [{"prefix": 5}]}, "prefix takes a string"),
        ({"source": [{"prefix": {"equals": "x"}}]}, "equals-ignore-case"),
        ({"source": [{"suffix": None}]}, "suffix takes a string"),
        ({"source": [{"equals-ignore-case": 1}]}, "equals-ignore-case takes a string"),
        ({"source": [{"exists": "yes"}]}, "exists takes true or false"),
        ({"source": [{"numeric": [">", "0"]}]}, "must be a number"),
        ({"source": [{"numeric": ["!=", 0]}]}, "not one of"),
        ({"source": [{"numeric": [">", 0, ">", 5]}]}, "one lower"),
        ({"source": [{"numeric": ["=", 0, "<", 5]}]}, 'numeric "="'),
        ({"source": [{"numeric": [">", 0, "<"]}]}, "pairs"),
        ({"source": [{"numeric": [">", 1e10]}]}, "-5e9 and 5e9"),
        ({"source": [{"cidr": "10.0.0.0"}]}, "not an IPv4 or IPv6 CIDR"),
        ({"source": [{"cidr": "10.0.0.0/33"}]}, "not an IPv4 or IPv6 CIDR"),
        ({"source": [{"wildcard": "a**b"}]}, "consecutive"),
        ({"source": [{"wildcard": "a\\b"}]}, "backslash"),
        ({"source": [{"anything-but": ["a", 1]}]}, "not both"),
        ({"source": [{"anything-but": None}]}, "strings or numbers"),
        ({"source": [{"anything-but": []}]}, "at least one value"),
        ({"source": [{"anything-but": {"numeric": [">", 1]}}]}, "anything-but takes"),
        ({"source": [{"anything-but": {"prefix": 1}}]}, "anything-but prefix takes a string"),
        ({"source": [{"regex": "a.*"}]}, "unknown operator 'regex'"),
        ({"source": [{"prefix": "a", "suffix": "b"}]}, "exactly one operator"),
        ({"$or": {"source": ["x"]}}, "$or takes"),
        ({"$or": ["x"]}, "each $or alternative"),
    ],
)
def test_invalid_patterns_are_rejected_with_a_reason(pattern: Any, message: str) -> None:
    with pytest.raises(PatternError) as info:
        validate_pattern(pattern)
    assert message in str(info.value)
    with pytest.raises(PatternError):
        matches(pattern, EVENT)


def test_pattern_error_names_the_path_and_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^detail\.object\.key\[1\]: prefix takes a string"):
        validate_pattern({"detail": {"object": {"key": ["ok", {"prefix": 3}]}}})


def test_invalid_json_text() -> None:
    with pytest.raises(PatternError, match="not valid JSON"):
        validate_pattern("{source")
    with pytest.raises(PatternError, match="must be a JSON object"):
        validate_pattern("[1]")


# --------------------------------------------------------------------------- the project's rules (events.tf)

BUCKET = "mlops-local-bucket"
PIPELINES = [
    f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{name}"
    for name in ("mlops-local-training", "mlops-local-training-hpo", "mlops-local-batch-inference")
]


def s3_rule(prefix: str) -> dict[str, Any]:
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"prefix": f"{prefix}/"}]}},
    }


STEP_STATUS = {
    "source": ["aws.sagemaker"],
    "detail-type": ["SageMaker Model Building Pipeline Execution Step Status Change"],
    "detail": {"pipelineArn": PIPELINES, "currentStepStatus": ["Failed"]},
}
MODEL_QUALITY_FAILED = {
    "source": ["aws.sagemaker"],
    "detail-type": ["SageMaker Model Building Pipeline Execution Step Status Change"],
    "detail": {
        "pipelineArn": [PIPELINES[2]],
        "stepName": ["ModelQualityCalcStep"],
        "currentStepStatus": ["Failed"],
    },
}
EXECUTION_STATUS = {
    "source": ["aws.sagemaker"],
    "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
    "detail": {"pipelineArn": PIPELINES, "currentPipelineExecutionStatus": ["Failed", "Stopped"]},
}


def package_rule(status: str) -> dict[str, Any]:
    return {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["mlops-local-abalone"], "ModelApprovalStatus": [status]},
    }


ALL_EVENTS = sorted(p.name for p in EVENTS.glob("*.json"))

RULES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "training-data": (s3_rule("abalone/training"), {"s3_object_created_training.json"}),
    "inference-data": (
        s3_rule("abalone/inference"),
        {
            "s3_object_created_inference.json",
            "s3_object_created_ground_truth.json",
            "s3_object_created_batch_complete.json",
        },
    ),
    "step-status": (STEP_STATUS, {"step_model_quality_failed.json", "step_preprocess_failed.json"}),
    "model-quality-failed": (MODEL_QUALITY_FAILED, {"step_model_quality_failed.json"}),
    "execution-status": (EXECUTION_STATUS, {"execution_failed.json"}),
    "model-approved": (package_rule("Approved"), {"model_package_approved.json"}),
    "model-rejected": (package_rule("Rejected"), {"model_package_rejected.json"}),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_project_rules_select_exactly_their_sample_events(rule: str) -> None:
    pattern, expected = RULES[rule]
    selected = {name for name in ALL_EVENTS if matches(pattern, load(name))}
    assert selected == expected


def test_every_sample_event_is_a_full_envelope() -> None:
    assert len(ALL_EVENTS) == 16
    for name in ALL_EVENTS:
        event = load(name)
        assert set(event) == {
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail",
        }, name
        assert (event["account"], event["region"], event["version"]) == ("123456789012", "us-east-1", "0")
        assert event["resources"] and isinstance(event["detail"], dict), name


def test_custom_pair_rule_with_or_over_the_sample_events() -> None:
    pattern = {
        "source": ["aws.sagemaker"],
        "detail": {
            "$or": [
                {"stepName": ["CandidateModel-RegisterModel"], "currentStepStatus": ["Succeeded"]},
                {"stepName": ["ModelQualityCalcStep"], "failureReason": [{"wildcard": "AlgorithmError:*"}]},
            ],
        },
    }
    selected = {name for name in ALL_EVENTS if matches(pattern, load(name))}
    assert selected == {
        "step_register_succeeded.json",
        "step_model_quality_failed.json",
        "step_other_pipeline_failed.json",
    }
