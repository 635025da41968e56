"""Approval → "Model Package State Change" → the real deploy-trigger Lambda → the fake GitLab's job."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local_aws.gitlab import FakeGitLab, PipelineTrigger
from local_aws.server import LocalAWS
from pipeline_scripts.tooling.lambda_package import DEFAULT_SRC, build_package

from .conftest import ROLE, make_queue, pending_model_package

GROUP = "mlops-local-abalone"


def test_approving_a_version_runs_the_deploy_job(
    aws: LocalAWS, client: Callable[[str], Any], tmp_path: Path
) -> None:
    jobs: list[PipelineTrigger] = []
    with FakeGitLab("glptt-local", jobs.append, project_id="42") as gitlab:
        secret = client("secretsmanager").create_secret(Name="gitlab-token", SecretString="glptt-local")[
            "ARN"
        ]
        _, dlq = make_queue(client, "deploy-dlq")
        client("iam").create_role(RoleName="lambda", AssumeRolePolicyDocument="{}")
        function = client("lambda").create_function(
            FunctionName="mlops-local-deploy-trigger",
            Runtime="python3.12",
            Role=ROLE,
            Handler="deploy_trigger.handler",
            Code={"ZipFile": build_package(DEFAULT_SRC, tmp_path / "lambda.zip").read_bytes()},
            Timeout=30,
            DeadLetterConfig={"TargetArn": dlq},
            Environment={
                "Variables": {
                    "GITLAB_URL": gitlab.url,
                    "GITLAB_PROJECT_ID": "42",
                    "GITLAB_REF": "main",
                    "GITLAB_TOKEN_SECRET_ARN": secret,
                    "ENVIRONMENT": "local",
                    "MODEL_PACKAGE_GROUP_NAME": GROUP,
                    "LOG_LEVEL": "INFO",
                }
            },
        )["FunctionArn"]
        pattern = {
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Model Package State Change"],
            "detail": {"ModelPackageGroupName": [GROUP], "ModelApprovalStatus": ["Approved"]},
        }
        events = client("events")
        events.put_rule(Name="mlops-local-model-approved", EventPattern=json.dumps(pattern))
        events.put_targets(
            Rule="mlops-local-model-approved", Targets=[{"Id": "model-approved", "Arn": function}]
        )
        sm = client("sagemaker")
        arn = pending_model_package(sm, GROUP)
        assert aws.wait_idle(30)
        assert jobs == []  # pending is not approved

        sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        assert aws.wait_idle(60)
        assert gitlab.wait_idle(30)

    (job,) = jobs
    assert job.ref == "main"
    assert job.variables["MODEL_PACKAGE_ARN"] == arn
    assert job.variables["MLOPS_JOB"] == "deploy-on-approval"
    assert job.variables["DEPLOY_ENVIRONMENT"] == "local"
    assert job.status == "success"
