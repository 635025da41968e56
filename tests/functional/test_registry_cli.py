"""The CLI's registry and pipeline operations against moto (no AWS account)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_scripts.cli import EXIT_ERROR, EXIT_NO_APPROVED_MODEL, main
from pipeline_scripts.errors import DataError, NoApprovedModelError, RegistryError
from pipeline_scripts.ops import registry

GROUP = "mlops-local-abalone"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sm() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        client.create_model_package_group(ModelPackageGroupName=GROUP)
        yield client


def register(sm: Any, status: str = "PendingManualApproval", trained_by: str = "training") -> str:
    n = len(sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]) + 1
    baseline = {
        "Statistics": {"ContentType": "application/json", "S3Uri": f"s3://b/{n}/statistics.json"},
        "Constraints": {"ContentType": "application/json", "S3Uri": f"s3://b/{n}/constraints.json"},
    }
    return str(
        sm.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": "xgb:1.7-1",
                        "ModelDataUrl": f"s3://b/{n}/model.tar.gz",
                        "Environment": {"SAGEMAKER_PROGRAM": "serve.py"},
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            CustomerMetadataProperties={"trained_by": trained_by},
            DriftCheckBaselines={"ModelDataQuality": baseline},
        )["ModelPackageArn"]
    )


def test_latest_approved_picks_the_newest_approved(sm: Any) -> None:
    register(sm, "Approved")
    second = register(sm, "Approved")
    register(sm, "PendingManualApproval")
    model = registry.latest_approved(sm, GROUP)
    assert model.package_arn == second
    assert model.version == 2
    assert model.model_data_url == "s3://b/2/model.tar.gz"
    assert model.statistics_uri == "s3://b/2/statistics.json"
    assert model.environment == {"SAGEMAKER_PROGRAM": "serve.py"}


def test_no_approved_version_is_a_clear_error(sm: Any) -> None:
    register(sm, "PendingManualApproval")
    with pytest.raises(NoApprovedModelError, match="has no Approved version") as err:
        registry.latest_approved(sm, GROUP)
    assert "mlops models approve" in err.value.hint


def test_approve_defaults_to_newest_pending_and_keeps_metadata(sm: Any) -> None:
    register(sm, "Rejected")
    pending = register(sm, "PendingManualApproval", trained_by="hpo")
    result = registry.set_status(sm, GROUP, None, registry.APPROVED, "looks good")
    assert result.arn == pending
    desc = sm.describe_model_package(ModelPackageName=pending)
    assert desc["ModelApprovalStatus"] == "Approved"
    assert desc["ApprovalDescription"] == "looks good"
    assert desc["CustomerMetadataProperties"] == {"trained_by": "hpo"}
    assert registry.latest_approved(sm, GROUP).package_arn == pending


def test_reject_by_version_number(sm: Any) -> None:
    first = register(sm, "Approved")
    register(sm, "PendingManualApproval")
    registry.set_status(sm, GROUP, "1", registry.REJECTED, "drifted")
    assert sm.describe_model_package(ModelPackageName=first)["ModelApprovalStatus"] == "Rejected"
    with pytest.raises(NoApprovedModelError):
        registry.latest_approved(sm, GROUP)


def test_unknown_version_and_group(sm: Any) -> None:
    register(sm)
    with pytest.raises(RegistryError, match="has no version 9"):
        registry.set_status(sm, GROUP, 9, registry.APPROVED)
    with pytest.raises(RegistryError, match="'nope' does not exist"):
        registry.list_versions(sm, "nope")
    with pytest.raises(RegistryError, match="not a version number"):
        registry.set_status(sm, GROUP, "latest", registry.APPROVED)


def test_cli_models_list_approve_reject(sm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    register(sm)
    register(sm)
    assert main(["models", "approve", "1", "--reason", "reviewed"]) == 0
    assert "version 1 is now Approved" in capsys.readouterr().out
    assert main(["models", "reject"]) == 0  # newest pending: version 2
    assert "version 2 is now Rejected" in capsys.readouterr().out
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out] == [["2", "Rejected"], ["1", "Approved"]]


def test_cli_upsert_without_approved_version_says_what_to_do(
    sm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="mlops-local-bucket")
    assert main(["pipelines", "upsert"]) == EXIT_NO_APPROVED_MODEL
    captured = capsys.readouterr()
    assert "created mlops-local-training" in captured.out
    assert "created mlops-local-training-hpo" in captured.out
    assert "error: inference pipeline not upserted" in captured.err
    assert "hint: run the training pipeline, approve its model" in captured.err
    assert "Traceback" not in captured.err


def test_cli_upsert_before_the_first_training_run_upserts_training_and_hpo(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fresh account or local endpoint has no model package group yet: the same exit 3 as no approved
    version (make pipelines-upsert turns it into a warning), not an error that stops the set-up."""
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="mlops-local-bucket")
        assert main(["pipelines", "upsert"]) == EXIT_NO_APPROVED_MODEL
        names = [
            p["PipelineName"]
            for p in boto3.client("sagemaker", region_name="us-east-1").list_pipelines()["PipelineSummaries"]
        ]
    captured = capsys.readouterr()
    assert sorted(names) == ["mlops-local-training", "mlops-local-training-hpo"]
    assert "model package group 'mlops-local-abalone' does not exist yet" in captured.err
    assert "hint: run the training pipeline, approve its model" in captured.err


