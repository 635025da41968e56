"""Bad-input suite, configuration and CLI: every bad value stops with exit 2, a message that names where
it came from (file:line, --set KEY, MLOPS_KEY, the option), and nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import botocore.session
import pytest

from pipeline_scripts import cli
from pipeline_scripts.config import load_config
from pipeline_scripts.config.arns import MODEL_PACKAGE_ARN_PATTERN, is_model_package_arn
from pipeline_scripts.errors import ConfigError
from pipeline_scripts.paths import ENV_DIR

GOOD_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-local-abalone/3"


def run(argv: list[str], capsys: pytest.CaptureFixture[str], out: Path) -> str:
    code = cli.main([*argv, "pipelines", "definition", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_ERROR, err
    assert not out.exists() or not any(out.iterdir()), "nothing is written on a bad input"
    assert "Traceback" not in err
    return err


OVERRIDES = [
    ("model_quality_threshold", "inf", "finite number"),
    ("model_quality_threshold", "nan", "finite number"),
    ("model_quality_threshold", "-1", "impossible"),
    ("model_quality_threshold", "1e999", "finite number"),
    ("bucket_name", "Bad_Bucket", "not a valid S3 bucket name"),
    ("email_recipient", "not-an-address", "not an e-mail address"),
    ("role_arn", "arn:aws:iam::1:role/x", "not an IAM role ARN"),
    ("environment", "dev", "--env is 'local'"),
    ("hpo.max_jobs", "2.5", "must be an integer"),
    ("hpo.max_parallel_jobs", "99", "with max_jobs"),
    ("hpo.ranges.max_depth.min", "2.5", "not a whole number"),
    ("hpo.ranges.max_depth.scaling", "ReverseLogarithmic", "not allowed for an integer range"),
    ("hpo.ranges.eta.min", "0", "needs min > 0"),
    ("hpo.register_threshold", ".inf", "finite number"),
    ("training.split.test_fraction", "1.5", "not between 0 and 1"),
    ("training.hyperparameters.eta", ".nan", "finite number"),
    ("nope", "1", "unknown key"),
]


@pytest.mark.parametrize(("key", "value", "message"), OVERRIDES, ids=[f"{k}={v}" for k, v, _ in OVERRIDES])
def test_bad_set_names_the_option(
    key: str, value: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    err = run(["--set", f"{key}={value}"], capsys, tmp_path / "out")
    assert f"error: --set {key}" in err and message in err
    assert "tfvars:" not in err.splitlines()[0] or "with --set" in err, "the correct file is not blamed"


@pytest.mark.parametrize(("key", "value", "message"), OVERRIDES[:10], ids=[k for k, _, _ in OVERRIDES[:10]])
def test_bad_mlops_variable_names_the_variable(
    key: str,
    value: str,
    message: str,
    *,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    variable = "MLOPS_" + key.upper().replace(".", "__")
    monkeypatch.setenv(variable, value)
    err = run([], capsys, tmp_path / "out")
    assert f"error: {variable}" in err and message in err
    assert variable in err.splitlines()[1], "the hint says to fix the variable, not a file"


def test_set_hint_never_suggests_editing_a_correct_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    err = run(["--set", "environment=dev"], capsys, tmp_path / "out")
    assert "in that file" not in err and "drop --set environment" in err


TFVARS = [
    (
        "# model_quality_threshold = 3.0",
        "model_quality_threshold = 3.0\nmodel_quality_threshold = 4.0",
        "given twice",
    ),
    (
        'email_recipient            = ["data-scientist@example.com"]',
        'email_recipient = "a@example.com"',
        "must be a list",
    ),
    ('kms_key   = ""', 'kms_key   = ["x"]', "must be a string"),
    ("upload_training_data  = false", "upload_training_data  = 3", "true or false"),
    ("# model_quality_threshold = 3.0", 'model_quality_threshold = "high"', "must be a number"),
    ('user_id = "local-developer"', 'user_id = "${var.me}"', "template"),
    ('user_id = "local-developer"', "user_id = var.me", "not a literal value"),
    ('user_id = "local-developer"', 'user_id = "unterminated', "never closed"),
    ('user_id = "local-developer"', 'user_id = "a" extra = 1', "one key per line"),
    ('user_id = "local-developer"', "user_id =", "has no value"),
    ('user_id = "local-developer"', 'user_id = ["a",', "never closed with ']'"),
    ('user_id = "local-developer"', '"user_id" = "x"', "expected a variable name"),
    ('user_id = "local-developer"', 'user_id = "a\\q"', "unknown escape"),
    ('user_id = "local-developer"', "user_id = {a = 1, a = 2}", "given twice in the map"),
    ("# model_quality_threshold = 3.0", "model_quality_threshold = inf", "not a literal value"),
    ("# model_quality_threshold = 3.0", "model_quality_threshold = 1e400", "finite number"),
]


@pytest.mark.parametrize(("old", "new", "message"), TFVARS, ids=[m for _, _, m in TFVARS])
def test_bad_tfvars_name_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    env_dir = tmp_path / "env_files"
    shutil.copytree(ENV_DIR, env_dir)
    path = env_dir / "local.tfvars"
    text = path.read_text()
    assert old in text
    line = text[: text.index(old)].count("\n") + 1 + (1 if message == "given twice" else 0)
    path.write_text(text.replace(old, new))
    before = path.read_bytes()
    with pytest.raises(ConfigError) as err:
        load_config("local", env_dir=env_dir, environ={})
    first = str(err.value)
    assert message in first
    if message not in ("finite number", "true or false"):
        assert f"local.tfvars:{line}:" in first, first
    assert path.read_bytes() == before


def test_tfvars_take_exponent_numbers(tmp_path: Path) -> None:
    env_dir = tmp_path / "env_files"
    shutil.copytree(ENV_DIR, env_dir)
    path = env_dir / "local.tfvars"
    path.write_text(
        path.read_text().replace("# model_quality_threshold = 3.0", "model_quality_threshold = 25e-1")
    )
    assert load_config("local", env_dir=env_dir, environ={}).env.model_quality_threshold == 2.5


YAML = [
    ("max_jobs: 8", "max_jobs: .inf", "must be an integer"),
    ("  max_parallel_jobs: 2\n", "  max_parallel_jobs: 2\n  register_threshold: .nan\n", "finite number"),
    (
        "max_depth: {type: integer, min: 3, max: 9}",
        "max_depth: {type: integer, min: 2.5, max: 9}",
        "whole number",
    ),
    (
        "subsample: {type: continuous, min: 0.5, max: 1.0}",
        "subsample: {type: continuous, min: 0.5, max: 1.0, scaling: ReverseLogarithmic}",
        "max < 1",
    ),
    (
        "gamma: {type: continuous, min: 0, max: 5}",
        "gamma: {type: continuous, min: 0, max: 5, scaling: Logarithmic}",
        "min > 0",
    ),
    ("strategy: Bayesian", "strategy: Bayesian\n  strategy: Random", "given twice"),
]


@pytest.mark.parametrize(("old", "new", "message"), YAML, ids=[m for _, _, m in YAML])
def test_bad_pipelines_yaml_name_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    from pipeline_scripts.config.load import PIPELINES_YAML

    text = PIPELINES_YAML.read_text()
    assert old in text
    broken = tmp_path / "pipelines.yaml"
    broken.write_text(text.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_config("local", environ={}, pipelines_file=broken)
    assert message in str(err.value)
    assert "pipelines.yaml:" in str(err.value), "names the line"


ARNS = [
    "not-an-arn",
    "arn:aws:sagemaker:",
    GOOD_ARN + "`id`",
    GOOD_ARN.replace("/3", "/$(id)"),
    GOOD_ARN + " ",
    GOOD_ARN.replace("123456789012", "1234"),
    GOOD_ARN.replace("sagemaker", "s3"),
]


@pytest.mark.parametrize("arn", ARNS, ids=range(len(ARNS)))
def test_bad_model_package_arn_option(arn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = cli.main(["pipelines", "definition", "--out", str(out), "--model-package-arn", arn])
    err = capsys.readouterr().err
    assert code == cli.EXIT_ERROR and "--model-package-arn" in err and "not a model package ARN" in err
    assert not out.exists()


@pytest.mark.parametrize("arn", ARNS[2:5], ids=range(3))
def test_bad_model_package_arn_as_version(arn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "approve", arn]) == cli.EXIT_ERROR
    assert "models approve VERSION" in capsys.readouterr().err


def test_arn_rule_is_botocores_pattern_and_anchored() -> None:
    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("ModelPackageArn")
    assert shape.metadata["pattern"] == MODEL_PACKAGE_ARN_PATTERN
    assert is_model_package_arn(GOOD_ARN)
    assert not is_model_package_arn("x" + GOOD_ARN) and not is_model_package_arn(GOOD_ARN + "\n")


@pytest.mark.parametrize("name", ["pipelines.yaml", "local.tfvars"])
def test_binary_config_files_are_one_line_naming_the_file(tmp_path: Path, name: str) -> None:
    """A config file that is not UTF-8 text is a ConfigError naming it, never a traceback."""
    from pipeline_scripts.config.load import PIPELINES_YAML
    from pipeline_scripts.paths import ENV_DIR

    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "local.tfvars").write_bytes((ENV_DIR / "local.tfvars").read_bytes())
    pipelines = tmp_path / "pipelines.yaml"
    pipelines.write_bytes(PIPELINES_YAML.read_bytes())
    target = pipelines if name == "pipelines.yaml" else env_dir / "local.tfvars"
    target.write_bytes(target.read_bytes() + b"\nkey: \xff\xfe\x00\x81\n")
    with pytest.raises(ConfigError) as err:
        load_config("local", env_dir=env_dir, pipelines_file=pipelines, environ={})
    assert name in str(err.value) and "not UTF-8 text" in str(err.value)
