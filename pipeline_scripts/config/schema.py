"""The configuration's schema: frozen dataclasses whose ``__post_init__`` validates each value.

``load.py`` fills them from the files and overrides (``coerce.py`` turns raw values into the declared
types); a validator raises :class:`InvalidValueError`, which the loader turns into a ``ConfigError``
naming the file and key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENVIRONMENTS = ("local", "dev", "staging", "prod")

_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # pipeline / model package group names
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$")
_ROLE_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_KMS_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/-]+$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_INSTANCE_RE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_SUBNET_RE = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SG_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")
_STEP_STATUSES = ("Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded")


class InvalidValueError(ValueError):
    """Raised by validators; turned into a ConfigError naming the file and key."""

    def __init__(self, key: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.key = key
        self.fix = fix


def _check(condition: bool, key: str, message: str, fix: str) -> None:
    if not condition:
        raise InvalidValueError(key, message, fix)


# --------------------------------------------------------------------------------------------------
# env_files/<env>.tfvars
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationRule:
    """A custom message sent when ``step_name`` reaches ``step_status``."""

    step_name: str
    step_status: str
    step_msg: str

    def __post_init__(self) -> None:
        _check(
            bool(self.step_name), "step_name", "is empty", "name a pipeline step, e.g. ModelQualityCalcStep"
        )
        _check(
            self.step_status in _STEP_STATUSES,
            "step_status",
            f"is {self.step_status!r}",
            f"use one of {', '.join(_STEP_STATUSES)}",
        )
        _check(bool(self.step_msg.strip()), "step_msg", "is empty", "write the message people should read")


@dataclass(frozen=True)
class EnvSettings:
    """Everything in ``env_files/<env>.tfvars`` (shared with Terraform)."""

    environment: str
    bucket_name: str
    bucket_prefix: str
    bucket_train_prefix: str
    bucket_inf_prefix: str
    notification_function_name: str
    email_recipient: tuple[str, ...]
    pipeline_train: str
    pipeline_trainwhpo: str
    pipeline_inf: str
    model_package_group_name: str
    role_arn: str
    user_id: str
    aws_region: str = "us-east-1"
    custom_notification_config: tuple[NotificationRule, ...] = ()
    recreate_pipelines: bool = False
    # The data set (dataset.yaml and its files) and the inference model-quality check; "" / null: the data
    # set's model_quality. Checked against the data set's problem type when the config loads (load.py).
    dataset_dir: str = "data"
    model_quality_metric: str = ""
    model_quality_threshold: float | None = None
    kms_key: str = ""
    subnet_id: tuple[str, ...] = ()
    sg_id: tuple[str, ...] = ()
    upload_training_data: bool = False
    upload_inference_data: bool = False

    def __post_init__(self) -> None:
        _check(
            self.environment in ENVIRONMENTS,
            "environment",
            f"is {self.environment!r}",
            f"use one of {', '.join(ENVIRONMENTS)}",
        )
        _check(
            bool(_REGION_RE.match(self.aws_region)), "aws_region", f"is {self.aws_region!r}", "e.g. us-east-1"
        )
        _check(
            bool(_BUCKET_RE.match(self.bucket_name)),
            "bucket_name",
            f"{self.bucket_name!r} is not a valid S3 bucket name",
            "use 3-63 lowercase letters, digits, dots and hyphens",
        )
        for key in ("bucket_prefix", "bucket_train_prefix", "bucket_inf_prefix"):
            value = getattr(self, key)
            _check(
                bool(_PREFIX_RE.match(value)),
                key,
                f"{value!r} is not an S3 key prefix",
                "write it without leading or trailing '/', e.g. abalone/training",
            )
        _check(
            self.bucket_train_prefix != self.bucket_inf_prefix
            and not self.bucket_train_prefix.startswith(self.bucket_inf_prefix + "/")
            and not self.bucket_inf_prefix.startswith(self.bucket_train_prefix + "/"),
            "bucket_inf_prefix",
            "overlaps bucket_train_prefix, so one upload would start both pipelines",
            "use two separate prefixes",
        )
        for key in (
            "pipeline_train",
            "pipeline_trainwhpo",
            "pipeline_inf",
            "model_package_group_name",
            "notification_function_name",
        ):
            value = getattr(self, key)
            _check(
                bool(_NAME_RE.match(value)),
                key,
                f"{value!r} is not a valid SageMaker/Lambda name",
                "use 1-63 letters, digits and hyphens, starting and ending with a letter or digit",
            )
        names = [self.pipeline_train, self.pipeline_trainwhpo, self.pipeline_inf]
        _check(
            len(set(names)) == 3, "pipeline_inf", "the three pipeline names are not distinct", "rename one"
        )
        for address in self.email_recipient:
            _check(
                bool(_EMAIL_RE.match(address)),
                "email_recipient",
                f"{address!r} is not an e-mail address",
                'write a list of addresses, e.g. ["ds@example.com"]',
            )
        _check(
            self.model_quality_threshold is None or math.isfinite(self.model_quality_threshold),
            "model_quality_threshold",
            f"is {self.model_quality_threshold}",
            "write a finite number, or leave it out to use the data set's model_quality",
        )
        _check(
            bool(self.dataset_dir.strip()),
            "dataset_dir",
            "is empty",
            'name the folder holding dataset.yaml and the data files, e.g. "data"',
        )
        _check(
            bool(_ROLE_RE.match(self.role_arn)),
            "role_arn",
            f"{self.role_arn!r} is not an IAM role ARN",
            "use arn:aws:iam::<account-id>:role/<name>",
        )
        _check(
            self.kms_key == "" or bool(_KMS_RE.match(self.kms_key)),
            "kms_key",
            f"{self.kms_key!r} is not a KMS key ARN",
            'use arn:aws:kms:<region>:<account-id>:key/<id>, or "" for no customer-managed key',
        )
        for subnet in self.subnet_id:
            _check(bool(_SUBNET_RE.match(subnet)), "subnet_id", f"{subnet!r} is not a subnet ID", "subnet-…")
        for group in self.sg_id:
            _check(bool(_SG_RE.match(group)), "sg_id", f"{group!r} is not a security group ID", "sg-…")
        _check(
            bool(self.subnet_id) == bool(self.sg_id),
            "sg_id" if self.subnet_id else "subnet_id",
            "is set without the other: SageMaker jobs need both subnets and security groups",
            'set both subnet_id and sg_id, or both to ""',
        )
        _check(bool(self.user_id.strip()), "user_id", "is empty", "set the owner tag, e.g. your employee ID")

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def pipeline_names(self) -> dict[str, str]:
        """Pipeline kind (training, hpo, inference) → its SageMaker pipeline name."""
        return {
            "training": self.pipeline_train,
            "hpo": self.pipeline_trainwhpo,
            "inference": self.pipeline_inf,
        }


# --------------------------------------------------------------------------------------------------
# pipeline_scripts/config/pipelines.yaml
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frameworks:
    sklearn_version: str = "1.2-1"
    xgboost_version: str = "1.7-1"
    python_version: str = "py3"


@dataclass(frozen=True)
class JobResources:
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    volume_size_gb: int = 30
    max_runtime_seconds: int = 3600

    def __post_init__(self) -> None:
        _check(
            bool(_INSTANCE_RE.match(self.instance_type)),
            "instance_type",
            f"{self.instance_type!r} is not a SageMaker instance type",
            "e.g. ml.m5.xlarge",
        )
        _check(self.instance_count >= 1, "instance_count", f"is {self.instance_count}", "use 1 or more")
        _check(self.volume_size_gb >= 1, "volume_size_gb", f"is {self.volume_size_gb}", "use 1 or more")
        _check(
            60 <= self.max_runtime_seconds <= 28 * 86400,
            "max_runtime_seconds",
            f"is {self.max_runtime_seconds}",
            "use between 60 and 2419200 seconds",
        )


@dataclass(frozen=True)
class Split:
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 42

    def __post_init__(self) -> None:
        for key in ("validation_fraction", "test_fraction"):
            value = getattr(self, key)
            _check(0 < value < 1, key, f"{value} is not between 0 and 1", "e.g. 0.15")
        _check(
            self.validation_fraction + self.test_fraction < 0.9,
            "test_fraction",
            "validation + test leave less than 10% of the rows to train on",
            "lower the fractions",
        )


def _check_register(threshold: float | None) -> None:
    """The metric is checked against the data set's problem type when the config loads (load.py)."""
    _check(
        threshold is None or math.isfinite(threshold),
        "register_threshold",
        f"is {threshold}",
        "write a finite number, or leave it out to use the data set's model_quality threshold",
    )