def test_cli_upsert_records_the_approved_version_and_updates(
    sm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="mlops-local-bucket")
    arn = register(sm, "Approved")
    assert main(["pipelines", "upsert"]) == 0
    assert f"created mlops-local-batch-inference with model version 1 ({arn})" in capsys.readouterr().out
    definition = sm.describe_pipeline(PipelineName="mlops-local-batch-inference")["PipelineDefinition"]
    assert arn in definition
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="mlops-local-bucket")["Contents"]]
    assert any(k.endswith("/sourcedir.tar.gz") for k in keys) and any(k.endswith("/train.py") for k in keys)
    second = register(sm, "Approved")
    assert main(["pipelines", "upsert", "--only", "inference"]) == 0
    assert "updated mlops-local-batch-inference with model version 2" in capsys.readouterr().out
    assert second in sm.describe_pipeline(PipelineName="mlops-local-batch-inference")["PipelineDefinition"]


def test_cli_start_and_status(sm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="mlops-local-bucket")
    assert main(["pipelines", "start", "training"]) == EXIT_ERROR
    assert "does not exist" in capsys.readouterr().err
    main(["pipelines", "upsert", "--only", "training"])
    capsys.readouterr()
    assert main(["pipelines", "start", "training", "--param", "InputDataUri=s3://b/k.csv"]) == 0
    assert capsys.readouterr().out.startswith(
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training/execution/"
    )
    assert main(["pipelines", "status"]) == 0
    out = capsys.readouterr().out
    assert "mlops-local-training " in out and "NotCreated" in out


