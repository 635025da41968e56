"""local_aws.demo.dag: dependencies and layers of the real definitions, and the SVG picture."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from local_aws.demo import dag

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def definition(kind: str) -> dict:
    return json.loads((GOLDEN / f"{kind}.json").read_text())


def test_training_dependencies_come_from_properties_depends_on_and_branches() -> None:
    deps = dag.dependencies(definition("training"))
    assert deps["PreprocessData"] == []
    assert deps["TrainModel"] == ["PreprocessData"]  # property reference to the preprocess outputs
    assert "TrainModel" in deps["EvaluateModel"]  # DependsOn and the model artifact reference
    assert "EvaluateModel" in deps["CheckModelEvaluation"]  # Std:JsonGet on its property file
    assert deps["CandidateModel-RegisterModel"][0] == "CheckModelEvaluation"  # the if branch
    assert deps["FailModelEvaluation"][0] == "CheckModelEvaluation"  # the else branch


@pytest.mark.parametrize(
    ("kind", "first", "last"),
    [
        ("training", ["PreprocessData"], ["CandidateModel-RegisterModel", "FailModelEvaluation"]),
        ("hpo", ["PreprocessData"], ["CandidateModel-RegisterModel", "FailModelEvaluation"]),
        ("inference", ["ApprovedModel-CreateModel", "PreprocessInferenceData"], ["ModelQualityCalcStep"]),
    ],
)
def test_layers_order_every_step_after_its_dependencies(kind: str, first: list[str], last: list[str]) -> None:
    grouped = dag.layers(definition(kind))
    assert grouped[0] == first and grouped[-1] == last
    position = {name: i for i, names in enumerate(grouped) for name in names}
    for name, parents in dag.dependencies(definition(kind)).items():
        assert all(position[p] < position[name] for p in parents), name


def test_svg_is_well_formed_and_colours_each_step_by_status() -> None:
    picture = dag.svg(
        definition("inference"), {"BatchTransform": "Succeeded", "ModelQualityCalcStep": "Failed"}
    )
    root = ET.fromstring(picture)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "BatchTransform: Succeeded" in titles
    assert "ModelQualityCalcStep: Failed" in titles
    assert "PreprocessInferenceData: NotRun" in titles
    assert dag.STATUS_COLOURS["Failed"] in picture and dag.STATUS_COLOURS["Succeeded"] in picture


def test_a_cycle_does_not_recurse_forever() -> None:
    looped = {
        "Steps": [
            {"Name": "A", "Type": "Processing", "DependsOn": ["B"]},
            {"Name": "B", "Type": "Processing", "DependsOn": ["A"]},
        ]
    }
    assert sorted(n for layer in dag.layers(looped) for n in layer) == ["A", "B"]
