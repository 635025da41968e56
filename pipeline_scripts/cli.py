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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline_scripts.config import ENVIRONMENTS, Config, load_config
from pipeline_scripts.errors import MlopsError, NoApprovedModelError
from pipeline_scripts.paths import BUILD_DIR, DATA_DIR, rel

log = logging.getLogger("mlops")

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
    models.choices["approve"].add_argument(
        "--force", action="store_true", help="approve a Rejected version (its rejection reason is kept)"
    )

    data = groups.add_parser("data", help="sample data").add_subparsers(dest="command", required=True)
    upload = data.add_parser("upload", help="upload data where the event rules start the pipelines")
    upload.add_argument("kind", choices=("training", "inference"))
    upload.add_argument(
        "--batch", default="", help="batch folder name (default: the UTC time); never overwrites"
    )
    upload.add_argument(
        "--data-dir", type=Path, default=None, help="default: the data set's folder (tfvars dataset_dir)"
    )
    generate = data.add_parser("generate", help="regenerate data/ from the abalone source (fixed seed)")
    generate.add_argument("--source", type=Path, default=DATA_DIR / "abalone.csv")
    generate.add_argument("--out", type=Path, default=DATA_DIR)
    generate.add_argument("--seed", type=int, default=42)

    config = groups.add_parser("config", help="configuration").add_subparsers(dest="command", required=True)
    config.add_parser("show", help="print the resolved configuration and where each value came from")

    for name, (module, help_text) in LOCAL_COMMANDS.items():
        # The emulator's commands live with it (local_aws/cli.py) and are loaded only when used: the
        # production install has no emulator. Everything after the name is theirs to parse (main()).
        stub = groups.add_parser(name, help=help_text, add_help=False)
        stub.set_defaults(local_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if getattr(args, "local_module", None):  # the emulator's commands parse their own arguments
        args.arguments = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if not args.verbose:  # "Found credentials in environment variables." and the like: -v shows them
        for noisy in ("botocore", "boto3", "s3transfer", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        _check_arguments(args)
        config = load_config(args.env, overrides=dict(args.overrides))
        if getattr(args, "local_module", None):
            return _run_local(args, config)
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


def _check_arguments(args: argparse.Namespace) -> None:
    """Arguments that reach AWS or a file name are checked before anything runs."""
    from pipeline_scripts.config.arns import check_model_package_arn

    if getattr(args, "model_package_arn", None) is not None:
        check_model_package_arn(args.model_package_arn, "--model-package-arn")
    version = getattr(args, "version", None)
    if version is not None and str(version).startswith("arn:"):
        check_model_package_arn(version, f"mlops models {args.command} VERSION")


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
    from pipeline_scripts.build.definitions import validated_definitions
    from pipeline_scripts.build.session import go_offline

    go_offline()
    approved = _approved(config, args.model_package_arn)
    paths, problems = validated_definitions(config, approved, args.out)
    for path in paths:
        print(f"wrote {rel(path)}")
    return _report_problems(problems)


def cmd_upsert(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.build.definitions import KINDS
    from pipeline_scripts.ops import pipelines
    from pipeline_scripts.ops.clients import client

    outcome = pipelines.deploy(
        client("sagemaker", config),
        client("s3", config),
        config,
        tuple(args.only or KINDS),
        model_package_arn=args.model_package_arn,
        recreate=args.recreate or config.env.recreate_pipelines,
    )
    print(f"scripts uploaded to {outcome.code_uri}")
    for result, approved in outcome.results:
        detail = f" with model version {approved.version} ({approved.package_arn})" if approved else ""
        print(f"{result.action} {result.name}{detail}")
    if outcome.problems:
        return _report_problems(outcome.problems)
    if outcome.missing_model is not None:
        raise NoApprovedModelError(
            f"inference pipeline not upserted: {outcome.missing_model}",
            hint="run the training pipeline, approve its model (mlops models approve), then upsert again",
        )
    return 0


def cmd_start(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.ops import pipelines
    from pipeline_scripts.ops.clients import client

    arn = pipelines.start(client("sagemaker", config), config, args.name, dict(args.param))
    print(arn)
    return 0


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.ops import pipelines
    from pipeline_scripts.ops.clients import client

    for row in pipelines.status(client("sagemaker", config), config):
        started = f"{row.started:%Y-%m-%d %H:%M:%S}" if row.started else "-"
        reason = f"  {row.failure_reason}" if row.failure_reason else ""
        print(f"{row.pipeline:40} {row.status:12} {started}  {row.arn}{reason}")
    return 0


def cmd_delete(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.ops import pipelines
    from pipeline_scripts.ops.clients import client

    deleted = pipelines.delete_pipelines(client("sagemaker", config), config)
    print("deleted: " + (", ".join(deleted) if deleted else "nothing (no pipelines existed)"))
    return 0


# --- models -------------------------------------------------------------------------------------------


def cmd_models_list(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.ops import registry
    from pipeline_scripts.ops.clients import client

    sm = client("sagemaker", config)
    versions = registry.list_versions(sm, config.env.model_package_group_name)
    if not versions:
        print(f"{config.env.model_package_group_name}: no versions yet")
    for v in versions:
        created = f"{v.created:%Y-%m-%d %H:%M:%S}" if v.created else "-"
        print(f"{v.version:>4}  {v.status:22} {created}  {v.arn}")
    return 0


def cmd_models_set(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.ops import registry
    from pipeline_scripts.ops.clients import client

    status = registry.APPROVED if args.command == "approve" else registry.REJECTED
    result = registry.set_status(
        client("sagemaker", config),
        config.env.model_package_group_name,
        args.version,
        status,
        args.reason,
        force=getattr(args, "force", False),
    )
    print(f"version {result.version} is now {result.status}: {result.arn}")
    if "previously Rejected" in result.description:
        print(f"the rejection is kept in its approval description: {result.description}")
    return 0


# --- data, config, demo -----------------------------------------------------------------------------------


def cmd_upload(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.ops.clients import client
    from pipeline_scripts.ops.data import upload_data

    for uri in upload_data(client("s3", config), config, args.kind, args.data_dir, args.batch):
        print(f"uploaded {uri}")
    return 0


def cmd_generate(args: argparse.Namespace, config: Config) -> int:
    from pipeline_scripts.tooling.sample_data import generate

    for name, path in generate(args.source, args.out, seed=args.seed).items():
        print(f"{name}: {rel(path)}")
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

    from pipeline_scripts.config.dataset import dataset_path, describe

    shown = {
        "env": plain(config.env),
        "pipelines": plain(config.pipelines),
        "dataset": {"file": rel(dataset_path(config.env)), **describe(config.dataset)},
        "quality": plain(config.quality),
        "sources": dict(config.sources),
    }
    print(json.dumps(shown, indent=2))
    return 0


def _report_problems(problems: list[str]) -> int:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_ERROR if problems else 0


def _approved(config: Config, model_package_arn: str | None) -> Any:
    """The version to record in the inference definition: ``model_package_arn`` (looked up in the
    registry), else a placeholder (offline definitions)."""
    from pipeline_scripts.build.definitions import placeholder_model

    if model_package_arn:
        from pipeline_scripts.ops import registry
        from pipeline_scripts.ops.clients import client

        return registry.approved_model(client("sagemaker", config), model_package_arn)
    return placeholder_model(config)


def _run_local(args: argparse.Namespace, config: Config) -> int:
    """``mlops demo`` and ``mlops local …``: the emulator's commands (extra ``[local]``)."""
    import importlib

    try:
        module = importlib.import_module(args.local_module)
        return int(
            module.main(
                args.group, args.arguments, config, verbose=args.verbose, overrides=dict(args.overrides)
            )
        )
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] not in ("local_aws", "moto", "werkzeug", "matplotlib"):
            raise
        raise MlopsError(
            f"`mlops {args.group}` needs the local AWS endpoint, which this installation lacks ({exc.name})",
            hint="install the local extra: pip install -c constraints.txt -e '.[local]' (make demo does)",
        ) from exc


# The emulator's command groups: group → (module, help). Loaded only when used (see build_parser).
LOCAL_COMMANDS = {
    "demo": (
        "local_aws.cli",
        "the main job: the whole lifecycle on a local AWS endpoint (no AWS account, no Docker)",
    ),
    "local": ("local_aws.cli", "the local AWS endpoint: up, notifications, events"),
}

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
}


if __name__ == "__main__":
    sys.exit(main())
