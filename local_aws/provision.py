"""Create an environment's resources on the local endpoint: with ``terraform apply``, or from the same
``.tf`` files read in Python.

Terraform is the real thing, but against moto the aws provider spends most of a minute in its own
waits (SQS attribute propagation, S3 lifecycle, KMS), which would be most of the demo's time budget.
The Python path renders the event rules and targets from the repo's ``.tf`` files and the env's tfvars
(``local_aws.tf_rules``; the parity test shows both give the same rules, patterns and targets) and
creates the resources the rules need with the names, handlers and environment ``lambda.tf`` declares
(``docs/contracts.md``). Both then store the fake GitLab's trigger token in the token secret.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from local_aws.tf_rules import read_rules

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ZIP = PROJECT_ROOT / "build" / "lambda" / "lambda_function.zip"
LOCAL_GITLAB_PROJECT = "1"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


class ProvisionError(RuntimeError):
    """The local resources could not be created (says which and why)."""


def provision(
    endpoint: Any,
    config: Any,
    *,
    gitlab_url: str | None = None,
    gitlab_token: str | None = None,
    terraform: bool | None = False,
) -> str:
    """Create ``config``'s resources on ``endpoint``; returns how (for the demo's timeline).

    ``terraform``: True applies with terraform (an error if it is not usable), False (the default) reads
    the ``.tf`` files in Python, None uses terraform when it is usable.
    """
    from local_aws.terraform import terraform_available

    env_file = PROJECT_ROOT / "env_files" / f"{config.name}.tfvars"
    use_terraform = terraform
    if terraform is None:
        use_terraform = terraform_available() is None
    elif terraform:
        reason = terraform_available()
        if reason:
            raise ProvisionError(f"--terraform asked for, but {reason}")
    started = time.monotonic()
    variables: dict[str, str] = (
        {"gitlab_url": gitlab_url, "gitlab_project_id": LOCAL_GITLAB_PROJECT} if gitlab_url else {}
    )
    if use_terraform:
        outputs = _terraform(endpoint, env_file, variables)
        secret_arn = outputs.get("gitlab_token_secret_arn")
        how = f"terraform apply of {len(outputs.get('event_rule_names') or [])} rules"
    else:
        secret_arn = _from_tf_files(endpoint, config, env_file, variables)
        how = "rules read from the .tf files"
    if gitlab_token and secret_arn:
        endpoint.clients.client("secretsmanager").put_secret_value(
            SecretId=secret_arn, SecretString=json.dumps({"token": gitlab_token})
        )
    return f"{how} ({time.monotonic() - started:.1f} s)"


def _terraform(endpoint: Any, env_file: Path, variables: dict[str, str]) -> dict[str, Any]:
    from local_aws.terraform import apply_local

    return apply_local(
        endpoint.endpoint_url,
        endpoint.state_dir / "terraform",
        env_file,
        variables=variables,
    )


def _from_tf_files(endpoint: Any, config: Any, env_file: Path, variables: dict[str, str]) -> str:
    """The resources the rules target, then the rules and targets exactly as the .tf files render them."""
    from pipeline_scripts.tooling.lambda_package import build_package

    env = config.env
    clients = endpoint.clients
    name = f"mlops-{env.environment}"
    rules = read_rules(env_file, PROJECT_ROOT, account_id=endpoint.account_id, region=endpoint.region)

    s3 = clients.client("s3")
    if env.aws_region == "us-east-1":
        s3.create_bucket(Bucket=env.bucket_name)
    else:
        s3.create_bucket(
            Bucket=env.bucket_name, CreateBucketConfiguration={"LocationConstraint": env.aws_region}
        )
    s3.put_bucket_versioning(Bucket=env.bucket_name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=env.bucket_name, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    sns = clients.client("sns")
    topic_arn = sns.create_topic(Name=f"{name}-notifications")["TopicArn"]
    for address in env.email_recipient:
        sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=address)
    sqs = clients.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"{name}-dead-letter")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    secret_arn = clients.client("secretsmanager").create_secret(Name=f"{name}/gitlab-trigger-token")["ARN"]
    role_arn = clients.client("iam").create_role(
        RoleName=f"{name}-lambda", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )["Role"]["Arn"]

    common = {"ENVIRONMENT": env.environment, "LOG_LEVEL": "INFO"}
    functions = {
        env.notification_function_name: (
            "notifier.handler",
            30,
            {
                "SNS_TOPIC_ARN": topic_arn,
                "CUSTOM_NOTIFICATION_CONFIG": json.dumps(
                    [
                        {"step_name": r.step_name, "step_status": r.step_status, "step_msg": r.step_msg}
                        for r in env.custom_notification_config
                    ]
                ),
            },
        ),
        f"{name}-pipeline-trigger": (
            "pipeline_trigger.handler",
            60,
            {
                "TRAINING_PIPELINE": env.pipeline_train,
                "HPO_PIPELINE": env.pipeline_trainwhpo,
                "INFERENCE_PIPELINE": env.pipeline_inf,
                "BUCKET_TRAIN_PREFIX": env.bucket_train_prefix,
                "BUCKET_INF_PREFIX": env.bucket_inf_prefix,
            },
        ),
        f"{name}-deploy-trigger": (
            "deploy_trigger.handler",
            30,
            {
                "GITLAB_URL": variables.get("gitlab_url") or "https://gitlab.com",
                "GITLAB_PROJECT_ID": variables.get("gitlab_project_id") or "",
                "GITLAB_REF": "main",
                "GITLAB_TOKEN_SECRET_ARN": secret_arn,
                "MODEL_PACKAGE_GROUP_NAME": env.model_package_group_name,
            },
        ),
    }
    wanted = {t.resource_name for rule in rules for t in rule.targets if t.arn_kind == "lambda"}
    missing = wanted - set(functions)
    if missing:
        raise ProvisionError(
            f"the rules target Lambda functions this provisioner does not know: {sorted(missing)}: "
            "add them to local_aws/provision.py as lambda.tf declares them, or use --terraform"
        )
    code = build_package(PROJECT_ROOT / "code" / "lambda_function", LAMBDA_ZIP).read_bytes()
    lam = clients.client("lambda")
    for function, (handler, timeout, environment) in functions.items():
        lam.create_function(
            FunctionName=function,
            Runtime="python3.12",
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": code},
            Timeout=timeout,
            Environment={"Variables": {**environment, **common}},
            DeadLetterConfig={"TargetArn": queue_arn},
        )
        if handler.startswith("pipeline_trigger"):
            lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=1)

    events = clients.client("events")
    for rule in rules:
        events.put_rule(**rule.put_rule_kwargs())
        if rule.targets:
            events.put_targets(Rule=rule.name, Targets=[t.put_targets_entry() for t in rule.targets])
    log.info("provisioned %d rules and %d functions from the .tf files", len(rules), len(functions))
    return str(secret_arn)
