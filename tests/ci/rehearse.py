"""Rehearse .gitlab-ci.yml locally: run its real jobs with gitlab-ci-local against the local AWS endpoint.

``make ci-rehearse`` runs this. Jobs run in shell mode (no Docker; their images are ignored) in this
working tree, with ``ENV=local`` and the local endpoint's variables:

1. merge request pipeline: ``test`` and ``definitions``;
2. main pipeline: ``pipelines:dev`` (the build job: upsert the three pipelines);
3. deploy-on-approval pipeline: ``deploy-approved`` with ``DEPLOY_ENVIRONMENT=local`` and a
   ``MODEL_PACKAGE_ARN`` (given, or an Approved version registered here for the rehearsal).

After the last two it checks the endpoint: the three pipelines exist, and the inference pipeline's
definition records the deployed version. The endpoint is ``AWS_ENDPOINT_URL`` when set; otherwise this
starts one (``python -m local_aws.server``, what ``mlops local up`` runs) on a free port and stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = ".tools/gitlab-ci-local"
ENDPOINT_COMMAND = (sys.executable, "-m", "local_aws.server", "--port", "0")
ENDPOINT_START_TIMEOUT = 60.0
PASSED_THROUGH = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)
_EXPORT = re.compile(r"\bexport (AWS_[A-Z_]+)=(\S+)")


class RehearsalError(RuntimeError):
    pass


@dataclass(frozen=True)
class Step:
    title: str
    job: str
    variables: Mapping[str, str]


@dataclass
class Outcome:
    step: Step
    returncode: int
    seconds: float


@contextmanager
def local_endpoint(command: Sequence[str], state_dir: Path) -> Iterator[dict[str, str]]:
    """Start the endpoint, yield the ``export`` variables it prints, stop it on exit."""
    proc = subprocess.Popen(
        [*command, "--state-dir", str(state_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    exports: dict[str, str] = {}
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = _EXPORT.search(line)
            if match:
                exports[match.group(1)] = match.group(2)
            if not ready.is_set():
                print(f"[endpoint] {line.rstrip()}", flush=True)
            if match and match.group(1) == "AWS_ENDPOINT_URL":
                threading.Timer(0.5, ready.set).start()  # the other export lines follow at once
        ready.set()  # the endpoint exited

    threading.Thread(target=read, daemon=True).start()
    try:
        ready.wait(ENDPOINT_START_TIMEOUT)
        if "AWS_ENDPOINT_URL" not in exports:
            raise RehearsalError(
                f"`{' '.join(command)}` printed no `export AWS_ENDPOINT_URL=...` within "
                f"{ENDPOINT_START_TIMEOUT:.0f} s (exit code {proc.poll()}); start an endpoint yourself "
                "and export AWS_ENDPOINT_URL"
            )
        print(f"[endpoint] {exports['AWS_ENDPOINT_URL']} (pid {proc.pid})", flush=True)
        yield exports
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def seed(aws: Mapping[str, str], model_package_arn: str | None) -> str:
    """What a fresh local endpoint lacks for these jobs: the bucket, the group, an Approved version."""
    import boto3

    from pipeline_scripts.config import load_config

    env = load_config("local", environ={}).env
    session = boto3.Session(
        aws_access_key_id=aws.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=aws.get("AWS_SECRET_ACCESS_KEY", "testing"),
        aws_session_token=aws.get("AWS_SESSION_TOKEN", "testing"),
        region_name=env.aws_region,
    )
    s3 = session.client("s3", endpoint_url=aws["AWS_ENDPOINT_URL"])
    sm = session.client("sagemaker", endpoint_url=aws["AWS_ENDPOINT_URL"])
    if env.bucket_name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=env.bucket_name)
    group = env.model_package_group_name
    groups = sm.list_model_package_groups(NameContains=group)["ModelPackageGroupSummaryList"]
    if group not in {g["ModelPackageGroupName"] for g in groups}:
        sm.create_model_package_group(ModelPackageGroupName=group)
    if model_package_arn:
        return model_package_arn
    base = f"s3://{env.bucket_name}/{env.bucket_prefix}/rehearsal"
    baseline = {
        "Statistics": {"ContentType": "application/json", "S3Uri": f"{base}/statistics.json"},
        "Constraints": {"ContentType": "application/json", "S3Uri": f"{base}/constraints.json"},
    }
    arn = sm.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        ModelPackageDescription="registered by make ci-rehearse",
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                    "ModelDataUrl": f"{base}/model.tar.gz",
                    "Environment": {"SAGEMAKER_PROGRAM": "serve.py"},
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        DriftCheckBaselines={"ModelDataQuality": baseline},
    )["ModelPackageArn"]
    print(f"[seed] registered Approved version {arn}", flush=True)
    return str(arn)


def pipelines_on_endpoint(aws: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    import boto3

    sm = boto3.client(
        "sagemaker",
        endpoint_url=aws["AWS_ENDPOINT_URL"],
        region_name=aws.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=aws.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=aws.get("AWS_SECRET_ACCESS_KEY", "testing"),
        aws_session_token=aws.get("AWS_SESSION_TOKEN", "testing"),
    )
    names = [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]]
    return {name: json.loads(sm.describe_pipeline(PipelineName=name)["PipelineDefinition"]) for name in names}


def run_job(gitlab_ci_local: str, step: Step, common: Mapping[str, str]) -> Outcome:
    variables = {**common, **step.variables}
    command = [
        gitlab_ci_local,
        "--state-dir",
        STATE_DIR,
        "--force-shell-executor",
        "--no-color",
        *[arg for key, value in variables.items() for arg in ("--variable", f"{key}={value}")],
        step.job,
    ]
    print(f"\n=== {step.title}: gitlab-ci-local {step.job}", flush=True)
    env = {
        **os.environ,
        "GCL_IGNORE_PREDEFINED_VARS": "CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH",
    }
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)
    return Outcome(step, done.returncode, time.perf_counter() - started)


def rehearse(aws: Mapping[str, str], model_package_arn: str | None, jobs: Sequence[str]) -> list[Outcome]:
    gitlab_ci_local = shutil.which("gitlab-ci-local")
    if gitlab_ci_local is None:
        raise RehearsalError(
            "gitlab-ci-local is not on PATH: run `make ci-tools` (or use `make ci-rehearse`)"
        )
    arn = seed(aws, model_package_arn)
    scratch = Path(tempfile.mkdtemp(prefix="ci-rehearse-"))
    common = {
        "ENV": "local",
        **{key: aws[key] for key in PASSED_THROUGH if key in aws},
        # Keep the runner's files out of the working tree (in GitLab they live in the job's container).
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(scratch / "aws-web-identity-token"),
        "PIP_CACHE_DIR": str(ROOT / ".tools" / "cache" / "pip"),
        "TF_PLUGIN_CACHE_DIR": str(ROOT / ".tools" / "cache" / "terraform-plugins"),
    }
    merge_request = {"CI_PIPELINE_SOURCE": "merge_request_event"}
    main_branch = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}
    trigger = {
        "CI_PIPELINE_SOURCE": "trigger",
        "MLOPS_JOB": "deploy-on-approval",
        "DEPLOY_ENVIRONMENT": "local",
        "MODEL_PACKAGE_ARN": arn,
    }
    steps = [
        Step("merge request", "test", merge_request),
        Step("merge request", "definitions", merge_request),
        Step("main (build)", "pipelines:dev", main_branch),
        Step("deploy on approval", "deploy-approved", trigger),
    ]
    outcomes = []
    for step in steps:
        if jobs and step.job not in jobs:
            continue
        outcome = run_job(gitlab_ci_local, step, common)
        outcomes.append(outcome)
        if outcome.returncode == 0 and step.job in ("pipelines:dev", "deploy-approved"):
            check_endpoint(aws, arn if step.job == "deploy-approved" else None)
    shutil.rmtree(scratch, ignore_errors=True)
    return outcomes


def check_endpoint(aws: Mapping[str, str], deployed_arn: str | None) -> None:
    from pipeline_scripts.config import load_config

    env = load_config("local", environ={}).env
    found = pipelines_on_endpoint(aws)
    expected = {env.pipeline_train, env.pipeline_trainwhpo, env.pipeline_inf}
    missing = expected - set(found)
    if missing:
        raise RehearsalError(f"pipelines missing on the endpoint after the job: {sorted(missing)}")
    print(f"[check] pipelines on the endpoint: {', '.join(sorted(expected))}", flush=True)
    if deployed_arn:
        if deployed_arn not in json.dumps(found[env.pipeline_inf]):
            raise RehearsalError(f"{env.pipeline_inf} does not record {deployed_arn}")
        report = ROOT / "build" / "deploy" / "deploy-approved.env"
        if f"MODEL_PACKAGE_ARN={deployed_arn}" not in report.read_text():
            raise RehearsalError(f"{report} does not name {deployed_arn}")
        print(f"[check] {env.pipeline_inf} records {deployed_arn}; {report.relative_to(ROOT)} written")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.ci.rehearse", description=__doc__.splitlines()[0])
    parser.add_argument("--model-package-arn", help="Approved version to deploy (default: register one)")
    parser.add_argument("--job", action="append", default=[], help="run only this job (repeatable)")
    parser.add_argument(
        "--endpoint-command",
        default=" ".join(ENDPOINT_COMMAND),
        help="how to start the endpoint when AWS_ENDPOINT_URL is not set (must print its export lines)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if os.environ.get("AWS_ENDPOINT_URL"):
            aws = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
            outcomes = rehearse(aws, args.model_package_arn, args.job)
        else:
            with (
                tempfile.TemporaryDirectory(prefix="ci-rehearse-endpoint-") as state,
                local_endpoint(args.endpoint_command.split(), Path(state)) as aws,
            ):
                outcomes = rehearse(aws, args.model_package_arn, args.job)
    except RehearsalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n=== rehearsal")
    for o in outcomes:
        verdict = "PASS" if o.returncode == 0 else "FAIL"
        print(f"  {verdict}  {o.step.title:20} {o.step.job:16} {o.seconds:6.1f} s")
    print(f"  total {time.perf_counter() - started:.1f} s")
    return 0 if outcomes and all(o.returncode == 0 for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
