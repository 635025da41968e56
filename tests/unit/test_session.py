"""The SDK seams build/session.py and build/sdk.py rely on: fail loudly if a pinned SDK upgrade moves them."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from sagemaker.core import common_utils
from sagemaker.core.config.config_manager import SageMakerConfig

from pipeline_scripts.build.definitions import placeholder_model
from pipeline_scripts.build.session import EMPTY_SDK_CONFIG, SDK_CONFIG, definition_session
from pipeline_scripts.config import load_config
from pipeline_scripts.paths import PROJECT_ROOT


def test_empty_sdk_config_file_is_shipped() -> None:
    assert EMPTY_SDK_CONFIG.is_file()
    assert EMPTY_SDK_CONFIG.read_text().strip() == ""


def test_session_opts_out_of_telemetry_and_validates_config_once() -> None:
    session = definition_session(load_config("local", environ={}))
    assert session.sagemaker_config == SDK_CONFIG
    validate = SageMakerConfig.validate_sagemaker_config
    assert getattr(validate, "_validated_once", False), "SageMakerConfig.validate_sagemaker_config moved"
    value = common_utils.get_sagemaker_config_value(session, "SageMaker.PythonSDK.Modules.TelemetryOptOut")
    assert value is True


def test_importing_the_sdk_and_building_need_no_region_and_leave_logging_and_environment_alone() -> None:
    """sagemaker.mlops makes a boto3 client at import (needs a region) and sagemaker.core calls
    logging.basicConfig(level=INFO) at import; build/sdk.py must undo both, and building the definitions
    must not leave a region (or the root logger's level) behind for the rest of the process."""
    probe = (
        "import logging, os\n"
        "before = (logging.getLogger().level, list(logging.getLogger().handlers))\n"
        "import pipeline_scripts.build.sdk\n"
        "after = (logging.getLogger().level, list(logging.getLogger().handlers))\n"
        "assert before == after, (before, after)\n"
        "from pipeline_scripts.build.definitions import build_all, placeholder_model\n"
        "from pipeline_scripts.config import load_config\n"
        "config = load_config('local', environ={})\n"
        "assert len(build_all(config, placeholder_model(config))) == 3\n"
        "assert (logging.getLogger().level, list(logging.getLogger().handlers)) == before\n"
        "assert 'AWS_DEFAULT_REGION' not in os.environ and 'AWS_REGION' not in os.environ\n"
        "loud = [n for n, l in logging.root.manager.loggerDict.items() if n.startswith('sagemaker')"
        " and isinstance(l, logging.Logger) and l.level and l.level < logging.ERROR]\n"
        "assert not loud, loud\n"
        "print('ok')\n"
    )
    environ = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "AWS_EC2_METADATA_DISABLED": "true"}
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", probe],
        capture_output=True,
        text=True,
        env=environ,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
    assert result.stderr == ""


def test_building_definitions_makes_no_local_mode_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """sagemaker-mlops builds a LocalSagemakerClient (a LocalSession, a boto3 session and its clients,
    ~0.2 s) per ProcessingStep and TransformStep just to read a method name; build/sdk.py's
    make_step_checks_cheap stops that. If an SDK upgrade moves the check, this says so."""
    from sagemaker.core.local import local_session

    from pipeline_scripts.build.definitions import build_all
    from pipeline_scripts.build.sdk import make_step_checks_cheap

    made: list[str] = []
    original = local_session.LocalSession.__init__

    def record(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(local_session.LocalSession, "__init__", record)
    make_step_checks_cheap()
    config = load_config("local", environ={})
    built = build_all(config, placeholder_model(config))
    assert [b.kind for b in built] == ["training", "hpo", "inference"]
    assert made == []
