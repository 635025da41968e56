"""Names and ARNs shaped like the ones SageMaker Pipelines generates."""

from __future__ import annotations

import secrets
import string

_LOWER = string.ascii_lowercase + string.digits
_MIXED = string.ascii_letters + string.digits


def execution_id() -> str:
    """12 lowercase letters and digits, like ``k2x8f4q9m1zt``."""
    return "".join(secrets.choice(_LOWER) for _ in range(12))


def suffix(length: int = 10, alphabet: str = _MIXED) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def job_name(execution: str, step: str) -> str:
    """``pipelines-<execution id>-<step name, 18 chars>-<10 random>`` (≤ 63 chars), as SageMaker names
    the jobs a pipeline step starts."""
    return f"pipelines-{execution}-{step[:18]}-{suffix()}"


def arn(region: str, account: str, resource: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:{resource}/{name}"


def execution_arn(pipeline_arn: str, execution: str) -> str:
    return f"{pipeline_arn}/execution/{execution}"
