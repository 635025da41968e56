"""variables.tf, env_files/*.tfvars and pipeline_scripts/config/ agree (pure Python, no terraform)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pipeline_scripts.config import EnvSettings
from pipeline_scripts.config.tfvars import TERRAFORM_ONLY, read_tfvars
from pipeline_scripts.tooling.tf_docs import read_outputs, read_variables

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = {variable.name: variable for variable in read_variables(ROOT / "variables.tf")}
ENV_FILES = sorted((ROOT / "env_files").glob("*.tfvars"))
TF_FILES = sorted(ROOT.glob("*.tf"))


@pytest.mark.parametrize("env_file", ENV_FILES, ids=[path.stem for path in ENV_FILES])
def test_every_tfvars_key_is_a_declared_variable_and_every_required_one_is_set(env_file: Path) -> None:
    keys = set(read_tfvars(env_file))
    assert keys - set(VARIABLES) == set(), "keys Terraform would ignore with a warning"
    required = {name for name, variable in VARIABLES.items() if variable.required}
    assert required - keys == set(), "Terraform would ask for these"


def test_python_config_and_terraform_know_the_same_keys() -> None:
    python_keys = {field.name for field in dataclasses.fields(EnvSettings)}
    assert set(TERRAFORM_ONLY) & python_keys == set()
    assert python_keys | set(TERRAFORM_ONLY) == set(VARIABLES)


def test_every_variable_and_output_is_described_and_typed() -> None:
    assert all(variable.description.strip() for variable in VARIABLES.values())
    assert all(variable.type != "any" for variable in VARIABLES.values()), "precise types, never any"
    assert all(output.description.strip() for output in read_outputs(ROOT / "outputs.tf"))


def test_hand_edited_values_have_validations() -> None:
    text = (ROOT / "variables.tf").read_text()
    blocks = dict(re.findall(r'(?ms)^variable "(\w+)" \{(.*?)^\}', text))
    validated = {name for name, body in blocks.items() if "validation {" in body}
    must = {
        "environment",
        "aws_region",
        "bucket_name",
        "bucket_prefix",
        "bucket_train_prefix",
        "bucket_inf_prefix",
        "role_arn",
        "kms_key",
        "email_recipient",
        "custom_notification_config",
        "dataset_dir",  # model_quality_threshold: the CLI checks it against the data set's problem type
        "training_schedule",
        "inference_schedule",
        "pipeline_train",
        "pipeline_trainwhpo",
        "pipeline_inf",
        "model_package_group_name",
        "notification_function_name",
        "gitlab_token_secret_arn",
    }
    assert must - validated == set()


def test_banner_sections_appear_in_the_same_order_in_every_file() -> None:
    order = [
        "Core",
        "Storage",
        "Encryption",
        "Notifications",
        "SageMaker pipelines",
        "Lambda functions",
        "Event rules",
        "Deploy on approval",
        "Data upload",
    ]
    for path in TF_FILES:
        banners = re.findall(r"(?m)^# --- (.+?) -+$", path.read_text())
        assert banners, f"{path.name} has no section banners"
        assert set(banners) <= set(order), f"{path.name}: unknown sections {set(banners) - set(order)}"
        assert banners == sorted(banners, key=order.index), f"{path.name}: sections out of order {banners}"
        assert path.read_text().startswith("# ====="), f"{path.name} has no file header"


def test_no_wildcard_actions_in_allow_statements_anywhere() -> None:
    """The tftests check the rendered policies; this catches a wildcard added to any .tf file."""
    for path in TF_FILES:
        text = path.read_text()
        assert not re.search(r'Action\s*=\s*\[?\s*"\*"', text), f'{path.name}: Action = "*"'
        for action in re.findall(r'"([a-z0-9-]+:[A-Za-z]*\*)"', text):
            # The only one: the bucket policy's Deny of every s3 action without TLS.
            assert (path.name, action) == ("s3.tf", "s3:*"), f"{path.name}: wildcard action {action!r}"
