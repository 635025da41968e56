"""tooling/tf_docs.py: the README's Terraform tables, generated from variables.tf and outputs.tf."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline_scripts.tooling.tf_docs import (
    BEGIN,
    END,
    TfDocsError,
    main,
    read_outputs,
    read_variables,
    render,
    update,
)

ROOT = Path(__file__).resolve().parents[2]


def declared(kind: str, path: Path) -> list[str]:
    return re.findall(rf'(?m)^{kind} "(\w+)"', path.read_text())


def table_names(markdown: str, heading: str) -> list[str]:
    section = markdown.split(f"#### {heading}", 1)[1].split("####", 1)[0]
    return re.findall(r"(?m)^\| `(\w+)` \|", section)


def test_the_tables_list_every_variable_and_output() -> None:
    markdown = render(read_variables(ROOT / "variables.tf"), read_outputs(ROOT / "outputs.tf"))
    assert sorted(table_names(markdown, "Inputs")) == sorted(declared("variable", ROOT / "variables.tf"))
    assert table_names(markdown, "Outputs") == declared("output", ROOT / "outputs.tf")


def test_rows_show_type_default_and_required() -> None:
    markdown = render(read_variables(ROOT / "variables.tf"), read_outputs(ROOT / "outputs.tf"))
    rows = {row.split("|")[1].strip(" `"): row for row in markdown.splitlines() if row.startswith("| `")}
    assert rows["environment"].endswith("| `string` | n/a | yes |")
    assert rows["notify_step_statuses"].endswith('| `list(string)` | `["Failed"]` | no |')
    assert rows["training_schedule"].endswith("| `string` | `null` | no |")
    assert "`list(object({step_name = string," in rows["custom_notification_config"]
    # Required inputs come first.
    required = [row.endswith("| yes |") for row in rows.values() if row.count("|") == 6]
    assert required == sorted(required, reverse=True)


def test_update_replaces_only_between_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n\n{BEGIN}\nold table\n{END}\n\nafter\n")
    assert main([str(readme), "--check"]) == 1
    assert main([str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\nbefore\n\n" + BEGIN + "\n") and text.endswith(END + "\n\nafter\n")
    assert "old table" not in text and "| `bucket_name` |" in text
    assert main([str(readme), "--check"]) == 0
    assert main([str(readme)]) == 0 and readme.read_text() == text  # idempotent


@pytest.mark.parametrize("markdown", ["no markers", f"{END}\n{BEGIN}\n", f"{BEGIN}\n{BEGIN}\n{END}\n"])
def test_markers_are_required_once_and_in_order(markdown: str) -> None:
    with pytest.raises(TfDocsError):
        update(markdown, "table")


def test_a_variable_without_description_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text('variable "x" {\n  type = string\n}\n')
    with pytest.raises(TfDocsError, match="variable 'x' has no description"):
        read_variables(tmp_path / "variables.tf")
