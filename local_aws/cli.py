"""``mlops demo`` and ``mlops local …``: the emulator's commands, loaded by ``pipeline_scripts.cli`` only
when one of them runs (the production install has no emulator).

``main(group, argv, config)`` parses what follows the group name; the global options (``--env``,
``--set``, ``-v``) were parsed by ``mlops`` itself and arrive as ``config`` and ``verbose``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline_scripts.config import Config
from pipeline_scripts.errors import ConfigError, PipelineOpsError
from pipeline_scripts.paths import BUILD_DIR, PROJECT_ROOT, rel

EXIT_ERROR = 2


def build_parser(group: str) -> argparse.ArgumentParser:
    if group == "demo":
        demo = argparse.ArgumentParser(
            prog="mlops demo",
            description="The main job: the whole lifecycle on a local AWS endpoint (no AWS account, no "
            "Docker).",
        )
        demo.add_argument(
            "--out", type=Path, default=BUILD_DIR / "demo", help="report and state (default build/demo)"
        )
        demo.add_argument(
            "--terraform",
            action="store_true",
            help="provision with terraform apply (~80 s against the local endpoint) instead of rendering the "
            "same rules in Python (the parity test shows both give the same rules)",
        )
        demo.add_argument(
            "--definitions-only", action="store_true", help="only build, validate and write the definitions"
        )
        demo.add_argument(
            "--dataset",
            type=Path,
            default=None,
            help="a folder with dataset.yaml, training-data.csv, inference-data.csv, ground-truth.csv and "
            "drifted/{inference-data,ground-truth}.csv (default: the environment's dataset_dir)",
        )
        return demo
    local = argparse.ArgumentParser(prog="mlops local", description="The local AWS endpoint.")
    commands = local.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the local AWS endpoint in the foreground; prints the exports")
    up.add_argument("--port", type=int, default=4566)
    up.add_argument(
        "--state-dir",
        type=Path,
        default=PROJECT_ROOT / ".local_aws",
        help="where the state is kept; it survives restarts and crashes",
    )
    up.add_argument("--fresh", action="store_true", help="start empty: remove the earlier state first")
    up.add_argument(
        "--provision", action="store_true", help="also create the environment's resources (as the demo does)"
    )
    for name, what in (
        ("notifications", "notifications sent (SNS publishes)"),
        ("events", "events and deliveries"),
    ):
        cmd = commands.add_parser(name, help=f"print the {what} of a running endpoint")
        cmd.add_argument(
            "--endpoint", default=None, help="default: $AWS_ENDPOINT_URL or http://127.0.0.1:4566"
        )
        cmd.add_argument("--json", action="store_true", help="raw JSON")
    return local


def main(
    group: str,
    argv: Sequence[str],
    config: Config,
    *,
    verbose: bool = False,
    overrides: Mapping[str, str] | None = None,
) -> int:
    args = build_parser(group).parse_args(list(argv))
    if group == "demo":
        if args.dataset is not None:
            config = with_dataset(config, args.dataset, overrides or {})
        return cmd_demo(args, config, verbose=verbose)
    if args.command == "up":
        return cmd_local_up(args, config)
    return cmd_local_show(args)


# What `mlops demo --dataset DIR` needs: the schema, training data, a clean and a drifted batch with truth.
DEMO_FILES = (
    "dataset.yaml",
    "training-data.csv",
    "inference-data.csv",
    "ground-truth.csv",
    "drifted/inference-data.csv",
    "drifted/ground-truth.csv",
)


def with_dataset(config: Config, folder: Path, overrides: Mapping[str, str]) -> Config:
    """``config`` reloaded with ``dataset_dir`` = ``folder``, after checking the folder has every file."""
    from pipeline_scripts.config import load_config

    missing = [name for name in DEMO_FILES if not (folder / name).is_file()]
    if missing:
        raise ConfigError(
            f"{rel(folder)} is not a complete demo data set: missing {', '.join(missing)}",
            hint="the demo needs dataset.yaml, the three headerless CSVs and a drifted/ batch with its "
            "ground truth (see data/ and data/penguins/)",
        )
    return load_config(config.name, overrides={**overrides, "dataset_dir": str(folder.resolve())})


def cmd_demo(args: argparse.Namespace, config: Config, *, verbose: bool = False) -> int:
    """The main job: the lifecycle on a local endpoint (``--definitions-only``: build the definitions)."""
    if args.definitions_only:
        return _definitions_demo(args.out, config)
    if config.name != "local":
        raise ConfigError(
            f"the demo runs the local environment, not {config.name!r}",
            hint="run `mlops demo` (env local); deploy other environments through CI",
        )
    from local_aws.demo.lifecycle import run_demo
    from local_aws.demo.report import print_timeline

    if not verbose:
        for noisy in ("local_aws.demo", "local_aws", "botocore", "sagemaker"):
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
        print(f"report: {rel(result.report)}")
    return 0 if result.ok else EXIT_ERROR


def _definitions_demo(out: Path, config: Config) -> int:
    from pipeline_scripts.build.definitions import placeholder_model, validated_definitions
    from pipeline_scripts.build.session import go_offline
    from pipeline_scripts.build.validate import iter_steps

    go_offline()
    approved = placeholder_model(config)
    started = time.perf_counter()
    paths, problems = validated_definitions(config, approved, out / "definitions")
    elapsed = time.perf_counter() - started
    for path in paths:
        definition = json.loads(path.read_text())
        step_names = [s["Name"] for s in iter_steps(definition["Steps"])]
        print(f"{rel(path)}: {len(step_names)} steps: {' → '.join(step_names)}")
    print(f"built and validated {len(paths)} definitions for env {config.name} in {elapsed:.1f} s")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_ERROR if problems else 0


def cmd_local_up(args: argparse.Namespace, config: Config) -> int:
    from local_aws.server import serve_forever

    on_start = None
    if args.provision:
        import os

        from local_aws.demo.lifecycle import GITLAB_TOKEN, deploy_job
        from local_aws.gitlab import FakeGitLab
        from local_aws.provisioning.provision import provision
        from local_aws.server import export_to

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

    return serve_forever(
        args.state_dir, args.port, region=config.env.aws_region, on_start=on_start, fresh=args.fresh
    )


def cmd_local_show(args: argparse.Namespace) -> int:
    import os
    import urllib.error
    import urllib.request

    endpoint = (args.endpoint or os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566").rstrip("/")
    url = f"{endpoint}/_local/{args.command}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  (the URL is the local endpoint's, http only)
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
            from local_aws.demo.report import event_summary

            deliveries = ", ".join(f"{d.get('rule')}→{d.get('status')}" for d in record.get("deliveries", []))
            print(
                f"{record.get('time')}  {event_summary(record.get('event', {}))}  [{deliveries or 'no rule'}]"
            )
    return 0
