"""Apply the repository's Terraform to the local AWS endpoint (moto), offline when a provider mirror exists.

    outputs = apply_local(endpoint_url, Path("build/terraform/local"), Path("env_files/local.tfvars"))

The ``*.tf`` files, ``tags.json``, ``contracts.json``, the rule templates (``events/``) and
``.terraform.lock.hcl`` are copied into ``workdir`` next to an ``override.tf`` that swaps the GitLab http
backend for a local state file and points every AWS service the configuration uses at ``endpoint_url``
with dummy credentials. ``terraform init`` installs
``hashicorp/aws`` from the filesystem mirror (``$TF_PROVIDER_MIRROR``, else ``/opt/tf-plugins``) when
one exists, else from the registry. Do not ``destroy`` against moto: reset the local endpoint instead.

Also a command (``make tf-plan ENV=local`` / ``make tf-apply ENV=local`` call it)::

    python -m local_aws.provisioning.terraform apply --endpoint-url http://127.0.0.1:4566
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline_scripts.paths import LAMBDA_SOURCE_DIR, LAMBDA_ZIP, PROJECT_ROOT

__all__ = [
    "MIN_VERSION",
    "TerraformError",
    "apply_local",
    "cli_config",
    "plan_local",
    "provider_mirror",
    "terraform_available",
    "terraform_env",
]

DEFAULT_MIRROR = Path("/opt/tf-plugins")
MIN_VERSION = (1, 9, 0)  # versions.tf: required_version
CLI_CONFIG_TEMPLATE = PROJECT_ROOT / "terraform.rc"
# What the configuration needs besides *.tf: main.tf reads tags.json and contracts.json, events.tf renders
# the templates under events/, the lock pins the provider.
EXTRA_FILES = ("tags.json", "contracts.json", ".terraform.lock.hcl")
TEMPLATE_DIRS = ("events",)
# Every service the configuration calls (provider "endpoints" keys).
SERVICES = (
    "cloudwatch",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "sts",
)
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_TAIL_LINES = 40


class TerraformError(RuntimeError):
    """A terraform command failed; the message ends with the tail of its output."""


def provider_mirror() -> Path | None:
    """The filesystem mirror holding hashicorp/aws: ``$TF_PROVIDER_MIRROR``, else /opt/tf-plugins."""
    configured = os.environ.get("TF_PROVIDER_MIRROR")
    candidate = Path(configured) if configured else DEFAULT_MIRROR
    if (candidate / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        return candidate
    return None


def cli_config(directory: Path, mirror: Path | None = None) -> Path | None:
    """Render terraform.rc for ``mirror`` (default: :func:`provider_mirror`) into ``directory``.

    None when there is no mirror: Terraform then uses its usual installation (the registry).
    """
    mirror = mirror or provider_mirror()
    if mirror is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "terraform.rc"
    text = CLI_CONFIG_TEMPLATE.read_text(encoding="utf-8").replace("@TF_PROVIDER_MIRROR@", str(mirror))
    target.write_text(text, encoding="utf-8")
    return target


def terraform_available(min_version: tuple[int, int, int] = MIN_VERSION) -> str | None:
    """None when a usable ``terraform`` is on PATH, else the reason (what is missing and how to fix it).

    Whether the aws provider can be installed shows at ``terraform init`` (mirror or registry).
    """
    binary = shutil.which("terraform")
    if binary is None:
        return "terraform is not on PATH: install Terraform 1.11 (make ci-terraform does, on Linux)"
    try:
        result = subprocess.run(  # noqa: S603  (the terraform binary with fixed arguments; no shell)
            [binary, "version", "-json"], capture_output=True, text=True, timeout=60, check=False
        )
        version_text = json.loads(result.stdout)["terraform_version"]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
        return f"{binary} version -json failed: {exc}"
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version_text)
    if match is None:
        return f"cannot read the Terraform version {version_text!r}"
    version = tuple(int(part) for part in match.groups())
    if version < min_version:
        wanted = ".".join(map(str, min_version))
        return f"terraform {version_text} is older than {wanted}: install Terraform 1.11"
    return None


def terraform_env(data_dir: Path, config_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for a terraform command: its own TF_DATA_DIR, the mirror's CLI config, no TF_VAR_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_VAR_")}
    env.update(
        {"TF_DATA_DIR": str(data_dir), "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
    )
    config = cli_config(config_dir or data_dir.parent)
    if config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(config)
    env.update(extra)
    return env


def run(args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float = 600) -> str:
    """Run ``terraform <args>`` in ``cwd``; its stdout, or TerraformError with the output's tail."""
    command = ["terraform", *args]
    try:
        result = subprocess.run(  # noqa: S603  (the terraform binary with the repo's arguments; no shell)
            command, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise TerraformError(f"terraform is not on PATH ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise TerraformError(f"`{' '.join(command)}` did not finish within {timeout:.0f} s in {cwd}") from exc
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip()).splitlines()
        tail = "\n".join(output[-_TAIL_LINES:])
        raise TerraformError(f"`{' '.join(command)}` failed (exit {result.returncode}) in {cwd}:\n{tail}")
    return result.stdout


def _override(endpoint_url: str, state_file: Path) -> str:
    width = max(map(len, SERVICES))  # aligned as `terraform fmt` writes it
    endpoints = "\n".join(f'    {service.ljust(width)} = "{endpoint_url}"' for service in SERVICES)
    return f"""# Written by local_aws/provisioning: local state, every AWS service at the local endpoint.
terraform {{
  backend "local" {{
    path = "{state_file.as_posix()}"
  }}
}}

provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


def prepare(endpoint_url: str, workdir: Path, tf_dir: Path = PROJECT_ROOT) -> Path:
    """Copy the configuration into ``workdir`` with the local override; returns ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("*.tf"):
        stale.unlink()
    sources = sorted(tf_dir.glob("*.tf"))
    if not sources:
        raise TerraformError(f"{tf_dir} holds no .tf files")
    for path in [*sources, *(tf_dir / name for name in EXTRA_FILES)]:
        if path.is_file():
            shutil.copy2(path, workdir / path.name)
    for name in TEMPLATE_DIRS:
        if (tf_dir / name).is_dir():
            shutil.copytree(tf_dir / name, workdir / name, dirs_exist_ok=True)
    (workdir / "override.tf").write_text(
        _override(endpoint_url, workdir / "terraform.tfstate"), encoding="utf-8"
    )
    return workdir


def _lambda_zip(path: Path | None) -> Path:
    if path is not None:
        if not path.is_file():
            raise TerraformError(f"{path}: no such Lambda package (make lambda-package builds it)")
        return path.resolve()
    from pipeline_scripts.tooling.lambda_package import build_package

    return build_package(LAMBDA_SOURCE_DIR, LAMBDA_ZIP).resolve()


def _init(workdir: Path, env: Mapping[str, str], timeout: float) -> None:
    run(["init", "-input=false", "-no-color", "-lockfile=readonly"], workdir, env, timeout)


def _variables(env_file: Path, lambda_zip: Path, extra: Mapping[str, str] | None = None) -> list[str]:
    if not env_file.is_file():
        raise TerraformError(f"{env_file}: no such tfvars file")
    extra_args = [f"-var={name}={value}" for name, value in sorted((extra or {}).items())]
    return [f"-var-file={env_file.resolve()}", f"-var=lambda_package_path={lambda_zip}", *extra_args]


def _env(workdir: Path) -> dict[str, str]:
    return terraform_env(workdir / ".terraform", workdir, AWS_REGION="us-east-1", **DUMMY_CREDENTIALS)


def apply_local(
    endpoint_url: str,
    workdir: Path,
    env_file: Path,
    *,
    lambda_zip: Path | None = None,
    tf_dir: Path = PROJECT_ROOT,
    timeout: float = 600,
    variables: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """init + apply the configuration against ``endpoint_url``; returns ``terraform output`` values.

    ``lambda_zip`` defaults to build/lambda/lambda_function.zip, rebuilt from code/lambda_function.
    ``variables`` are ``-var`` values on top of the tfvars (the demo points ``gitlab_url`` at its fake).
    """
    workdir = prepare(endpoint_url, workdir.resolve(), tf_dir)
    env = _env(workdir)
    _init(workdir, env, timeout)
    arguments = _variables(env_file, _lambda_zip(lambda_zip), variables)
    run(["apply", "-auto-approve", "-input=false", "-no-color", *arguments], workdir, env, timeout)
    outputs = json.loads(run(["output", "-json", "-no-color"], workdir, env, timeout))
    return {name: output["value"] for name, output in outputs.items()}


def plan_local(
    endpoint_url: str,
    workdir: Path,
    env_file: Path,
    plan_file: Path,
    *,
    lambda_zip: Path | None = None,
    tf_dir: Path = PROJECT_ROOT,
    timeout: float = 600,
) -> str:
    """Save a plan against ``endpoint_url`` to ``plan_file`` (+ .json and .txt beside it); the text."""
    workdir = prepare(endpoint_url, workdir.resolve(), tf_dir)
    env = _env(workdir)
    _init(workdir, env, timeout)
    plan_file = plan_file.resolve()
    plan_file.parent.mkdir(parents=True, exist_ok=True)
    arguments = _variables(env_file, _lambda_zip(lambda_zip))
    run(["plan", "-input=false", "-no-color", f"-out={plan_file}", *arguments], workdir, env, timeout)
    plan_file.with_suffix(".tfplan.json").write_text(
        run(["show", "-json", str(plan_file)], workdir, env, timeout), encoding="utf-8"
    )
    text = run(["show", "-no-color", str(plan_file)], workdir, env, timeout)
    plan_file.with_suffix(".tfplan.txt").write_text(text, encoding="utf-8")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_aws.provisioning.terraform", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=("plan", "apply"))
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL", ""),
        help="the local endpoint (default: $AWS_ENDPOINT_URL; `mlops local up` prints it)",
    )
    parser.add_argument("--env-file", type=Path, default=PROJECT_ROOT / "env_files" / "local.tfvars")
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "build" / "terraform" / "local")
    parser.add_argument(
        "--plan-file", type=Path, default=PROJECT_ROOT / "build" / "terraform" / "local.tfplan"
    )
    parser.add_argument("--lambda-zip", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.endpoint_url:
        print(
            "no local endpoint: start one with `mlops local up` and export AWS_ENDPOINT_URL", file=sys.stderr
        )
        return 2
    reason = terraform_available()
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    try:
        if args.command == "plan":
            print(
                plan_local(
                    args.endpoint_url, args.workdir, args.env_file, args.plan_file, lambda_zip=args.lambda_zip
                )
            )
        else:
            outputs = apply_local(args.endpoint_url, args.workdir, args.env_file, lambda_zip=args.lambda_zip)
            print(json.dumps(outputs, indent=2, sort_keys=True))
    except TerraformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
