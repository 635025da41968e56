"""Terraform checked for real, offline: fmt, validate and `terraform test` (mocked provider) through the
repository's CLI config (provider mirror when present), in a TF_DATA_DIR of its own.

Without terraform (1.11+, which `terraform test`'s `override_during` needs) or the aws provider these
tests FAIL, saying what is missing; with MLOPS_ALLOW_NO_TERRAFORM=1 they are skipped with that reason.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from local_aws.provisioning.terraform import (
    TerraformError,
    provider_mirror,
    run,
    terraform_available,
    terraform_env,
)
from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parents[2]
TESTS = Path(__file__).resolve().parent
ENV_FILES = sorted((ROOT / "env_files").glob("*.tfvars"))
Terraform = Callable[..., str]


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    reason = terraform_available(min_version=(1, 11, 0))
    if reason is not None:
        missing_tool("NO_TERRAFORM", reason)
    work = tmp_path_factory.mktemp("terraform")
    env = {
        key: value for key, value in terraform_env(work / "data", work).items() if not key.startswith("AWS_")
    }

    def terraform(*args: str, timeout: float = 300) -> str:
        return run([*args, "-no-color"], ROOT, env, timeout)

    try:
        terraform("init", "-backend=false", "-input=false", "-lockfile=readonly")
    except TerraformError as exc:
        mirror = provider_mirror()
        where = (
            f"the mirror {mirror}"
            if mirror
            else "registry.terraform.io (no mirror: TF_PROVIDER_MIRROR, /opt/tf-plugins)"
        )
        missing_tool("NO_TERRAFORM", f"terraform init could not install hashicorp/aws from {where}: {exc}")
    return terraform


def _run_blocks(directory: Path) -> int:
    return sum(len(re.findall(r'(?m)^run "', path.read_text())) for path in directory.glob("*.tftest.hcl"))


def test_fmt_is_clean(terraform: Terraform) -> None:
    """As make tf-fmt-check: the root configuration, env_files, and tests/terraform recursively
    (`-recursive .` would also read build/, where generated copies live)."""
    try:
        terraform("fmt", "-check", "-diff", ".", "env_files")
        terraform("fmt", "-check", "-diff", "-recursive", "tests/terraform")
    except TerraformError as exc:
        pytest.fail(f"terraform fmt would change files (make tf-fmt):\n{exc}", pytrace=False)


def test_validate(terraform: Terraform) -> None:
    assert "Success! The configuration is valid." in terraform("validate")


def test_terraform_test_runs_every_run_block(terraform: Terraform) -> None:
    output = terraform("test", "-test-directory=tests/terraform")
    expected = _run_blocks(TESTS)
    assert expected >= 5, "tests/terraform lost its .tftest.hcl files"
    assert f"Success! {expected} passed, 0 failed." in output, output[-3000:]


def _env_file_tests(bad_dev: str) -> str:
    """tests/terraform/env_files/plan.tftest.hcl with one run per env file (its values inlined as the
    run's variables) plus a run with one bad value: one `terraform test` instead of five."""
    source = (TESTS / "env_files" / "plan.tftest.hcl").read_text()
    start = source.index('run "env_file_plans" {')
    shared = source[source.index("variables {") : start]
    shared_values = shared[shared.index("{") + 1 : shared.rindex("}")]
    runs = [source[: source.index("variables {")]]
    for env_file in ENV_FILES:
        values = f"  variables {{\n{env_file.read_text()}\n{shared_values}\n  }}\n"
        runs.append(
            source[start:].replace('run "env_file_plans" {', f'run "{env_file.stem}" {{\n{values}', 1)
        )
    runs.append(
        f'run "bad_role_arn" {{\n  command = plan\n  variables {{\n{bad_dev}\n{shared_values}\n  }}\n'
        "  expect_failures = [var.role_arn]\n}\n"
    )
    return "\n".join(runs)


def test_every_env_file_passes_validation_and_plans(terraform: Terraform) -> None:
    """Each env_files/*.tfvars plans (mocked provider); a wrong role_arn in dev.tfvars is rejected."""
    dev = (ROOT / "env_files" / "dev.tfvars").read_text()
    bad_dev = re.sub(r"(?m)^role_arn\s*=.*$", 'role_arn = "arn:aws:iam::111111111111:user/me"', dev)
    assert bad_dev != dev
    # `terraform test` only takes a test directory inside the configuration: a private one under build/.
    directory = ROOT / "build" / "terraform" / f"env-file-tests-{os.getpid()}"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        (directory / "env_files.tftest.hcl").write_text(_env_file_tests(bad_dev))
        output = terraform("test", f"-test-directory={directory.relative_to(ROOT)}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    for env_file in ENV_FILES:
        assert f'run "{env_file.stem}"... pass' in output, output[-3000:]
    assert f"Success! {len(ENV_FILES) + 1} passed, 0 failed." in output, output[-3000:]