def test_data_upload_never_overwrites_a_batch(sm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="mlops-local-bucket")
    assert main(["data", "upload", "inference", "--batch", "b1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "uploaded s3://mlops-local-bucket/abalone/inference/b1/ground-truth.csv",
        "uploaded s3://mlops-local-bucket/abalone/inference/b1/inference-data.csv",
    ]
    assert main(["data", "upload", "inference", "--batch", "b1"]) == EXIT_ERROR
    assert "already exists" in capsys.readouterr().err


def test_training_upload_goes_to_a_dated_batch_folder_and_never_overwrites(
    sm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from pipeline_scripts.config import load_config
    from pipeline_scripts.ops import data

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="mlops-local-bucket")
    config = load_config("local", environ={})
    when = datetime(2026, 11, 24, 9, 30, 0, tzinfo=UTC)
    uris = data.upload_data(s3, config, "training", now=when)
    assert uris == ["s3://mlops-local-bucket/abalone/training/batch-20261124T093000Z/training-data.csv"]
    before = s3.get_object(Bucket="mlops-local-bucket", Key=uris[0].split("/", 3)[3])["ETag"]
    with pytest.raises(DataError, match="already exists"):
        data.upload_data(s3, config, "training", now=when)
    assert s3.get_object(Bucket="mlops-local-bucket", Key=uris[0].split("/", 3)[3])["ETag"] == before


def test_inference_upload_checks_every_file_before_uploading_any(
    sm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="mlops-local-bucket")
    # Only the trigger file exists: a second upload must fail before re-sending the ground truth.
    s3.put_object(Bucket="mlops-local-bucket", Key="abalone/inference/b2/inference-data.csv", Body=b"x")
    assert main(["data", "upload", "inference", "--batch", "b2"]) == EXIT_ERROR
    assert "nothing was uploaded or overwritten" in capsys.readouterr().err
    listed = s3.list_objects_v2(Bucket="mlops-local-bucket", Prefix="abalone/inference/b2/")["Contents"]
    assert [o["Key"] for o in listed] == ["abalone/inference/b2/inference-data.csv"]
    assert main(["data", "upload", "inference", "--batch", "a/b"]) == EXIT_ERROR
    assert "not a single folder name" in capsys.readouterr().err


def test_a_file_the_pipeline_would_reject_is_reported_before_any_upload(
    sm: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="mlops-local-bucket")
    (tmp_path / "training-data.csv").write_text("sex,length\nF,0.4\n")
    assert main(["data", "upload", "training", "--data-dir", str(tmp_path), "--batch", "b1"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "looks like a header row; the data files are headerless" in err
    assert f"{tmp_path / 'training-data.csv'}, row 1" in err
    assert "nothing was uploaded" in err

    rows = (ROOT / "data" / "inference-data.csv").read_text().splitlines()
    (tmp_path / "inference-data.csv").write_text("\n".join(rows[:5]) + "\n")
    (tmp_path / "ground-truth.csv").write_text("9\n10\n11\n")
    assert main(["data", "upload", "inference", "--data-dir", str(tmp_path), "--batch", "b1"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "ground-truth.csv has 3 rows but" in err
    assert "inference-data.csv has 5" in err
    assert "Contents" not in s3.list_objects_v2(Bucket="mlops-local-bucket", Prefix="abalone/")


def test_a_folder_of_parts_uploads_as_a_multi_file_batch_with_its_marker_last(
    sm: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="mlops-local-bucket")
    rows = (ROOT / "data" / "inference-data.csv").read_text().splitlines()
    for index, chunk in enumerate((rows[:3], rows[3:7], rows[7:8])):
        (tmp_path / f"part-{index:05d}.csv").write_text("\n".join(chunk) + "\n")
    (tmp_path / "ground-truth.csv").write_text("1\n" * 7)
    argv = ["data", "upload", "inference", "--data-dir", str(tmp_path), "--batch", "b9"]
    assert main(argv) == EXIT_ERROR  # 7 values for 8 rows: nothing is uploaded
    err = capsys.readouterr().err
    assert "ground-truth.csv has 7 rows but" in err and "part-00002.csv have 8" in err
    assert "Contents" not in s3.list_objects_v2(Bucket="mlops-local-bucket", Prefix="abalone/")

    (tmp_path / "ground-truth.csv").write_text("1\n" * 8)
    assert main(argv) == 0
    folder = "s3://mlops-local-bucket/abalone/inference/b9"
    assert capsys.readouterr().out.splitlines() == [
        f"uploaded {folder}/{name}"
        for name in ("ground-truth.csv", "part-00000.csv", "part-00001.csv", "part-00002.csv", "_SUCCESS")
    ]  # ground truth first, the marker (which starts the one run) last
    assert (
        s3.get_object(Bucket="mlops-local-bucket", Key="abalone/inference/b9/_SUCCESS")["Body"].read() == b""
    )

    (tmp_path / "inference-data.csv").write_text(rows[0] + "\n")
    assert main([*argv[:-1], "b10"]) == EXIT_ERROR
    assert "holds both inference-data.csv and 3 part-*.csv file(s)" in capsys.readouterr().err


def test_empty_parts_upload_as_spark_writes_them_and_all_empty_is_refused(
    sm: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Spark writes an empty part per empty partition; the pipeline skips them, so the upload does too
    when checking (it still uploads them, as written). A batch of empty parts only is refused."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="mlops-local-bucket")
    rows = (ROOT / "data" / "inference-data.csv").read_text().splitlines()
    (tmp_path / "part-00000.csv").write_text("")
    (tmp_path / "part-00001.csv").write_text("\n".join(rows[:4]) + "\n")
    (tmp_path / "part-00002.csv").write_text("\n \n")
    (tmp_path / "ground-truth.csv").write_text("1\n" * 4)
    assert main(["data", "upload", "inference", "--data-dir", str(tmp_path), "--batch", "sparse"]) == 0
    listed = s3.list_objects_v2(Bucket="mlops-local-bucket", Prefix="abalone/inference/sparse/")["Contents"]
    assert sorted(o["Key"].rsplit("/", 1)[-1] for o in listed) == [
        "_SUCCESS",
        "ground-truth.csv",
        "part-00000.csv",
        "part-00001.csv",
        "part-00002.csv",
    ]
    capsys.readouterr()

    (tmp_path / "part-00001.csv").write_text("")
    (tmp_path / "ground-truth.csv").unlink()
    assert main(["data", "upload", "inference", "--data-dir", str(tmp_path), "--batch", "void"]) == EXIT_ERROR
    assert "every part of the batch is empty" in capsys.readouterr().err
    assert "Contents" not in s3.list_objects_v2(Bucket="mlops-local-bucket", Prefix="abalone/inference/void/")
