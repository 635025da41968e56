"""provisioning/rules.py: EventBridge rules rendered from events/*.tftpl and a tfvars file, without Terraform.

tests/functional/test_tf_parity.py checks the same renderer against `terraform plan`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_aws.provisioning.rules import RulesError, RuleSpec, read_rules, read_variables, render_template

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
    assert notifier.pipeline_parameters is None and notifier.role_arn is None
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


def test_custom_pairs_are_excluded_once_and_only_for_their_status(tmp_path: Path) -> None:
    rules = by_purpose(
        read_rules(
            with_extra(
                tmp_path,
                LOCAL,
                'notify_step_statuses = ["Starting", "Failed"]\n'
                "custom_notification_config = [\n"
                '  { step_name = "A", step_status = "Failed", step_msg = "m" },\n'
                '  { step_name = "A", step_status = "Failed", step_msg = "again" },\n'
                '  { step_name = "B", step_status = "Stopped", step_msg = "not notified" },\n'
                "]",
            )
        )
    )
    assert (rules["step-status"].event_pattern or {})["detail"]["$or"] == [
        {"currentStepStatus": ["Starting"]},
        {"currentStepStatus": ["Failed"], "stepName": [{"anything-but": ["A"]}]},
    ]
    assert {purpose for purpose in rules if purpose.startswith("custom-")} == {
        "custom-0",
        "custom-1",
        "custom-2",
    }
    assert (
        rules["custom-2"].description
        == "Custom message when step B is Stopped (custom_notification_config[2])"
    )


def test_without_custom_messages_one_status_has_no_step_filter(tmp_path: Path) -> None:
    rules = by_purpose(read_rules(with_extra(tmp_path, LOCAL, "custom_notification_config = []")))
    assert (rules["step-status"].event_pattern or {})["detail"] == {
        "pipelineArn": LOCAL_PIPELINES,
        "currentStepStatus": ["Failed"],
    }
    assert not any(purpose.startswith("custom-") for purpose in rules)


def test_variables_are_the_tfvars_over_the_defaults_of_variables_tf(tmp_path: Path) -> None:
    variables = read_variables(LOCAL, {"gitlab_url": "http://127.0.0.1:9"})
    assert variables["environment"] == "local"
    assert variables["notify_execution_statuses"] == ["Failed", "Stopped"]  # default
    assert variables["training_schedule"] is None  # default null
    assert variables["gitlab_url"] == "http://127.0.0.1:9"  # override
    missing = tmp_path / "missing.tfvars"
    missing.write_text(LOCAL.read_text().replace('user_id = "local-developer"', ""))
    with pytest.raises(
        RulesError, match=re.escape(f"{missing}: user_id is not set and variables.tf gives it no default")
    ):
        read_variables(missing)
    with pytest.raises(RulesError, match="file not found"):
        read_rules(tmp_path / "nope.tfvars")
    (tmp_path / "bad.tfvars").write_text('environment = "local\n')
    with pytest.raises(RulesError, match=re.escape("bad.tfvars: not valid HCL")):
        read_variables(tmp_path / "bad.tfvars")


# --- the template language: what templatefile does, for the subset the templates use -------------------


def render(tmp_path: Path, text: str, **variables: object) -> object:
    (tmp_path / "t.json.tftpl").write_text(text)
    return render_template(tmp_path / "t.json.tftpl", variables)


def test_templates_interpolate_names_attributes_and_jsonencode(tmp_path: Path) -> None:
    assert render(
        tmp_path,
        '{"a": "${name}-${obj.key}", "n": "${n} ${f} ${yes}", '
        '"l": ${jsonencode(items)}, "o": ${ jsonencode(obj) }}',
        name="x",
        obj={"key": "v"},
        n=3,
        f=2.0,
        yes=True,
        items=["p", None],
    ) == {"a": "x-v", "n": "3 2 true", "l": ["p", None], "o": {"key": "v"}}
    assert render(tmp_path, '{"literal": "$${name} %%{x}"}', name="x") == {"literal": "${name} %{x}"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{\n"a": "${missing}"}', "t.json.tftpl:2: ${missing}: 'missing' is not a variable or key"),
        ('{"a": "${obj.nope}"}', "${obj.nope}: 'nope' is not a variable or key"),
        ('{"a": "${items}"}', "${items} is a list or map: use ${jsonencode(...)}"),
        ('{"a": "${none}"}', "${none} is null"),
        ('{"a": "%{ if true }x%{ endif }"}', "template directives are not supported"),
        ('{"a": ${name}}', "t.json.tftpl: the rendered template is not JSON (line 1"),
    ],
    ids=["unknown-variable", "unknown-key", "list-in-string", "null-in-string", "directive", "not-json"],
)
def test_template_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RulesError, match=re.escape(message)):
        render(tmp_path, text, obj={"key": "v"}, items=[1], none=None, name="x")
