"""The deploy-on-approval job's dotenv report (``make ci-deploy-report``), from the job's environment.

Reads ``ENV``, ``MODEL_PACKAGE_ARN`` and ``CI_COMMIT_SHA`` from the environment (never from a command
line), checks them, and writes ``KEY=value`` lines GitLab keeps with the job (``artifacts:reports:dotenv``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pipeline_scripts.config.arns import check_model_package_arn
from pipeline_scripts.config.schema import ENVIRONMENTS
from pipeline_scripts.errors import ConfigError
from pipeline_scripts.paths import PROJECT_ROOT, rel


def report_lines(environ: Mapping[str, str], commit: str, now: datetime) -> list[str]:
    """The report's lines; ConfigError names the variable when ENV or MODEL_PACKAGE_ARN is wrong."""
    env = environ.get("ENV", "")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"ENV: {env!r} is not an environment", hint=f"use one of {', '.join(ENVIRONMENTS)}")
    arn = check_model_package_arn(environ.get("MODEL_PACKAGE_ARN", ""), "MODEL_PACKAGE_ARN")
    return [
        f"DEPLOY_ENVIRONMENT={env}",
        f"MODEL_PACKAGE_ARN={arn}",
        f"MODEL_VERSION={arn.rsplit('/', 1)[-1]}",
        f"DEPLOYED_COMMIT={commit}",
        f"DEPLOYED_AT={now:%Y-%m-%dT%H:%M:%SZ}",
    ]


def current_commit(environ: Mapping[str, str]) -> str:
    sha = environ.get("CI_COMMIT_SHA", "")
    if sha and all(c in "0123456789abcdef" for c in sha):
        return sha
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607  (git from PATH, as the Makefile uses it)
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline_scripts.tooling.deploy_report")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        lines = report_lines(os.environ, current_commit(os.environ), datetime.now(UTC))
    except ConfigError as exc:
        print(f"error: {exc}\nhint: {exc.hint}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    version = lines[2].split("=", 1)[1]
    print(f"deployed model version {version} to {lines[0].split('=', 1)[1]}:")
    for line in lines:
        print(f"  {line}")
    print(f"wrote {rel(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
