"""Create an environment's resources on the local endpoint: with ``terraform apply``, or from the same
sources read in Python.

Terraform is the real thing, but against moto the aws provider spends most of a minute in its own
waits (SQS attribute propagation, S3 lifecycle, KMS), which would be most of the demo's time budget.
The Python path renders the event rules and targets from the templates events.tf renders, with the env's
tfvars (``rules.py``; the parity test shows both give the same rules, patterns and targets), and
creates the resources the rules need: the functions with the handler, timeout, memory, concurrency and
environment keys of ``contracts.json`` (the values as lambda.tf sets them). Both then store the fake
GitLab's trigger token in the token secret.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_aws.provisioning.rules import function_names, read_variables, render_rules
from pipeline_scripts.config.contracts import load as load_contracts
from pipeline_scripts.paths import ENV_DIR, LAMBDA_SOURCE_DIR, LAMBDA_ZIP

log = logging.getLogger(__name__)

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

    ``terraform``: True applies with terraform (an error if it is not usable), False (the default) renders
    the rules in Python, None uses terraform when it is usable.
    """
    from local_aws.provisioning.terraform import terraform_available

    env_file = ENV_DIR / f"{config.name}.tfvars"
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
        secret_arn = _from_templates(endpoint, config, env_file, variables)
        how = "rules rendered from events/*.tftpl"
    if gitlab_token and secret_arn:
        endpoint.clients.client("secretsmanager").put_secret_value(
            SecretId=secret_arn, SecretString=json.dumps({"token": gitlab_token})
        )
    return f"{how} ({time.monotonic() - started:.1f} s)"


def _terraform(endpoint: Any, env_file: Path, variables: dict[str, str]) -> dict[str, Any]:
    from local_aws.provisioning.terraform import apply_local

    return apply_local(
        endpoint.endpoint_url,
        endpoint.state_dir / "terraform",
        env_file,
        variables=variables,
    )


@dataclass(frozen=True)
class FunctionSpec:
    """One function as lambda.tf creates it: contracts.json's settings, the tfvars' values."""

    name: str
    handler: str
    timeout: int
    memory_size: int | None
    reserved_concurrency: int
    environment: Mapping[str, str]


def lambda_functions(
    variables: Mapping[str, Any], *, topic_arn: str, secret_arn: str
) -> dict[str, FunctionSpec]:
    """Function key → spec, for ``variables`` (``rules.read_variables`` of the env's tfvars)."""
    values = {  # lambda.tf, local.function_environment
        "SNS_TOPIC_ARN": topic_arn,
        "CUSTOM_NOTIFICATION_CONFIG": json.dumps(
            [{"action_required": False, **entry} for entry in variables["custom_notification_config"]]
        ),
        "ENVIRONMENT": variables["environment"],
        "LOG_LEVEL": variables["lambda_log_level"],
        "TRAINING_PIPELINE": variables["pipeline_train"],
        "HPO_PIPELINE": variables["pipeline_trainwhpo"],
        "INFERENCE_PIPELINE": variables["pipeline_inf"],
        "BUCKET_TRAIN_PREFIX": variables["bucket_train_prefix"],
        "BUCKET_INF_PREFIX": variables["bucket_inf_prefix"],
        "GITLAB_URL": variables["gitlab_url"],
        "GITLAB_PROJECT_ID": variables["gitlab_project_id"],
        "GITLAB_REF": variables["gitlab_ref"],
        "GITLAB_TOKEN_SECRET_ARN": secret_arn,
        "MODEL_PACKAGE_GROUP_NAME": variables["model_package_group_name"],
    }
    names = function_names(variables)
    functions = {}
    for key, contract in load_contracts().lambda_functions.items():
        missing = sorted(set(contract.environment) - set(values)) + ([] if key in names else ["a name"])
        if missing:
            raise ProvisionError(
                f"contracts.json's function {key} needs {missing}, which provisioning/provision.py does not "
                "know: add them as lambda.tf and main.tf set them, or use --terraform"
            )
        functions[key] = FunctionSpec(
            name=names[key],
            handler=contract.handler,
            timeout=contract.timeout,
            memory_size=contract.memory_size,
            reserved_concurrency=int(
                variables["lambda_reserved_concurrency"]
                if contract.reserved_concurrency is None
                else contract.reserved_concurrency
            ),
            environment={variable: str(values[variable]) for variable in contract.environment},
        )
    return functions


def _from_templates(endpoint: Any, config: Any, env_file: Path, overrides: Mapping[str, str]) -> str:
    """The resources the rules target, then the rules and targets exactly as events.tf renders them."""
    from pipeline_scripts.tooling.lambda_package import build_package

    env = config.env
    clients = endpoint.clients
    name = f"mlops-{env.environment}"
    variables = read_variables(env_file, overrides)
    rules = render_rules(variables, account_id=endpoint.account_id, region=endpoint.region)

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

    functions = lambda_functions(variables, topic_arn=topic_arn, secret_arn=secret_arn)
    wanted = {t.resource_name for rule in rules for t in rule.targets if t.arn_kind == "lambda"}
    missing = wanted - {function.name for function in functions.values()}
    if missing:
        raise ProvisionError(
            f"the rules target Lambda functions this provisioner does not know: {sorted(missing)}: "
            "add them to contracts.json and main.tf, or use --terraform"
        )
    code = build_package(LAMBDA_SOURCE_DIR, LAMBDA_ZIP).read_bytes()
    lam = clients.client("lambda")
    for function in functions.values():
        memory = {} if function.memory_size is None else {"MemorySize": function.memory_size}
        lam.create_function(
            FunctionName=function.name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=function.handler,
            Code={"ZipFile": code},
            Timeout=function.timeout,
            Environment={"Variables": dict(function.environment)},
            DeadLetterConfig={"TargetArn": queue_arn},
            **memory,
        )
        lam.put_function_concurrency(
            FunctionName=function.name, ReservedConcurrentExecutions=function.reserved_concurrency
        )

    events = clients.client("events")
    for rule in rules:
        events.put_rule(**rule.put_rule_kwargs())
        if rule.targets:
            events.put_targets(Rule=rule.name, Targets=[t.put_targets_entry() for t in rule.targets])
    log.info("provisioned %d rules and %d functions from the templates", len(rules), len(functions))
    return str(secret_arn)
