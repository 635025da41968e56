"""Config: one frozen, validated object; precedence CLI > environment > file > default."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from pipeline_scripts.config import ENVIRONMENTS, load_config
from pipeline_scripts.config.load import PIPELINES_YAML
from pipeline_scripts.config.tfvars import read_tfvars
from pipeline_scripts.errors import ConfigError
from pipeline_scripts.paths import ENV_DIR


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    target = tmp_path / "env_files"
    shutil.copytree(ENV_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_loads(environment: str) -> None:
    config = load_config(environment, environ={})
    assert config.env.environment == environment
    assert config.dataset.problem_type == "regression"  # data/dataset.yaml: abalone
    assert config.quality.check.metric == "rmse" and config.quality.check.threshold == 3.0
    assert len(set(config.env.pipeline_names.values())) == 3


def test_config_is_frozen() -> None:
    config = load_config("local", environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.env.bucket_name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.pipelines.training.hyperparameters["max_depth"] = 1  # type: ignore[index]


def test_real_hcl_types_are_read() -> None:
    values = read_tfvars(ENV_DIR / "dev.tfvars")
    assert values["dataset_dir"] == "data"
    assert values["recreate_pipelines"] is False
    assert values["email_recipient"] == ["data-scientist@example.com"]
    assert values["custom_notification_config"][0]["step_name"] == "ModelQualityCalcStep"
    assert values["bucket_name"] == "mlops-dev-bucket"  # unquoted: no surrounding quotes kept


def test_custom_notification_config_is_typed() -> None:
    rules = load_config("local", environ={}).env.custom_notification_config
    assert {(r.step_name, r.step_status) for r in rules} >= {("ModelQualityCalcStep", "Failed")}
    assert all(r.step_msg for r in rules)


def test_precedence_cli_over_environment_over_file() -> None:
    file_only = load_config("local", environ={})
    from_env = load_config("local", environ={"MLOPS_BUCKET_NAME": "env-bucket", "MLOPS_HPO__MAX_JOBS": "4"})
    both = load_config(
        "local", environ={"MLOPS_BUCKET_NAME": "env-bucket"}, overrides={"bucket_name": "cli-bucket"}
    )
    assert file_only.env.bucket_name == "mlops-local-bucket"
    assert file_only.sources["bucket_name"].startswith("env_files/local.tfvars:")
    assert from_env.env.bucket_name == "env-bucket"
    assert from_env.pipelines.hpo.max_jobs == 4
    assert from_env.sources["bucket_name"] == "MLOPS_BUCKET_NAME"
    assert both.env.bucket_name == "cli-bucket"
    assert both.sources["bucket_name"] == "--set bucket_name"


def test_defaults_apply_when_a_key_is_absent(env_dir: Path) -> None:
    edit(env_dir / "local.tfvars", 'kms_key   = ""\n', "")
    assert load_config("local", env_dir=env_dir, environ={}).env.kms_key == ""


def test_override_values_are_coerced_to_the_declared_type() -> None:
    config = load_config(
        "local",
        environ={},
        overrides={
            "recreate_pipelines": "true",
            "model_quality_threshold": "2.5",
            "email_recipient": "a@b.io,c@d.io",
        },
    )
    assert config.env.recreate_pipelines is True
    assert config.env.model_quality_threshold == 2.5
    assert config.env.email_recipient == ("a@b.io", "c@d.io")


def test_missing_key_names_file_key_and_fix(env_dir: Path) -> None:
    edit(env_dir / "local.tfvars", 'bucket_name         = "mlops-local-bucket"\n', "")
    with pytest.raises(ConfigError) as err:
        load_config("local", env_dir=env_dir, environ={})
    assert "local.tfvars" in str(err.value)
    assert "missing key bucket_name" in str(err.value)
    assert "add `bucket_name" in err.value.hint


def test_wrong_type_names_file_key_and_fix(env_dir: Path) -> None:
    edit(env_dir / "local.tfvars", "# model_quality_threshold = 3.0", 'model_quality_threshold = "high"')
    with pytest.raises(ConfigError) as err:
        load_config("local", env_dir=env_dir, environ={})
    assert re.search(
        r"local.tfvars:\d+: model_quality_threshold must be a number, got the string 'high'", str(err.value)
    )


def test_wrong_type_bool(env_dir: Path) -> None:
    edit(env_dir / "local.tfvars", "recreate_pipelines       = false", "recreate_pipelines       = 3")
    with pytest.raises(ConfigError, match="recreate_pipelines must be true or false, got the number 3"):
        load_config("local", env_dir=env_dir, environ={})


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "# model_quality_threshold = 3.0",
            "model_quality_threshold = -1",
            "model_quality_threshold -1.0 is impossible for rmse",
        ),
        (
            'bucket_name         = "mlops-local-bucket"',
            'bucket_name         = "My_Bucket"',
            "not a valid S3 bucket",
        ),
        ('bucket_inf_prefix   = "abalone/inference"', 'bucket_inf_prefix   = "abalone/training"', "overlaps"),
        (
            'role_arn  = "arn:aws:iam::123456789012:role/',
            'role_arn  = "arn:aws:iam::12:role/',
            "not an IAM role ARN",
        ),
        ('["data-scientist@example.com"]', '["not-an-email"]', "not an e-mail address"),
        ('kms_key   = ""', 'kms_key   = "my-key"', "not a KMS key ARN"),
        ('subnet_id = ""', 'subnet_id = "subnet-0123456789abcdef0"', "sg_id is set without the other"),
        ('step_status = "Failed"', 'step_status = "Broken"', "step_status is 'Broken'"),
        ('environment = "local"', 'environment = "dev"', "but --env is 'local'"),
    ],
)
def test_impossible_values_fail_at_load(env_dir: Path, old: str, new: str, message: str) -> None:
    edit(env_dir / "local.tfvars", old, new)
    with pytest.raises(ConfigError, match=message) as err:
        load_config("local", env_dir=env_dir, environ={})
    assert "env_files/local.tfvars" in str(err.value) or "local.tfvars" in str(err.value)
    assert err.value.hint


def test_unknown_key_suggests_the_right_one(env_dir: Path) -> None:
    (env_dir / "local.tfvars").write_text((env_dir / "local.tfvars").read_text() + 'bucket_nmae = "x"\n')
    with pytest.raises(ConfigError, match="unknown key bucket_nmae") as err:
        load_config("local", env_dir=env_dir, environ={})
    assert "bucket_name" in err.value.hint


def test_unknown_override_is_rejected() -> None:
    with pytest.raises(ConfigError, match="MLOPS_BUKET_NAME: unknown key"):
        load_config("local", environ={"MLOPS_BUKET_NAME": "x"})


def test_invalid_hcl_is_a_config_error(env_dir: Path) -> None:
    (env_dir / "local.tfvars").write_text('bucket_name = "unterminated\n')
    with pytest.raises(ConfigError, match=r"local.tfvars:1: bucket_name: the string is never closed"):
        load_config("local", env_dir=env_dir, environ={})


def test_interpolation_is_rejected(env_dir: Path) -> None:
    edit(env_dir / "local.tfvars", 'user_id = "local-developer"', 'user_id = "${var.me}"')
    with pytest.raises(ConfigError, match=r"local.tfvars:\d+: user_id: the string holds a template"):
        load_config("local", env_dir=env_dir, environ={})


def test_unknown_environment() -> None:
    with pytest.raises(ConfigError, match="unknown environment 'qa'"):
        load_config("qa", environ={})


def test_pipelines_yaml_errors_name_the_key(tmp_path: Path) -> None:
    broken = tmp_path / "pipelines.yaml"
    broken.write_text(PIPELINES_YAML.read_text().replace("max_parallel_jobs: 2", "max_parallel_jobs: 20"))
    with pytest.raises(ConfigError, match=r"pipelines.yaml:\d+: hpo.max_parallel_jobs is 20 with max_jobs 8"):
        load_config("local", environ={}, pipelines_file=broken)
    broken.write_text(
        PIPELINES_YAML.read_text().replace(
            "max_depth: {type: integer, min: 3, max: 9}", "max_depth: {type: integer, min: 9, max: 3}"
        )
    )
    with pytest.raises(ConfigError, match=r"hpo.ranges.max_depth.max min 9.0 is not below max 3.0"):
        load_config("local", environ={}, pipelines_file=broken)
    broken.write_text(
        PIPELINES_YAML.read_text().replace("instance_type: ml.m5.xlarge", "instance_type: m5.xlarge", 1)
    )
    with pytest.raises(
        ConfigError, match=r"processing\.instance_type 'm5\.xlarge' is not a SageMaker instance type"
    ):
        load_config("local", environ={}, pipelines_file=broken)
