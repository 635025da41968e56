"""Shell injection through CI variables: the real make targets of the deploy path, hostile values.

A value holding backticks, ``$(...)``, make's ``$(shell ...)`` or a ``;`` reaches ``make deploy-approved``
and ``make ci-deploy-report`` the two ways CI and people pass it (the job's environment, ``make T V=...``);
the marker file the payload would create must never appear, and nothing is deployed or reported.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-local-abalone/1"
ARN_PREFIX = "arn:aws:sagemaker:us-east-1:111111111111:model-package/g/"
PAYLOADS = [
    "`touch {m}`",
    "$(touch {m})",
    "$(shell touch {m})",
    "x; touch {m}",
    "x' ; touch {m}; '",
    'x" ; touch {m}; "',
    # No whitespace: they pass botocore's [\\S] but not the model-package/<group>/<version> rule.
    "$(touch${{IFS}}{m})",
    "`touch${{IFS}}{m}`",
]


def _run(
    target: str, variables: dict[str, str], *, on_command_line: bool
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # mlops must fail fast if a value passes every check (it would call AWS): a closed local port.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_MAX_ATTEMPTS": "1",
    }
    argv = ["make", "-s", "--no-print-directory", target]
    if on_command_line:
        argv += [f"{k}={v}" for k, v in variables.items()]
    else:
        env.update(variables)
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


MAKE_LEVEL = ("$(shell touch {m})", "`touch {m}`", "$(touch {m})")
CASES = [
    *(("MODEL_PACKAGE_ARN", p, t, False) for p in PAYLOADS for t in ("deploy-approved", "ci-deploy-report")),
    *(("MODEL_PACKAGE_ARN", p, "deploy-approved", True) for p in MAKE_LEVEL),
    *(("ENV", p, "deploy-approved", cl) for p in MAKE_LEVEL for cl in (False, True)),
]


@pytest.mark.parametrize(
    ("variable", "payload", "target", "on_command_line"),
    CASES,
    ids=[f"{v}-{t}-{'cli' if c else 'env'}-{i}" for i, (v, _, t, c) in enumerate(CASES)],
)
def test_hostile_ci_variables_never_run(
    tmp_path: Path, variable: str, payload: str, target: str, on_command_line: bool
) -> None:
    marker = tmp_path / "pwned"
    hostile = payload.format(m=marker)
    values = {"ENV": "local", "MODEL_PACKAGE_ARN": GOOD_ARN}
    values[variable] = ARN_PREFIX + hostile if variable == "MODEL_PACKAGE_ARN" else hostile
    report = ROOT / "build" / "deploy" / "deploy-approved.env"
    before = report.read_text() if report.exists() else None
    done = _run(target, values, on_command_line=on_command_line)
    assert not marker.exists(), f"{target} ran the payload in {variable}: {done.stdout}{done.stderr}"
    assert done.returncode != 0, f"{target} accepted {variable}={hostile!r}"
    assert variable in done.stderr or "model package ARN" in done.stderr or "AWS" in done.stderr, done.stderr
    after = report.read_text() if report.exists() else None
    assert after == before, "a refused deploy wrote the dotenv report"
