"""The SDK seams build/session.py relies on: fail loudly if a pinned SDK upgrade moves them."""

from __future__ import annotations

import sagemaker.utils as sdk_utils

from pipeline_scripts.build.session import EMPTY_SDK_CONFIG, SDK_CONFIG, definition_session
from pipeline_scripts.config import load_config


def test_empty_sdk_config_file_is_shipped() -> None:
    assert EMPTY_SDK_CONFIG.is_file()
    assert EMPTY_SDK_CONFIG.read_text().strip() == ""


def test_session_opts_out_of_telemetry_and_validates_config_once() -> None:
    session = definition_session(load_config("local", environ={}))
    assert session.sagemaker_config == SDK_CONFIG
    validate = sdk_utils.validate_sagemaker_config
    assert getattr(validate, "_validated_once", False), "sagemaker.utils.validate_sagemaker_config moved"
    assert (
        sdk_utils.get_sagemaker_config_value(session, "SageMaker.PythonSDK.Modules.TelemetryOptOut") is True
    )
