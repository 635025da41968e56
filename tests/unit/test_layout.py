"""The prescribed top level of the template: users and the tooling rely on these paths."""

from __future__ import annotations

import subprocess
from pathlib import Path

PRESCRIBED = {
    "pipeline_scripts",
    "scripts",
    "code",
    "env_files",
    "data",
    "tests",
    "main.tf",
    "events.tf",
    "lambda.tf",
    "sns.tf",
    "variables.tf",
    ".gitlab-ci.yml",
    "pyproject.toml",
}
ALSO_EXPECTED = {
    "README.md",
    "Makefile",
    ".ci",
    "benchmarks",
    "constraints.txt",
    "versions.tf",
    "outputs.tf",
    "iam.tf",
    ".terraform.lock.hcl",
    "local_aws",
    "docs",
}


def tracked_top_level(root: Path) -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout
    return {line.split("/", 1)[0] for line in out.splitlines() if line}


def test_prescribed_top_level_exists(repo_root: Path) -> None:
    present = {p.name for p in repo_root.iterdir()}
    missing = (PRESCRIBED | ALSO_EXPECTED) - present
    assert not missing, f"missing at the top level: {sorted(missing)}"


def test_env_files_cover_every_environment(repo_root: Path) -> None:
    assert {p.name for p in (repo_root / "env_files").glob("*.tfvars")} == {
        "local.tfvars",
        "dev.tfvars",
        "staging.tfvars",
        "prod.tfvars",
    }


def test_data_files_and_licence(repo_root: Path) -> None:
    data = repo_root / "data"
    for name in ("training-data.csv", "inference-data.csv", "ground-truth.csv", "abalone.csv", "README.md"):
        assert (data / name).is_file(), name
    assert (data / "drifted" / "inference-data.csv").is_file()
    assert "CC BY 4.0" in (data / "README.md").read_text()


def test_pipeline_scripts_is_the_only_package_with_sdk_calls(repo_root: Path) -> None:
    """Every SageMaker SDK import lives in pipeline_scripts/ (a later SDK port touches it only)."""
    for folder in ("scripts",):
        for path in (repo_root / folder).glob("*.py"):
            assert "from sagemaker" not in path.read_text() and "import sagemaker" not in path.read_text(), (
                path
            )