Scalar = str | int | float | bool


@dataclass(frozen=True)
class Training(JobResources):
    split: Split = field(default_factory=Split)
    hyperparameters: Mapping[str, Scalar] = field(default_factory=dict)
    register_metric: str = ""  # "": the data set's model_quality metric
    register_threshold: float | None = None  # None: the data set's model_quality threshold

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_register(self.register_threshold)
        _check(
            "num_round" in self.hyperparameters, "hyperparameters", "has no num_round", "add num_round: 100"
        )


@dataclass(frozen=True)
class ParamRange:
    type: str
    min: float
    max: float
    scaling: str = "Auto"

    def __post_init__(self) -> None:
        _check(
            self.type in ("continuous", "integer"),
            "type",
            f"is {self.type!r}",
            "use continuous or integer",
        )
        _check(
            self.min < self.max, "max", f"min {self.min} is not below max {self.max}", "swap or widen them"
        )
        _check(
            self.scaling in ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic"),
            "scaling",
            f"is {self.scaling!r}",
            "use Auto, Linear, Logarithmic or ReverseLogarithmic",
        )
        # SageMaker's rules (CreateHyperParameterTuningJob, IntegerParameterRange/ContinuousParameterRange
        # ScalingType): log scales need positive bounds; ReverseLogarithmic is for continuous ranges
        # within (0, 1) only; integer bounds are integers (SageMaker takes them as strings, "2.5" fails).
        _check(
            self.scaling not in ("Logarithmic", "ReverseLogarithmic") or self.min > 0,
            "min",
            f"{self.scaling} scaling needs min > 0 (min is {self.min})",
            "raise min or use Linear",
        )
        if self.type == "integer":
            for bound in ("min", "max"):
                value = getattr(self, bound)
                _check(
                    float(value).is_integer(),
                    bound,
                    f"{value} is not a whole number, but the range is an integer range",
                    f"use a whole number (e.g. {int(value)}), or type: continuous",
                )
            _check(
                self.scaling != "ReverseLogarithmic",
                "scaling",
                "ReverseLogarithmic is not allowed for an integer range (SageMaker refuses it)",
                "use Auto, Linear or Logarithmic",
            )
        elif self.scaling == "ReverseLogarithmic":
            _check(
                self.max < 1,
                "max",
                f"ReverseLogarithmic scaling needs max < 1 (max is {self.max})",
                "use a range within (0, 1), or Linear",
            )


