"""Bad-input suite, registry: approving a Rejected version needs --force and keeps the rejection."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline_scripts.cli import EXIT_ERROR, main
from tests.functional.test_registry_cli import register, sm  # noqa: F401  (sm is a fixture)


def test_approving_a_rejected_version_needs_force(sm: Any, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    arn = register(sm)
    assert main(["models", "reject", "1", "--reason", "leaks the test set"]) == 0
    capsys.readouterr()
    assert main(["models", "approve", "1", "--reason", "looked again"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "was Rejected (reason: leaks the test set)" in err and "--force" in err
    desc = sm.describe_model_package(ModelPackageName=arn)
    assert desc["ModelApprovalStatus"] == "Rejected", "nothing changed"
    assert desc["ApprovalDescription"] == "leaks the test set", "the reason is not overwritten"

    assert main(["models", "approve", "1", "--force", "--reason", "looked again"]) == 0
    out = capsys.readouterr().out
    assert "the rejection is kept" in out
    desc = sm.describe_model_package(ModelPackageName=arn)
    assert desc["ModelApprovalStatus"] == "Approved"
    assert "looked again" in desc["ApprovalDescription"]
    assert "previously Rejected: leaks the test set" in desc["ApprovalDescription"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["models", "approve", "latest"], "not a version number"),
        (["models", "approve", "99"], "has no version 99"),
        (["models", "reject", "-1"], "not a version number"),
        (["models", "approve", "arn:aws:sagemaker:us-east-1:123456789012:model-package/other/1"], "not in"),
    ],
)
def test_bad_versions_are_refused(
    sm: Any,  # noqa: F811  (the fixture imported above)
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    register(sm)
    assert main(argv) == EXIT_ERROR
    assert message in capsys.readouterr().err
    assert sm.describe_model_package(ModelPackageName=_first(sm))["ModelApprovalStatus"] == (
        "PendingManualApproval"
    )


def _first(sm: Any) -> str:  # noqa: F811
    return str(
        sm.list_model_packages(ModelPackageGroupName="mlops-local-abalone")["ModelPackageSummaryList"][0][
            "ModelPackageArn"
        ]
    )
