"""local_aws.tf_rules: the EventBridge rules read from the .tf files and a tfvars file, without Terraform.

tests/functional/test_tf_parity.py checks the same reader against a real `terraform apply`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_aws.tf_rules import InputTransformer, RuleSpec, TfRulesError, read_rules

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "env_files" / "local.tfvars"
DEV = ROOT / "env_files" / "dev.tfvars"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/"
LOCAL_PIPELINES = [
    f"{ARN}mlops-local-training-hpo",
    f"{ARN}mlops-local-batch-inference",
    f"{ARN}mlops-local-training",
]
STEP_EVENT = "SageMaker Model Building Pipeline Execution Step Status Change"


def by_purpose(rules: list[RuleSpec], environment: str = "local") -> dict[str, RuleSpec]:
    prefix = f"mlops-{environment}-"
    assert all(rule.name.startswith(prefix) for rule in rules)
    return {rule.name[len(prefix) :]: rule for rule in rules}


@pytest.fixture(scope="module")
def local() -> dict[str, RuleSpec]:
    return by_purpose(read_rules(LOCAL))


def with_extra(tmp_path: Path, base: Path, extra: str) -> Path:
    path = tmp_path / base.name
    path.write_text(base.read_text() + "\n" + extra + "\n")
    return path


def test_local_rules_are_the_contract(local: dict[str, RuleSpec]) -> None:
    assert set(local) == {
        "training-data",
        "inference-data",
        "step-status",
        "execution-status",
        "model-quality-failed",
        "model-approved",
        "model-rejected",
        "custom-0",
        "custom-1",
        "custom-2",
    }
    assert {rule.state for rule in local.values()} == {"ENABLED"}
    assert all(rule.schedule_expression is None for rule in local.values())
    assert all(len(rule.targets) == 1 and rule.targets[0].id == purpose for purpose, rule in local.items())


def test_s3_rules(local: dict[str, RuleSpec]) -> None:
    assert local["training-data"].event_pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": ["mlops-local-bucket"]},
            "object": {"key": [{"prefix": "abalone/training/"}]},
        },
    }
    assert local["inference-data"].event_pattern is not None
    assert local["inference-data"].event_pattern["detail"]["object"] == {
        "key": [{"prefix": "abalone/inference/"}]
    }


def test_step_status_leaves_custom_pairs_to_their_custom_rules(local: dict[str, RuleSpec]) -> None:
    assert local["step-status"].event_pattern == {
        "source": ["aws.sagemaker"],
        "detail-type": [STEP_EVENT],
        "detail": {
            "pipelineArn": LOCAL_PIPELINES,
            "currentStepStatus": ["Failed"],
            "stepName": [{"anything-but": ["ModelQualityCalcStep"]}],
        },
    }
    custom = {
        purpose: (rule.event_pattern or {})["detail"]
        for purpose, rule in local.items()
        if purpose.startswith("custom-")
    }
    assert custom == {
        "custom-0": {
            "pipelineArn": LOCAL_PIPELINES,
            "stepName": ["ModelQualityCalcStep"],
            "currentStepStatus": ["Failed"],
        },
        "custom-1": {
            "pipelineArn": LOCAL_PIPELINES,
            "stepName": ["CandidateModel-RegisterModel"],
            "currentStepStatus": ["Succeeded"],
        },
        "custom-2": {
            "pipelineArn": LOCAL_PIPELINES,
            "stepName": ["DataQualityCheck"],
            "currentStepStatus": ["Succeeded"],
        },
    }


def test_model_rules(local: dict[str, RuleSpec]) -> None:
    assert (local["model-quality-failed"].event_pattern or {})["detail"] == {
        "pipelineArn": [f"{ARN}mlops-local-batch-inference"],
        "stepName": ["ModelQualityCalcStep"],
        "currentStepStatus": ["Failed"],
    }
    for purpose, status in (("model-approved", "Approved"), ("model-rejected", "Rejected")):
        assert local[purpose].event_pattern == {
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Model Package State Change"],
            "detail": {"ModelPackageGroupName": ["mlops-local-abalone"], "ModelApprovalStatus": [status]},
        }
    assert (local["execution-status"].event_pattern or {})["detail"]["currentPipelineExecutionStatus"] == [
        "Failed",
        "Stopped",
    ]


def test_targets_name_the_functions(local: dict[str, RuleSpec]) -> None:
    targets = {purpose: rule.targets[0] for purpose, rule in local.items()}
    assert {purpose: (t.arn_kind, t.resource_name) for purpose, t in targets.items()} == {
        "training-data": ("lambda", "mlops-local-pipeline-trigger"),
        "inference-data": ("lambda", "mlops-local-pipeline-trigger"),
        "model-quality-failed": ("lambda", "mlops-local-pipeline-trigger"),
        "model-approved": ("lambda", "mlops-local-deploy-trigger"),
        "step-status": ("lambda", "mlops-local-notifier"),
        "execution-status": ("lambda", "mlops-local-notifier"),
        "model-rejected": ("lambda", "mlops-local-notifier"),
        "custom-0": ("lambda", "mlops-local-notifier"),
        "custom-1": ("lambda", "mlops-local-notifier"),
        "custom-2": ("lambda", "mlops-local-notifier"),
    }
    notifier = targets["step-status"]
    assert notifier.arn == "arn:aws:lambda:us-east-1:123456789012:function:mlops-local-notifier"
    assert (
        notifier.input_transformer is None
        and notifier.pipeline_parameters is None
        and notifier.role_arn is None
    )
    assert notifier.dead_letter_arn == "arn:aws:sqs:us-east-1:123456789012:mlops-local-dead-letter"
    assert notifier.put_targets_entry() == {
        "Id": "step-status",
        "Arn": notifier.arn,
        "DeadLetterConfig": {"Arn": notifier.dead_letter_arn},
        "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
    }


def test_put_rule_kwargs(local: dict[str, RuleSpec]) -> None:
    kwargs = local["model-approved"].put_rule_kwargs()
    assert kwargs["Name"] == "mlops-local-model-approved" and kwargs["State"] == "ENABLED"
    assert "ScheduleExpression" not in kwargs
    assert '"ModelApprovalStatus": ["Approved"]' in kwargs["EventPattern"]
    assert "mlops-local-abalone" in kwargs["Description"]


def test_dev_rules_use_the_dev_names_and_the_given_account() -> None:
    dev = by_purpose(read_rules(DEV, account_id="111111111111"), "dev")
    assert len(dev) == 10
    assert (dev["model-quality-failed"].event_pattern or {})["detail"]["pipelineArn"] == [
        "arn:aws:sagemaker:us-east-1:111111111111:pipeline/mlops-dev-batch-inference"
    ]
    assert (dev["model-approved"].event_pattern or {})["detail"]["ModelPackageGroupName"] == [
        "mlops-dev-abalone"
    ]
    assert (dev["training-data"].event_pattern or {})["detail"]["bucket"] == {"name": ["mlops-dev-bucket"]}
    assert dev["model-approved"].targets[0].arn == (
        "arn:aws:lambda:us-east-1:111111111111:function:mlops-dev-deploy-trigger"
    )
    assert dev["step-status"].targets[0].resource_name == "mlops-dev-notifier"


def test_schedules_target_the_pipelines_with_parameters(tmp_path: Path) -> None:
    env_file = with_extra(
        tmp_path,
        LOCAL,
        'training_schedule = "cron(0 3 ? * MON *)"\n'
        'inference_schedule = "rate(1 day)"\n'
        'schedule_pipeline_parameters = { inference = { GroundTruthUri = "s3://b/k.csv" } }',
    )
    rules = by_purpose(read_rules(env_file))
    training, inference = rules["training-schedule"], rules["inference-schedule"]
    assert (training.schedule_expression, training.event_pattern) == ("cron(0 3 ? * MON *)", None)
    assert inference.schedule_expression == "rate(1 day)"
    target = training.targets[0]
    assert (target.arn_kind, target.resource_name) == ("sagemaker_pipeline", "mlops-local-training")
    assert target.role_arn == "arn:aws:iam::123456789012:role/mlops-local-events"
    assert target.pipeline_parameters == {
        "InputDataUri": "s3://mlops-local-bucket/abalone/training/training-data.csv"
    }
    assert inference.targets[0].pipeline_parameters == {
        "InputDataUri": "s3://mlops-local-bucket/abalone/inference/inference-data.csv",
        "GroundTruthUri": "s3://b/k.csv",
    }
    assert inference.targets[0].put_targets_entry()["SageMakerPipelineParameters"] == {
        "PipelineParameterList": [
            {"Name": "GroundTruthUri", "Value": "s3://b/k.csv"},
            {"Name": "InputDataUri", "Value": "s3://mlops-local-bucket/abalone/inference/inference-data.csv"},
        ]
    }
    assert (
        "ScheduleExpression" in training.put_rule_kwargs()
        and "EventPattern" not in training.put_rule_kwargs()
    )


def test_several_statuses_become_or_alternatives_and_empty_lists_remove_rules(tmp_path: Path) -> None:
    rules = by_purpose(
        read_rules(with_extra(tmp_path, LOCAL, 'notify_step_statuses = ["Failed", "Succeeded"]'))
    )
    assert (rules["step-status"].event_pattern or {})["detail"]["$or"] == [
        {"currentStepStatus": ["Failed"], "stepName": [{"anything-but": ["ModelQualityCalcStep"]}]},
        {
            "currentStepStatus": ["Succeeded"],
            "stepName": [{"anything-but": ["CandidateModel-RegisterModel", "DataQualityCheck"]}],
        },
    ]
    (tmp_path / "off").mkdir()
    off = with_extra(tmp_path / "off", LOCAL, "notify_step_statuses = []\nnotify_execution_statuses = []")
    assert {"step-status", "execution-status"} & set(by_purpose(read_rules(off))) == set()


def test_input_transformers_and_dynamic_blocks_of_any_configuration(tmp_path: Path) -> None:
    """The reader is generic: a target with an input transformer, a count, a set for_each, a topic."""
    (tmp_path / "main.tf").write_text(
        """
