"""``mlops``: build, upsert and run the pipelines, manage model versions, upload data.

Works against AWS, or against whatever ``AWS_ENDPOINT_URL`` points at (the local endpoint). Every
command takes ``--env`` (local, dev, staging, prod) and ``--set KEY=VALUE`` overrides. Errors are one
readable line plus a hint, with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline_scripts.config import ENVIRONMENTS, PROJECT_ROOT, Config, load_config
from pipeline_scripts.errors import ConfigError, MlopsError, NoApprovedModelError, PipelineOpsError

log = logging.getLogger("mlops")

BUILD_DIR = PROJECT_ROOT / "build"
EXIT_ERROR = 2
EXIT_NO_APPROVED_MODEL = 3


def _key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    key, value = text.split("=", 1)
    return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlops", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="local", choices=ENVIRONMENTS, help="environment (default: local)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help="override a config value (tfvars key, or dotted pipelines.yaml key such as hpo.max_jobs)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    groups = parser.add_subparsers(dest="group", required=True)

    pipelines = groups.add_parser("pipelines", help="SageMaker pipelines").add_subparsers(
        dest="command", required=True
    )
    definition = pipelines.add_parser("definition", help="write the three definition JSONs (offline)")
    definition.add_argument("--out", type=Path, default=BUILD_DIR / "definitions")
    definition.add_argument(
        "--model-package-arn",
        help="approved version to record in the inference definition (default: a placeholder, offline)",
    )
    upsert = pipelines.add_parser("upsert", help="create or update the pipelines (keeps execution history)")
    upsert.add_argument(
        "--recreate", action="store_true", help="delete and create (also: recreate_pipelines)"
    )
    upsert.add_argument("--only", choices=("training", "hpo", "inference"), action="append")
    upsert.add_argument(
        "--model-package-arn", help="approved version for inference (default: latest Approved)"
    )
    start = pipelines.add_parser("start", help="start an execution")
    start.add_argument("name", help="training, hpo, inference, or a pipeline name")
    start.add_argument("--param", action="append", type=_key_value, default=[], metavar="NAME=VALUE")
    pipelines.add_parser("status", help="latest executions of the three pipelines")
    pipelines.add_parser("delete", help="delete the three pipelines")

    models = groups.add_parser("models", help="model registry").add_subparsers(dest="command", required=True)
    models.add_parser("list", help="versions in the model package group")
    for verb in ("approve", "reject"):
        cmd = models.add_parser(verb, help=f"{verb} a version (default: the newest pending one)")
        cmd.add_argument("version", nargs="?", help="version number or model package ARN")
        cmd.add_argument("--reason", default="", help="recorded as the approval description")

    data = groups.add_parser("data", help="sample data").add_subparsers(dest="command", required=True)
    upload = data.add_parser("upload", help="upload data where the event rules start the pipelines")
    upload.add_argument("kind", choices=("training", "inference"))
    upload.add_argument(
        "--batch", default="", help="batch folder name (default: the UTC time); never overwrites"
    )
    upload.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / "data")
    generate = data.add_parser("generate", help="regenerate data/ from the abalone source (fixed seed)")
    generate.add_argument("--source", type=Path, default=PROJECT_ROOT / "data" / "abalone.csv")
    generate.add_argument("--out", type=Path, default=PROJECT_ROOT / "data")
    generate.add_argument("--seed", type=int, default=42)

    config = groups.add_parser("config", help="configuration").add_subparsers(dest="command", required=True)
    config.add_parser("show", help="print the resolved configuration and where each value came from")

    demo = groups.add_parser(
        "demo", help="the main job: the whole lifecycle on a local AWS endpoint (no AWS account, no Docker)"
    )
    demo.add_argument(
        "--out", type=Path, default=BUILD_DIR / "demo", help="report and state (default build/demo)"
    )
    demo.add_argument(
        "--terraform",
        action="store_true",
        help="provision with terraform apply (~80 s against the local endpoint) instead of rendering the "
        "same .tf files in Python (the parity test shows both give the same rules)",
    )
    demo.add_argument(
        "--definitions-only", action="store_true", help="only build, validate and write the definitions"
    )

    local = groups.add_parser("local", help="the local AWS endpoint").add_subparsers(
        dest="command", required=True
    )
    up = local.add_parser("up", help="run the local AWS endpoint in the foreground; prints the exports")
    up.add_argument("--port", type=int, default=4566)
    up.add_argument("--state-dir", type=Path, default=PROJECT_ROOT / ".local_aws")
    up.add_argument(
        "--provision", action="store_true", help="also create the environment's resources (as the demo does)"
    )
    for name, what in (
        ("notifications", "notifications sent (SNS publishes)"),
        ("events", "events and deliveries"),
    ):
        cmd = local.add_parser(name, help=f"print the {what} of a running endpoint")
        cmd.add_argument(
            "--endpoint", default=None, help="default: $AWS_ENDPOINT_URL or http://127.0.0.1:4566"
        )
        cmd.add_argument("--json", action="store_true", help="raw JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if not args.verbose:  # "Found credentials in environment variables." and the like: -v shows them
        for noisy in ("botocore", "boto3", "s3transfer", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = load_config(args.env, overrides=dict(args.overrides))
        handler = COMMANDS[(args.group, getattr(args, "command", None))]
        return int(handler(args, config) or 0)
    except NoApprovedModelError as exc:
        _error(exc)
        return EXIT_NO_APPROVED_MODEL
    except MlopsError as exc:
        _error(exc)
        return EXIT_ERROR
    except Exception as exc:  # AWS's own errors: one line and a hint, not a traceback (-v shows it)
        aws_error = _aws_error(exc)
        if aws_error is None:
            raise
        log.debug("AWS call failed", exc_info=True)
        _error(aws_error)
        return EXIT_ERROR


def _aws_error(exc: Exception) -> MlopsError | None:
    """An MlopsError for botocore's errors (no credentials, endpoint down, an API's refusal); else None."""
    import os

    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if isinstance(exc, NoCredentialsError):
        return MlopsError(
            "no AWS credentials found",
            hint="configure them (aws configure, AWS_PROFILE), or run against a local endpoint: "
            "mlops local up, then export what it prints",
        )
    if isinstance(exc, EndpointConnectionError):
        where = f"the endpoint in AWS_ENDPOINT_URL ({endpoint})" if endpoint else "AWS"
        return MlopsError(
            f"cannot reach {where}: {exc}",
            hint="start the local endpoint (mlops local up) or unset AWS_ENDPOINT_URL"
            if endpoint
            else "check your network and region",
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "the call")
        return MlopsError(
            f"AWS refused {operation}: {error.get('Code', 'error')}: {error.get('Message', exc)}",
            hint="check the permissions of your credentials and the names in env_files/ (mlops config show)",
        )
    if isinstance(exc, BotoCoreError):
        return MlopsError(f"AWS call failed: {exc}", hint="run again with -v for the details")
    return None


def _error(exc: MlopsError) -> None:
    print(f"error: {exc}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)


# --- pipelines ------------------------------------------------------------------------------------------


def cmd_definition(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.session import go_offline

    go_offline()
    paths, problems = write_validated_definitions(config, args.out, args.model_package_arn)
    for path in paths:
        print(f"wrote {_rel(path)}")
    return _report_problems(problems)


def write_validated_definitions(
    config: Config, out: Path, model_package_arn: str | None = None
) -> tuple[list[Path], list[str]]:
    from pipeline_scripts.pipelines import build_all, write_definitions
    from pipeline_scripts.registry import ApprovedModel
    from pipeline_scripts.validate import validate_definition

    env = config.env
    approved = ApprovedModel.placeholder_for(
        env.model_package_group_name, env.aws_region, env.account_id, env.bucket_name, env.bucket_prefix
    )
    if model_package_arn:
        approved = _approved_from_arn(config, model_package_arn)
    built = build_all(config, approved)
    problems = [
        f"{b.kind}: {p}" for b in built for p in validate_definition(b.definition, len(b.definition_json))
    ]
    return write_definitions(built, out), problems


def cmd_upsert(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts import aws
    from pipeline_scripts.code_bundle import code_bundle
    from pipeline_scripts.pipelines import build_pipeline
    from pipeline_scripts.registry import latest_approved
    from pipeline_scripts.validate import validate_definition

    kinds = tuple(args.only or ("training", "hpo", "inference"))
    sm = aws.client("sagemaker", config)
    code = code_bundle(config)
    for uri in aws.upload_code(aws.client("s3", config), code):
        log.debug("uploaded %s", uri)
    print(f"scripts uploaded to {code.prefix_uri}")
    recreate = args.recreate or config.env.recreate_pipelines
    missing_model: NoApprovedModelError | None = None
    for kind in kinds:
        approved = None
        if kind == "inference":
            try:
                approved = (
                    _approved_from_arn(config, args.model_package_arn, sm)
                    if args.model_package_arn
                    else latest_approved(sm, config.env.model_package_group_name)
                )
            except NoApprovedModelError as exc:
                missing_model = exc
                continue
        built = build_pipeline(kind, config, approved, code)
        problems = validate_definition(built.definition, len(built.definition_json))
        if problems:
            return _report_problems([f"{kind}: {p}" for p in problems])
        result = aws.upsert(sm, config, built, recreate=recreate)
        detail = f" with model version {approved.version} ({approved.package_arn})" if approved else ""
        print(f"{result.action} {result.name}{detail}")
    if missing_model is not None:
        raise NoApprovedModelError(
            f"inference pipeline not upserted: {missing_model}",
            hint="run the training pipeline, approve its model (mlops models approve), then upsert again",
        )
    return 0


def cmd_start(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts import aws

    arn = aws.start(aws.client("sagemaker", config), config, args.name, dict(args.param))
    print(arn)
    return 0


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts import aws

    for row in aws.status(aws.client("sagemaker", config), config):
        started = f"{row.started:%Y-%m-%d %H:%M:%S}" if row.started else "-"
        reason = f"  {row.failure_reason}" if row.failure_reason else ""
        print(f"{row.pipeline:40} {row.status:12} {started}  {row.arn}{reason}")
    return 0


def cmd_delete(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts import aws

    deleted = aws.delete_pipelines(aws.client("sagemaker", config), config)
    print("deleted: " + (", ".join(deleted) if deleted else "nothing (no pipelines existed)"))
    return 0


# --- models -------------------------------------------------------------------------------------------


def cmd_models_list(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts import aws, registry

    sm = aws.client("sagemaker", config)
    versions = registry.list_versions(sm, config.env.model_package_group_name)
    if not versions:
        print(f"{config.env.model_package_group_name}: no versions yet")
    for v in versions:
        created = f"{v.created:%Y-%m-%d %H:%M:%S}" if v.created else "-"
        print(f"{v.version:>4}  {v.status:22} {created}  {v.arn}")
    return 0


def cmd_models_set(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts import aws, registry

    status = registry.APPROVED if args.command == "approve" else registry.REJECTED
    result = registry.set_status(
        aws.client("sagemaker", config),
        config.env.model_package_group_name,
        args.version,
        status,
        args.reason,
    )
    print(f"version {result.version} is now {result.status}: {result.arn}")
    return 0


# --- data, config, demo -----------------------------------------------------------------------------------


def cmd_upload(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts import aws

    for uri in aws.upload_data(aws.client("s3", config), config, args.kind, args.data_dir, args.batch):
        print(f"uploaded {uri}")
    return 0


def cmd_generate(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.sample_data import generate

    for name, path in generate(args.source, args.out, seed=args.seed).items():
        print(f"{name}: {_rel(path)}")
    return 0


def cmd_config_show(args: argparse.Namespace, config: Config) -> int:
    import dataclasses

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if hasattr(value, "items"):
            return {k: plain(v) for k, v in value.items()}
        return value

    print(
        json.dumps(
            {"env": plain(config.env), "pipelines": plain(config.pipelines), "sources": dict(config.sources)},
            indent=2,
        )
    )
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    """The main job: the lifecycle on a local endpoint (``--definitions-only``: build the definitions)."""
    if args.definitions_only:
        return _definitions_demo(args.out, config)
    if config.name != "local":
        raise ConfigError(
            f"the demo runs the local environment, not {config.name!r}",
            hint="run `mlops demo` (env local); deploy other environments through CI",
        )
    from pipeline_scripts.demo import run_demo
    from pipeline_scripts.demo_report import print_timeline

    for noisy in ("pipeline_scripts.demo", "local_aws", "botocore", "sagemaker"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    result = run_demo(config, args.out, terraform=args.terraform)
    print()
    print_timeline(result.timeline)
    failed = [c for c in result.checks if not c.ok]
    print()
    print(
        f"{len(result.checks) - len(failed)} of {len(result.checks)} expected transitions happened "
        f"in {result.wall_seconds:.1f} s"
    )
    for check in failed:
        print(f"  missing: {check.what}: {check.detail}", file=sys.stderr)
    if result.report:
        print(f"report: {_rel(result.report)}")
    return 0 if result.ok else EXIT_ERROR


def _definitions_demo(out: Path, config: Config) -> int:
    from pipeline_scripts.session import go_offline
    from pipeline_scripts.validate import iter_steps

    go_offline()
    started = time.perf_counter()
    paths, problems = write_validated_definitions(config, out / "definitions")
    elapsed = time.perf_counter() - started
    for path in paths:
        definition = json.loads(path.read_text())
        step_names = [s["Name"] for s in iter_steps(definition["Steps"])]
        print(f"{_rel(path)}: {len(step_names)} steps: {' → '.join(step_names)}")
    print(f"built and validated {len(paths)} definitions for env {config.name} in {elapsed:.1f} s")
    return _report_problems(problems)


# --- local endpoint ---------------------------------------------------------------------------------------


def cmd_local_up(args: argparse.Namespace, config: Config) -> int:
    from local_aws.server import serve_forever

    on_start = None
    if args.provision:
        import os

        from local_aws.gitlab import FakeGitLab
        from local_aws.provision import provision
        from local_aws.server import export_to
        from pipeline_scripts.demo import GITLAB_TOKEN, deploy_job

        def on_start(endpoint: Any) -> None:
            # The deploy job runs `mlops pipelines upsert` in a subprocess: point it at this endpoint.
            export_to(os.environ, endpoint.endpoint_url, endpoint.region)
            gitlab = FakeGitLab(GITLAB_TOKEN, deploy_job(config)).start()
            how = provision(endpoint, config, gitlab_url=gitlab.url, gitlab_token=GITLAB_TOKEN)
            print(f"provisioned: {how}")
            print(
                f"GitLab stand-in on {gitlab.url}: approving a model version runs the deploy-on-approval "
                "job (mlops pipelines upsert --only inference --model-package-arn ...)"
            )

    return serve_forever(args.state_dir, args.port, region=config.env.aws_region, on_start=on_start)


def cmd_local_show(args: argparse.Namespace, config: Config) -> int:
    import os
    import urllib.error
    import urllib.request

    endpoint = (args.endpoint or os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566").rstrip("/")
    url = f"{endpoint}/_local/{args.command}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            records = json.loads(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise PipelineOpsError(
            f"no local endpoint answers at {endpoint}: {exc}", hint="start one with `mlops local up`"
        ) from exc
    if isinstance(records, dict):
        records = records.get(args.command, records.get("items", []))
    if args.json:
        print(json.dumps(records, indent=2))
        return 0
    if not records:
        print(f"no {args.command} yet")
    for record in records:
        if args.command == "notifications":
            print(f"── {record.get('time')}  {record.get('subject') or '(no subject)'}")
            print(record.get("message", ""))
            print()
        else:
            from pipeline_scripts.demo_report import event_summary

            deliveries = ", ".join(f"{d.get('rule')}→{d.get('status')}" for d in record.get("deliveries", []))
            print(
                f"{record.get('time')}  {event_summary(record.get('event', {}))}  [{deliveries or 'no rule'}]"
            )
    return 0


def _report_problems(problems: list[str]) -> int:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_ERROR if problems else 0


def _approved_from_arn(config: Config, arn: str, sm: Any = None) -> Any:
    from pipeline_scripts import aws, registry

    return registry.approved_model(sm or aws.client("sagemaker", config), arn)


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


COMMANDS: dict[tuple[str, str | None], Any] = {
    ("pipelines", "definition"): cmd_definition,
    ("pipelines", "upsert"): cmd_upsert,
    ("pipelines", "start"): cmd_start,
    ("pipelines", "status"): cmd_status,
    ("pipelines", "delete"): cmd_delete,
    ("models", "list"): cmd_models_list,
    ("models", "approve"): cmd_models_set,
    ("models", "reject"): cmd_models_set,
    ("data", "upload"): cmd_upload,
    ("data", "generate"): cmd_generate,
    ("config", "show"): cmd_config_show,
    ("demo", None): cmd_demo,
    ("local", "up"): cmd_local_up,
    ("local", "notifications"): cmd_local_show,
    ("local", "events"): cmd_local_show,
}


if __name__ == "__main__":
    sys.exit(main())
