"""The config reads env_files/*.tfvars as Terraform does: the same files refused (or accepted) by both.

Each case edits a copy of dev.tfvars and asks `terraform test` (mocked provider, offline; the env-file
plan of tests/terraform/env_files) with -var-file, then the Python loader, for the same file.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from local_aws.provisioning.terraform import TerraformError
from pipeline_scripts.config import load_config
from pipeline_scripts.errors import ConfigError
from tests.terraform.test_terraform import ROOT, Terraform, terraform  # noqa: F401  (fixture)

CASES = [
    (
        "duplicate key",
        "# model_quality_threshold = 3.0",
        "model_quality_threshold = 3.0\nmodel_quality_threshold = 4.0",
        False,
    ),
    ("string for a list", r"email_recipient\s*=\s*\[.*\]", 'email_recipient = "a@example.com"', False),
    ("syntax error", r'user_id\s*=\s*".*"', 'user_id = "unterminated', False),
    ("interpolation", r'user_id\s*=\s*".*"', 'user_id = "${var.bucket_name}"', False),
    ("exponent number", "# model_quality_threshold = 3.0", "model_quality_threshold = 25e-1", True),
]


@pytest.mark.parametrize(("old", "new", "accepted"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_python_and_terraform_agree(
    terraform: Terraform,  # noqa: F811
    tmp_path: Path,
    old: str,
    new: str,
    accepted: bool,
) -> None:
    env_dir = tmp_path / "env_files"
    shutil.copytree(ROOT / "env_files", env_dir)
    path = env_dir / "dev.tfvars"
    text = path.read_text()
    changed = re.sub(old, lambda _: new, text, count=1, flags=re.MULTILINE)
    assert changed != text
    path.write_text(changed)
    try:
        terraform(
            "test",
            "-test-directory=tests/terraform/env_files",
            f"-var-file={path}",
            '-var=gitlab_project_id="1"',
        )
        terraform_accepts = True
    except TerraformError:
        terraform_accepts = False
    try:
        load_config("dev", env_dir=env_dir, environ={})
        python_accepts = True
    except ConfigError as exc:
        python_accepts = False
        assert re.search(r"dev\.tfvars:\d+: ", str(exc)), "Python names the file and line"
    assert terraform_accepts is accepted
    assert python_accepts is terraform_accepts