variable "names" {
  type = set(string)
}
variable "paths" {
  type    = map(string)
  default = { step = "$.detail.stepName" }
}
locals {
  prefix = upper("x")
}
resource "aws_sns_topic" "alerts" {
  name = "alerts-${local.prefix}"
}
resource "aws_cloudwatch_event_rule" "this" {
  for_each      = var.names
  name          = "${local.prefix}-${each.key}"
  event_pattern = jsonencode({ source = [each.value], "detail-type" = ["a", "b"] })
  state         = each.key == "off" ? "DISABLED" : "ENABLED"
}
resource "aws_cloudwatch_event_target" "this" {
  count     = 2
  rule      = aws_cloudwatch_event_rule.this[["off", "on"][count.index]].name
  target_id = "t${count.index}"
  arn       = aws_sns_topic.alerts.arn

  dynamic "input_transformer" {
    for_each = count.index == 0 ? [var.paths] : []
    iterator = transformer
    content {
      input_paths    = transformer.value
      input_template = "\\"step <step> $${literal}\\""
    }
  }
}
"""
    )
    (tmp_path / "test.tfvars").write_text('names = ["on", "off", "on"]\n')
    rules = {rule.name: rule for rule in read_rules(tmp_path / "test.tfvars", tmp_path, region="eu-west-1")}
    assert set(rules) == {"X-on", "X-off"}
    assert rules["X-off"].state == "DISABLED" and rules["X-on"].state == "ENABLED"
    assert rules["X-on"].event_pattern == {"source": ["on"], "detail-type": ["a", "b"]}
    (target,) = rules["X-off"].targets
    assert (target.id, target.arn_kind, target.resource_name) == ("t0", "sns", "alerts-X")
    assert target.arn == "arn:aws:sns:eu-west-1:123456789012:alerts-X"
    assert target.input_transformer == InputTransformer(
        input_paths={"step": "$.detail.stepName"}, input_template='"step <step> ${literal}"'
    )
    assert rules["X-on"].targets[0].input_transformer is None


def rule(name: str) -> str:
    schedule = 'schedule_expression = "rate(1 day)"'
    return f'resource "aws_cloudwatch_event_rule" "r" {{\n  name = {name}\n  {schedule}\n}}\n'


TARGET_WITHOUT_ID = (
    'resource "aws_cloudwatch_event_target" "t" {\n  rule = "r"\n  arn = "arn:aws:sqs:us-east-1:1:q"\n}\n'
)


@pytest.mark.parametrize(
    ("tf", "message"),
    [
        ('locals {\n  x = file("a")\n}\n' + rule("local.x"), "function file() is not supported"),
        (
            'resource "aws_lambda_function" "f" {\n  function_name = "f"\n}\n'
            + rule("aws_lambda_function.f.version"),
            "known only after apply",
        ),
        (
            'resource "aws_cloudwatch_event_rule" "r" {\n  name = "r"\n}\n',
            "neither event_pattern nor schedule",
        ),
        (rule("var.missing"), "var.missing is not declared"),
        ("locals {\n  a = local.b\n  b = local.a\n}\n" + rule("local.a"), "refers to itself"),
        (
            rule('"r"') + TARGET_WITHOUT_ID,
            "set target_id",
        ),
    ],
    ids=[
        "unsupported-function",
        "unknown-attribute",
        "no-pattern",
        "undeclared-variable",
        "cycle",
        "no-target-id",
    ],
)
def test_what_cannot_be_known_without_terraform_is_an_error(tmp_path: Path, tf: str, message: str) -> None:
    (tmp_path / "main.tf").write_text(tf)
    (tmp_path / "x.tfvars").write_text("")
    with pytest.raises(TfRulesError, match=re.escape(message)):
        read_rules(tmp_path / "x.tfvars", tmp_path)


def test_tfvars_values_are_checked_against_the_variable_types(tmp_path: Path) -> None:
    bad = tmp_path / "local.tfvars"
    bad.write_text(
        LOCAL.read_text().replace("recreate_pipelines       = false", 'recreate_pipelines = "maybe"')
    )
    with pytest.raises(TfRulesError, match=r"var\.recreate_pipelines"):
        read_rules(bad)
    with pytest.raises(TfRulesError, match="file not found"):
        read_rules(tmp_path / "missing.tfvars")
