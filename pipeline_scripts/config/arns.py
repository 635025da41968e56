"""Model package ARNs: botocore's ``ModelPackageArn`` shape pattern, anchored, checked before any use.

The pattern is SageMaker's (``botocore/data/sagemaker/*/service-2.json``, shape ``ModelPackageArn``);
``tests/unit/test_bad_inputs_arns.py`` pins it to the installed botocore. The deploy-trigger Lambda and
``.gitlab-ci.yml`` check the same pattern (they cannot import this module).
"""

from __future__ import annotations

import re

from pipeline_scripts.errors import ConfigError

# botocore's ModelPackageArn pattern (min 1, max 2048), as written in the service model.
MODEL_PACKAGE_ARN_PATTERN = r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:model-package/[\S]{1,2048}"
MAX_LENGTH = 2048
# What is deployed is a version of a model package group: ``model-package/<group>/<version>``, the group
# a SageMaker entity name. Narrower than botocore's ``[\S]{1,2048}`` (which admits `, $, (, ;), and the
# same rule as the deploy trigger Lambda's and the .gitlab-ci.yml workflow rule's.
VERSIONED_PATTERN = (
    r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:"
    r"model-package/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}/[0-9]{1,10}"
)
_ARN_RE = re.compile(MODEL_PACKAGE_ARN_PATTERN)
_VERSIONED_RE = re.compile(VERSIONED_PATTERN)


def is_model_package_arn(value: str) -> bool:
    """Whether ``value`` is, in full, the ARN of a model package version (botocore's pattern, anchored,
    and ``model-package/<group>/<version>``): no prefix match, no trailing text."""
    return (
        len(value) <= MAX_LENGTH
        and _ARN_RE.fullmatch(value) is not None
        and _VERSIONED_RE.fullmatch(value) is not None
    )


def check_model_package_arn(value: str, source: str) -> str:
    """``value`` when it is a model package ARN, else a ConfigError naming ``source`` (an option or
    variable) and never echoing more than a short, printable excerpt of the value."""
    if is_model_package_arn(value):
        return value
    shown = value if len(value) <= 80 else value[:77] + "..."
    raise ConfigError(
        f"{source}: {shown!r} is not a model package ARN",
        hint="use arn:aws:sagemaker:<region>:<account-id>:model-package/<group>/<version> "
        "(mlops models list shows them)",
    )
