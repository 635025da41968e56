"""The typed, validated configuration of one environment.

- ``schema``: the frozen dataclasses and their validation;
- ``tfvars``: ``env_files/<env>.tfvars`` read as HCL; ``coerce``: raw values into the schema's types;
- ``load``: the sources and their precedence (``load_config``);
- ``contracts``: the names shared with Terraform and the Lambdas (``contracts.json``);
- ``pipelines.yaml``: the per-pipeline settings.
"""

from pipeline_scripts.config.load import load_config
from pipeline_scripts.config.schema import (
    ENVIRONMENTS,
    Config,
    EnvSettings,
    Hpo,
    Inference,
    JobResources,
    NotificationRule,
    ParamRange,
    PipelinesSettings,
    Training,
)

__all__ = [
    "ENVIRONMENTS",
    "Config",
    "EnvSettings",
    "Hpo",
    "Inference",
    "JobResources",
    "NotificationRule",
    "ParamRange",
    "PipelinesSettings",
    "Training",
    "load_config",
]
