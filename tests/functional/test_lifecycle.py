"""The lifecycle (README, "Two commands") end to end on an in-process local endpoint: what `make demo` runs.

Uploads start pipelines through the S3 event rules and the pipeline-trigger Lambda; the approval reaches
the deploy job through the deploy-trigger Lambda and the fake GitLab; the model-quality failure starts
HPO (once); notifications are the notifier Lambda's SNS messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local_aws.demo.lifecycle import run_demo
from pipeline_scripts.config import load_config

EXPECTED = [
    "infrastructure provisioned from the repo's Terraform",
    "training and HPO pipelines upserted",
    "S3 event started mlops-local-training",
    "training pipeline succeeded",
    "version 1 registered, PendingManualApproval",
    "data scientist notified of the new version",
    "GitLab deploy-on-approval job ran",
    "inference pipeline uses version 1",
    "S3 event started mlops-local-batch-inference",
    "inference on the clean batch succeeded",
    "data-quality check on the clean batch: no violations",
    "model quality on the clean batch within the threshold",
    "S3 event started mlops-local-batch-inference",
    "inference on the drifted batch failed at ModelQualityCalcStep",
    "data-quality check on the drifted batch: violations",
    "model quality on the drifted batch breaches the threshold",
    "model-quality failure started the HPO pipeline",
    "a second failure while HPO runs starts no second HPO execution",
    "HPO pipeline succeeded",
    "version 2 registered for enterprise review",
    "data scientist notified of the HPO version",
]


@pytest.mark.slow
def test_the_whole_lifecycle_runs_locally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_HPO__MAX_JOBS", "2")  # the demo tunes 4 candidates; 2 prove the same here
    lines: list[str] = []
    result = run_demo(load_config("local", environ={}), tmp_path / "demo", echo=lines.append)

    failed = [f"{c.what}: {c.detail}" for c in result.checks if not c.ok]
    assert not failed, "\n".join(failed + lines[-40:])
    assert [c.what for c in result.checks] == EXPECTED

    data = json.loads((tmp_path / "demo" / "demo.json").read_text())
    pipelines = [e["PipelineName"] for e in data["executions"]]
    assert pipelines == [
        "mlops-local-training",
        "mlops-local-batch-inference",
        "mlops-local-batch-inference",
        "mlops-local-training-hpo",
    ]
    drifted = data["executions"][2]
    assert drifted["PipelineExecutionStatus"] == "Failed"
    assert "MODEL QUALITY FAILED: rmse" in drifted["FailureReason"]
    # The failed step still published its results (Continuous upload) and the report links them.
    mq = next(a for a in drifted["Artifacts"] if a["step"] == "ModelQualityCalcStep")
    assert mq["result"]["threshold_check"]["passed"] is False
    assert (tmp_path / "demo" / mq["href"]).is_file()

    subjects = [n["subject"] for n in data["notifications"]]
    assert "[local] mlops-local-training: CandidateModel-RegisterModel Succeeded" in subjects
    assert "[local] mlops-local-batch-inference: ModelQualityCalcStep Failed" in subjects
    custom = next(n for n in data["notifications"] if "ModelQualityCalcStep Failed" in n["subject"])
    assert "HPO retraining pipeline is starting" in custom["message"]  # the configured custom message

    report = (tmp_path / "demo" / "report.html").read_text()
    assert f"{len(EXPECTED)} of {len(EXPECTED)} expected transitions happened" in report
    assert report.count("<svg") >= 4  # one DAG per execution
    kinds = {row["kind"] for row in result.timeline}
    assert kinds == {"event", "step", "notification"}


@pytest.mark.slow
def test_the_classification_example_runs_the_same_lifecycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """data/penguins (multiclass, categorical features, missing values) through the same 21 transitions,
    with nothing but the data set folder changed."""
    monkeypatch.setenv("MLOPS_HPO__MAX_JOBS", "2")
    root = Path(__file__).resolve().parents[2]
    config = load_config("local", overrides={"dataset_dir": str(root / "data" / "penguins")}, environ={})
    lines: list[str] = []
    result = run_demo(config, tmp_path / "demo", echo=lines.append)

    failed = [f"{c.what}: {c.detail}" for c in result.checks if not c.ok]
    assert not failed, "\n".join(failed + lines[-40:])
    assert [c.what for c in result.checks] == EXPECTED

    data = json.loads((tmp_path / "demo" / "demo.json").read_text())
    clean, drifted = data["executions"][1], data["executions"][2]
    assert "MODEL QUALITY FAILED: macro_f1" in drifted["FailureReason"]
    quality = {
        name: next(a for a in execution["Artifacts"] if a["step"] == "ModelQualityCalcStep")["result"]
        for name, execution in (("clean", clean), ("drifted", drifted))
    }
    for name, passed in (("clean", True), ("drifted", False)):
        document = quality[name]
        assert document["threshold_check"]["metric"] == "macro_f1"
        assert document["threshold_check"]["comparison"] == ">="
        assert document["threshold_check"]["passed"] is passed
        matrix = document["multiclass_classification_metrics"]["confusion_matrix"]
        assert set(matrix) == {"Adelie", "Chinstrap", "Gentoo"}
