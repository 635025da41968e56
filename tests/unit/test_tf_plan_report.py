"""GitLab's Terraform report ({"create","update","delete"}) from a saved plan."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.tooling.tf_plan_report import PlanReportError, main, read_plan, summarize

BEFORE = """
resource "terraform_data" "replaced" { triggers_replace = ["v1"] }
resource "terraform_data" "updated"  { input = "v1" }
resource "terraform_data" "deleted"  { input = "gone soon" }
resource "terraform_data" "kept"     { input = "same" }
"""
AFTER = """
resource "terraform_data" "replaced" { triggers_replace = ["v2"] }
resource "terraform_data" "updated"  { input = "v2" }
resource "terraform_data" "created"  { input = "new" }
resource "terraform_data" "kept"     { input = "same" }
"""


def plan_json(*changes: tuple[str, list[str]], **extra: Any) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "resource_changes": [{"address": a, "change": {"actions": acts}} for a, acts in changes],
        **extra,
    }


@pytest.fixture(scope="module")
def saved_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real saved plan with one create, update, delete, replace and no-op (built-in provider: offline)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed (make ci-terraform)")
    work = tmp_path_factory.mktemp("tfplan")
    empty = work / "empty.tfrc"
    empty.write_text("")
    env = {"PATH": "/usr/bin:/bin", "TF_CLI_CONFIG_FILE": str(empty), "TF_IN_AUTOMATION": "1"}

    def tf(*args: str) -> None:
        subprocess.run(
            [terraform, *args, "-input=false", "-no-color"],
            cwd=work,
            env=env,
            check=True,
            capture_output=True,
        )

    (work / "main.tf").write_text(BEFORE)
    tf("init")
    tf("apply", "-auto-approve")
    (work / "main.tf").write_text(AFTER)
    tf("plan", "-out=dev.tfplan")
    return work / "dev.tfplan"


def test_a_real_saved_plan_is_counted_as_gitlab_counts_it(
    saved_plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(saved_plan.parent)  # `terraform show` needs the initialised directory
    summary = summarize(read_plan(saved_plan))
    # replaced counts as one create and one delete, as in GitLab's template; no-op is not counted
    assert summary.gitlab_report() == {"create": 2, "update": 1, "delete": 2}
    labels = {c.address: c.label for c in summary.changes}
    assert labels == {
        "terraform_data.created": "create",
        "terraform_data.deleted": "delete",
        "terraform_data.replaced": "replace",
        "terraform_data.updated": "update",
    }


def test_the_cli_writes_exactly_gitlabs_keys_and_a_readable_summary(
    saved_plan: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(saved_plan.parent)
    out = saved_plan.parent / "report" / "dev.plan-summary.json"
    assert main([str(saved_plan), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == {"create": 2, "update": 1, "delete": 2}
    printed = capsys.readouterr().out
    assert "2 to create, 1 to update, 2 to delete (1 replaced: counted in both)" in printed
    assert "replace  terraform_data.replaced" in printed


def test_plan_json_is_read_without_terraform(tmp_path: Path) -> None:
    path = tmp_path / "dev.tfplan.json"
    path.write_text(json.dumps(plan_json(("a", ["create"]), ("b", ["no-op"]), ("c", ["read"]))))
    summary = summarize(read_plan(path, terraform="/nonexistent/terraform"))
    assert summary.gitlab_report() == {"create": 1, "update": 0, "delete": 0}
    assert [c.address for c in summary.changes] == ["a"]


@pytest.mark.parametrize("changes", [None, []])
def test_a_plan_without_resource_changes_reports_zeros(changes: list[Any] | None) -> None:
    plan = plan_json()
    plan["resource_changes"] = changes
    assert summarize(plan).gitlab_report() == {"create": 0, "update": 0, "delete": 0}
    del plan["resource_changes"]
    assert summarize(plan).describe() == "0 to create, 0 to update, 0 to delete"


def test_a_state_file_is_not_mistaken_for_a_plan() -> None:
    state = {"format_version": "1.0", "terraform_version": "1.11.4", "values": {}}
    with pytest.raises(PlanReportError, match="not a Terraform plan") as err:
        summarize(state)
    assert "terraform show -json" in err.value.hint


def test_an_unknown_major_format_is_refused() -> None:
    with pytest.raises(PlanReportError, match=r"format_version '2\.0'"):
        summarize(plan_json(format_version="2.0"))


def test_terraform_show_failure_is_reported_with_a_hint(tmp_path: Path) -> None:
    binary_plan = tmp_path / "dev.tfplan"
    binary_plan.write_bytes(b"PK\x03\x04 not really a plan")
    with pytest.raises(PlanReportError, match="show -json") as err:
        read_plan(binary_plan, terraform=shutil.which("false") or "false")
    assert "tf-init" in err.value.hint


def test_cli_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    assert main([str(tmp_path / "missing.tfplan"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read") and "hint: run `make tf-plan" in err
    assert not out.exists()
