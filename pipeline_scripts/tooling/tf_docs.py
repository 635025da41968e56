"""The README's Terraform inputs and outputs tables, generated from variables.tf and outputs.tf.

terraform-docs does this where it is installed; this small equivalent needs nothing but python-hcl2 and
works offline. It rewrites what lies between the markers of the given markdown file::

    <!-- BEGIN_TF_DOCS -->
    ...generated...
    <!-- END_TF_DOCS -->

    python -m pipeline_scripts.tooling.tf_docs README.md            # make tf-docs
    python -m pipeline_scripts.tooling.tf_docs README.md --check    # exit 1 when the tables are out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from pipeline_scripts.errors import MlopsError
from pipeline_scripts.paths import PROJECT_ROOT

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
_REQUIRED = object()


class TfDocsError(MlopsError):
    """The Terraform files or the markdown file cannot be used."""


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    type: str
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@dataclass(frozen=True)
class Output:
    name: str
    description: str


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            return dict(
                hcl2.load(handle, serialization_options=SerializationOptions(strip_string_quotes=True))
            )
    except FileNotFoundError as exc:
        raise TfDocsError(f"{path}: file not found") from exc
    except Exception as exc:  # lark raises several error types
        raise TfDocsError(f"{path}: not valid HCL: {str(exc).strip().splitlines()[0]}") from exc


def _expression(value: Any) -> str:
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def read_variables(path: Path) -> list[Variable]:
    """Every ``variable`` block of ``path`` in file order."""
    variables = []
    for block in _load(path).get("variable", []):
        ((name, body),) = block.items()
        if "description" not in body:
            raise TfDocsError(f"{path}: variable {name!r} has no description")
        variables.append(
            Variable(
                name=name,
                description=str(body["description"]),
                type=_expression(body.get("type", "any")),
                default=body.get("default", _REQUIRED),
            )
        )
    return variables


def read_outputs(path: Path) -> list[Output]:
    """Every ``output`` block of ``path`` in file order."""
    outputs = []
    for block in _load(path).get("output", []):
        ((name, body),) = block.items()
        if "description" not in body:
            raise TfDocsError(f"{path}: output {name!r} has no description")
        outputs.append(Output(name=name, description=str(body["description"])))
    return outputs


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if text else ""


def _default(variable: Variable) -> str:
    if variable.required:
        return "n/a"
    value = variable.default
    if isinstance(value, str) and value.startswith("${"):
        return _code(_expression(value))
    return _code(json.dumps(value, ensure_ascii=False))


def render(variables: Sequence[Variable], outputs: Sequence[Output]) -> str:
    """The markdown between the markers: an Inputs table and an Outputs table."""
    lines = [
        "<!-- Generated from variables.tf and outputs.tf by `make tf-docs` (pipeline_scripts/tooling) -->",
        "",
        "#### Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for variable in sorted(variables, key=lambda v: (not v.required, v.name)):
        lines.append(
            f"| {_code(variable.name)} | {_cell(variable.description)} | {_code(variable.type)} "
            f"| {_default(variable)} | {'yes' if variable.required else 'no'} |"
        )
    lines += ["", "#### Outputs", "", "| Name | Description |", "|------|-------------|"]
    lines += [f"| {_code(output.name)} | {_cell(output.description)} |" for output in outputs]
    return "\n".join(lines)


def update(markdown: str, generated: str, where: str = "the file") -> str:
    """``markdown`` with the text between the markers replaced by ``generated``."""
    if markdown.count(BEGIN) != 1 or markdown.count(END) != 1:
        raise TfDocsError(
            f"{where}: needs exactly one {BEGIN} and one {END} line (put them where the tables go)"
        )
    start = markdown.index(BEGIN) + len(BEGIN)
    stop = markdown.index(END)
    if stop < start:
        raise TfDocsError(f"{where}: {END} comes before {BEGIN}")
    return f"{markdown[:start]}\n{generated}\n{markdown[stop:]}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline_scripts.tooling.tf_docs", description=__doc__.splitlines()[0]
    )
    parser.add_argument("markdown", type=Path, help="file with the BEGIN_TF_DOCS / END_TF_DOCS markers")
    parser.add_argument(
        "--tf-dir", type=Path, default=PROJECT_ROOT, help="folder with variables.tf and outputs.tf"
    )
    parser.add_argument(
        "--check", action="store_true", help="only check: exit 1 when the tables are out of date"
    )
    args = parser.parse_args(argv)
    try:
        generated = render(
            read_variables(args.tf_dir / "variables.tf"), read_outputs(args.tf_dir / "outputs.tf")
        )
        if not args.markdown.is_file():
            raise TfDocsError(f"{args.markdown}: file not found")
        current = args.markdown.read_text(encoding="utf-8")
        updated = update(current, generated, str(args.markdown))
    except TfDocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if updated != current:
            print(f"{args.markdown}: the Terraform tables are out of date: run make tf-docs", file=sys.stderr)
            return 1
        print(f"{args.markdown}: the Terraform tables are up to date")
        return 0
    if updated != current:
        args.markdown.write_text(updated, encoding="utf-8")
        print(f"{args.markdown}: Terraform tables updated")
    else:
        print(f"{args.markdown}: Terraform tables already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