@dataclass(frozen=True)
class Hpo(JobResources):
    static_hyperparameters: Mapping[str, Scalar] = field(default_factory=dict)
    ranges: Mapping[str, ParamRange] = field(default_factory=dict)
    objective_metric: str = ""  # "": the problem type's default (metrics.DEFAULT_TUNING_OBJECTIVE)
    objective_type: str = ""  # "": the direction of the objective metric
    strategy: str = "Bayesian"
    max_jobs: int = 8
    max_parallel_jobs: int = 2
    register_metric: str = ""
    register_threshold: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_register(self.register_threshold)
        _check(bool(self.ranges), "ranges", "is empty", "declare at least one hyperparameter range")
        overlap = set(self.ranges) & set(self.static_hyperparameters)
        _check(
            not overlap, "ranges", f"{sorted(overlap)} are both static and tuned", "keep each in one place"
        )
        _check(
            self.objective_type in ("", "Minimize", "Maximize"),
            "objective_type",
            f"is {self.objective_type!r}",
            "use Minimize or Maximize",
        )
        _check(
            self.strategy in ("Bayesian", "Random", "Hyperband", "Grid"),
            "strategy",
            f"is {self.strategy!r}",
            "use Bayesian, Random, Hyperband or Grid",
        )
        _check(self.max_jobs >= 1, "max_jobs", f"is {self.max_jobs}", "use 1 or more")
        _check(
            1 <= self.max_parallel_jobs <= self.max_jobs,
            "max_parallel_jobs",
            f"is {self.max_parallel_jobs} with max_jobs {self.max_jobs}",
            "use between 1 and max_jobs",
        )


@dataclass(frozen=True)
class Inference:
    transform_instance_type: str = "ml.m5.xlarge"
    transform_instance_count: int = 1
    data_quality_engine: str = "builtin"
    fail_on_data_quality_violations: bool = False

    def __post_init__(self) -> None:
        _check(
            bool(_INSTANCE_RE.match(self.transform_instance_type)),
            "transform_instance_type",
            f"{self.transform_instance_type!r} is not a SageMaker instance type",
            "e.g. ml.m5.xlarge",
        )
        _check(
            self.transform_instance_count >= 1,
            "transform_instance_count",
            f"is {self.transform_instance_count}",
            "use 1 or more",
        )
        _check(
            self.data_quality_engine in ("builtin", "model_monitor"),
            "data_quality_engine",
            f"is {self.data_quality_engine!r}",
            "use builtin (scripts/data_quality.py) or model_monitor (SageMaker QualityCheckStep)",
        )


@dataclass(frozen=True)
class Registry:
    content_types: tuple[str, ...] = ("text/csv",)
    response_types: tuple[str, ...] = ("text/csv",)
    inference_instances: tuple[str, ...] = ("ml.m5.large",)
    transform_instances: tuple[str, ...] = ("ml.m5.xlarge",)


@dataclass(frozen=True)
class PipelinesSettings:
    """Everything in ``pipeline_scripts/config/pipelines.yaml``."""

    frameworks: Frameworks = field(default_factory=Frameworks)
    processing: JobResources = field(default_factory=JobResources)
    training: Training = field(default_factory=Training)
    hpo: Hpo = field(default_factory=Hpo)
    inference: Inference = field(default_factory=Inference)
    registry: Registry = field(default_factory=Registry)


@dataclass(frozen=True)
class Config:
    """The whole configuration of one environment."""

    env: EnvSettings
    pipelines: PipelinesSettings
    # The data set's schema (scripts/dataset.py's Dataset: loaded from the step scripts, so typed Any here)
    # and the model-quality settings resolved against it (config/dataset.py's Quality).
    dataset: Any
    quality: Any
    # key → where its value came from ("env_files/local.tfvars", "MLOPS_BUCKET_NAME", "--set", "default")
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.env.environment
