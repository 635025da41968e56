"""The prescribed top level of the template: users and the tooling rely on these paths."""

from __future__ import annotations

import re
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
    "contracts.json",
    "events",
    ".pre-commit-config.yaml",
}
MAX_MODULE_LINES = 600


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


def test_build_is_the_only_package_with_sdk_calls(repo_root: Path) -> None:
    """Every SageMaker SDK import lives in pipeline_scripts/build/ (an SDK port touches it only)."""
    sources = [*repo_root.glob("scripts/*.py"), *repo_root.glob("code/**/*.py")]
    sources += [*repo_root.glob("pipeline_scripts/**/*.py"), *repo_root.glob("local_aws/**/*.py")]
    with_sdk = {
        path.relative_to(repo_root).as_posix()
        for path in sources
        if re.search(r"^\s*(from sagemaker[ .]|import sagemaker\b)", path.read_text(), re.MULTILINE)
    }
    assert with_sdk, "no SDK import found at all: the pattern is wrong"
    assert {p for p in with_sdk if not p.startswith("pipeline_scripts/build/")} == set()


def test_pipeline_scripts_is_in_layers(repo_root: Path) -> None:
    """The packages the README's diagram shows; import-linter (make lint) checks the imports between them."""
    package = repo_root / "pipeline_scripts"
    subpackages = {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in package.glob("*.py")}
    assert subpackages == {"config", "build", "ops", "tooling"}
    assert modules == {"__init__", "cli", "errors", "paths", "step_scripts"}


def test_no_source_module_is_over_the_limit(repo_root: Path) -> None:
    out = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=repo_root, capture_output=True, text=True, check=True
    )
    sizes = {
        name: len((repo_root / name).read_text().splitlines())
        for name in out.stdout.split()
        if not name.startswith("tests/") and (repo_root / name).is_file()
    }
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_pre_commit_runs_what_make_lint_runs(repo_root: Path) -> None:
    hooks = (repo_root / ".pre-commit-config.yaml").read_text()
    makefile = (repo_root / "Makefile").read_text()
    lint = makefile[makefile.index("\nlint:") : makefile.index("\nformat:")]
    for command in ("ruff check", "ruff format --check", "lint-imports"):
        assert command in lint and command in hooks, command
    assert "tf-fmt-check" in lint and "terraform fmt -check" in hooks
