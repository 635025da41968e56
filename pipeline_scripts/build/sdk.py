"""The SDK v3 classes that live in ``sagemaker.mlops``, ``sagemaker.serve`` and ``sagemaker.train``.

They are imported here once, and importing them leaves the process as it was:

- Importing any of those packages imports ``sagemaker.ai_registry``, which makes a boto3 SageMaker client
  at class level; botocore needs a region for that (it makes no request) and raises ``NoRegionError``
  without one. A region is in the environment only while importing, when none is configured. The client
  is never used: definitions are built with the session of ``build.session``.
- ``sagemaker.core.experiments._metrics`` calls ``logging.basicConfig(level=INFO)`` when imported, which
  would print every library's INFO records on the user's stderr. The root logger's level and handlers are
  put back, and the SDK's loggers that set a level of their own (``sagemaker.config``,
  ``sagemaker.core.utils.utils``) are set to errors only, as ``session.prepare_sdk`` does for the rest.
- The v3 packages import their own moved modules through deprecation shims (``sagemaker.train.configs``
  warns that it moved to ``sagemaker.core.training.configs``), which nothing here can change; those
  ``DeprecationWarning`` are ignored during the import.

``sagemaker.core`` imports without either; the builders import it directly.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


@contextmanager
def _a_region_while_importing() -> Iterator[None]:
    if any(os.environ.get(name) for name in _REGION_VARIABLES):
        yield
        return
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        yield
    finally:
        os.environ.pop("AWS_DEFAULT_REGION", None)


@contextmanager
def _quietly() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
        for name in list(logging.root.manager.loggerDict):
            if name == "sagemaker" or name.startswith("sagemaker."):
                logger = logging.getLogger(name)
                if logger.level != logging.NOTSET:
                    logger.setLevel(max(logger.level, logging.ERROR))


with _a_region_while_importing(), _quietly():
    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep
    from sagemaker.mlops.workflow.steps import ProcessingStep, Step, TrainingStep, TransformStep, TuningStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.model_trainer import ModelTrainer
    from sagemaker.train.tuner import HyperparameterTuner

__all__ = [
    "CheckJobConfig",
    "ConditionStep",
    "DataQualityCheckConfig",
    "FailStep",
    "HyperparameterTuner",
    "ModelBuilder",
    "ModelStep",
    "ModelTrainer",
    "Pipeline",
    "ProcessingStep",
    "QualityCheckStep",
    "Step",
    "TrainingStep",
    "TransformStep",
    "TuningStep",
]


def make_step_checks_cheap() -> None:
    """Stop ``ProcessingStep`` and ``TransformStep`` from building a local-mode client per step.

    sagemaker-mlops 1.27.0 checks where a step's arguments came from against
    ``LocalSagemakerClient().create_processing_job.__name__`` (and ``create_transform_job``): each step
    constructs a ``LocalSagemakerClient``, that is a ``LocalSession`` with a new boto3 session and its
    clients, ~0.2 s, to read a method's name. The check gets an instance made without ``__init__``: the
    same method names, nothing built. Idempotent; called by ``session.definition_session``.
    Guarded by tests/unit/test_session.py."""
    import sagemaker.mlops.workflow.steps as workflow_steps
    from sagemaker.core.local.local_session import LocalSagemakerClient

    if getattr(workflow_steps.LocalSagemakerClient, "_names_only", False):
        return

    def names_only() -> LocalSagemakerClient:
        return LocalSagemakerClient.__new__(LocalSagemakerClient)

    names_only._names_only = True  # type: ignore[attr-defined]
    workflow_steps.LocalSagemakerClient = names_only
