""".gitlab-ci.yml validated offline: schema, structure, each kind of pipeline's jobs, gitlab-ci-local.

The structural tests read the file with ``yaml.safe_load`` and the small model in ``tests/ci/gitlab.py``;
the last group asks gitlab-ci-local (``make ci-tools``) for the same answers, as an independent check.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.ci import gitlab

ROOT = Path(__file__).resolve().parents[2]
CI_FILE = ROOT / ".gitlab-ci.yml"
NODE_BIN = ROOT / ".tools" / "node" / "node_modules" / ".bin"
# Read at import: the autouse fixture in tests/conftest.py scrubs MLOPS_* variables from every test.
ALLOW_NO_GITLAB_CI_LOCAL = os.environ.get("MLOPS_ALLOW_NO_GITLAB_CI_LOCAL") == "1"

ENVIRONMENTS = {"dev": "development", "staging": "staging", "prod": "production"}
ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-prod-abalone/7"
MERGE_REQUEST = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_COMMIT_BRANCH": "",
    "CI_DEFAULT_BRANCH": "main",
}
MAIN = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}
FEATURE_BRANCH = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature/x", "CI_DEFAULT_BRANCH": "main"}
TAG = {
    "CI_PIPELINE_SOURCE": "push",
    "CI_COMMIT_TAG": "v1.0.0",
    "CI_COMMIT_BRANCH": "",
    "CI_DEFAULT_BRANCH": "main",
}
TRIGGER = {
    "CI_PIPELINE_SOURCE": "trigger",
    "CI_COMMIT_BRANCH": "main",
    "CI_DEFAULT_BRANCH": "main",
    "MLOPS_JOB": "deploy-on-approval",
    "DEPLOY_ENVIRONMENT": "prod",
    "MODEL_PACKAGE_ARN": ARN,
}
CHECKS = {"test", "terraform:checks", "terraform:scan"}
MR_JOBS = CHECKS | {"definitions", "plan:dev"}
MAIN_JOBS = CHECKS | {
    "pipelines:dev",
    *(f"{action}:{env}" for action in ("plan", "apply", "destroy") for env in ENVIRONMENTS),
}


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return gitlab.load(CI_FILE)


@pytest.fixture(scope="module")
def jobs(ci: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: gitlab.effective(ci, name) for name in gitlab.job_names(ci)}


def planned(ci: dict[str, Any], variables: Mapping[str, str]) -> dict[str, gitlab.PlannedJob]:
    result = gitlab.pipeline(ci, variables)
    assert result is not None, f"no pipeline for {variables}"
    return result


# --- schema ----------------------------------------------------------------------------------------------


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_file_matches_gitlabs_schema_offline() -> None:
    done = check_jsonschema(CI_FILE)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("good", "bad", "reported"),
    [
        ("resource_group: prod", "resource_groups: prod", "resource_groups"),
        ("action: stop", "action: halt", "halt"),
    ],
)
def test_the_schema_check_catches_a_broken_file(tmp_path: Path, good: str, bad: str, reported: str) -> None:
    """The validator is live: a misspelt keyword or an impossible value in a job is rejected."""
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(CI_FILE.read_text().replace(good, bad, 1))
    done = check_jsonschema(broken)
    assert done.returncode != 0
    assert reported in done.stdout + done.stderr


# --- structure -------------------------------------------------------------------------------------------


def test_every_job_uses_a_declared_stage(ci: dict[str, Any], jobs: dict[str, dict[str, Any]]) -> None:
    assert ci["stages"] == ["test", "build", "plan", "apply", "destroy"]
    stages = gitlab.stages(ci)
    bad = {
        name: job.get("stage", "test") for name, job in jobs.items() if job.get("stage", "test") not in stages
    }
    assert not bad, f"jobs in undeclared stages: {bad}"


def test_every_extends_resolves(ci: dict[str, Any]) -> None:
    for name in [k for k in ci if k not in gitlab.GLOBAL_KEYWORDS]:
        gitlab.resolve(ci, name)  # raises on an unknown parent or a cycle


def test_every_need_is_a_job_in_the_same_or_an_earlier_stage(
    ci: dict[str, Any], jobs: dict[str, dict[str, Any]]
) -> None:
    order = gitlab.stages(ci)
    for name, job in jobs.items():
        for needed, _, _ in gitlab.needed_jobs(job):
            assert needed in jobs, f"{name} needs unknown job {needed!r}"
            assert order.index(jobs[needed]["stage"]) <= order.index(job["stage"]), (
                f"{name} ({job['stage']}) needs {needed} from the later stage {jobs[needed]['stage']}"
            )


@pytest.mark.parametrize(
    "variables",
    [MERGE_REQUEST, MAIN, TRIGGER, FEATURE_BRANCH, TAG],
    ids=["mr", "main", "trigger", "branch", "tag"],
)
def test_in_every_pipeline_each_need_is_in_that_pipeline(
    ci: dict[str, Any], variables: dict[str, str]
) -> None:
    pipeline = planned(ci, variables)
    for name, job in pipeline.items():
        for needed, _, optional in gitlab.needed_jobs(job.job):
            assert optional or needed in pipeline, f"{name} needs {needed}, which this pipeline does not run"


def make_targets() -> set[str]:
    """Every target make knows here (Makefile and the fragments it includes), from its database."""
    done = subprocess.run(
        ["make", "-pRrq", "-f", "Makefile"], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )
    targets: set[str] = set()
    previous = ""
    for line in done.stdout.splitlines():
        match = re.match(r"^([A-Za-z0-9_.%/-][^\s:=#]*(?: [^\s:=#]+)*):(?!=)", line)
        if match and previous != "# Not a target:":
            targets.update(match.group(1).split())
        previous = line
    return targets


def test_jobs_call_make_targets_that_exist(jobs: dict[str, dict[str, Any]]) -> None:
    called: dict[str, set[str]] = {}
    for name, job in jobs.items():
        for line in gitlab.script_lines(job):
            words = line.split()
            if words[:1] == ["make"]:
                for word in words[1:]:
                    if not word.startswith("-") and "=" not in word:
                        called.setdefault(word, set()).add(name)
    assert called, "no job calls make"
    available = make_targets()
    missing = {target: sorted(users) for target, users in called.items() if target not in available}
    hint = (
        "" if (ROOT / "terraform.mk").exists() else " (terraform.mk is missing: it defines the tf-* targets)"
    )
    assert not missing, f"jobs call make targets that do not exist: {missing}{hint}"


def test_jobs_run_make_targets_only(jobs: dict[str, dict[str, Any]]) -> None:
    """No logic hidden in the YAML: scripts are make calls, plus the OIDC token hand-off and one unset.

    No CI variable is ever part of a command line (a value holding backticks or $(...) would run): make
    and mlops read them from the job's environment."""
    allowed = re.compile(r"^(make [a-z][a-z0-9:-]*|unset MLOPS_JOB)$")
    token = """printf '%s' "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE\""""
    for name, job in jobs.items():
        for line in gitlab.script_lines(job):
            assert line == token or allowed.match(line), f"{name}: {line!r} is not a make call"


# --- environments, promotion, destroy -----------------------------------------------------------------------


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_are_promoted_by_hand(ci: dict[str, Any], env: str) -> None:
    pipeline = planned(ci, MAIN)
    for action in ("plan", "apply"):
        job = pipeline[f"{action}:{env}"]
        assert job.when == "manual", f"{action}:{env} must be manual"
        assert job.job["environment"]["name"] == env
        assert job.job["environment"]["deployment_tier"] == ENVIRONMENTS[env]
        assert job.job["resource_group"] == env
    apply = pipeline[f"apply:{env}"].job
    assert apply.get("allow_failure", False) is False, "a failed promotion must fail the pipeline"
    assert apply["environment"]["on_stop"] == f"destroy:{env}"
    previous = {"staging": "apply:dev", "prod": "apply:staging"}[env]
    needs = {n: artifacts for n, artifacts, _ in gitlab.needed_jobs(apply)}
    assert needs == {previous: False, f"plan:{env}": True}, "promotion order, and the saved plan as artifact"
    assert gitlab.script_lines(apply)[-3:] == [
        "make tf-init",
        "make tf-apply",
        "make pipelines-upsert",
    ]
    assert apply["variables"]["ENV"] == env


def test_dev_is_applied_on_merge_from_the_saved_plan(ci: dict[str, Any]) -> None:
    pipeline = planned(ci, MAIN)
    apply, build = pipeline["apply:dev"], pipeline["pipelines:dev"]
    assert apply.when == "on_success"
    assert gitlab.needed_jobs(apply.job) == [("plan:dev", True, False)]
    assert apply.job["resource_group"] == build.job["resource_group"] == "dev"
    assert apply.job["environment"] == {
        "name": "dev",
        "deployment_tier": "development",
        "on_stop": "destroy:dev",
    }
    assert gitlab.script_lines(build.job)[-1] == "make pipelines-upsert"
    assert build.job["variables"]["ENV"] == "dev"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_destroy_is_manual_on_stop_and_removes_infrastructure_and_pipelines(
    ci: dict[str, Any], env: str
) -> None:
    pipeline = planned(ci, MAIN)
    destroy = pipeline[f"destroy:{env}"]
    assert destroy.when == "manual"
    assert destroy.job["allow_failure"] is True, (
        "a destroy job waiting to be played must not block the pipeline"
    )
    assert destroy.job["environment"]["name"] == env
    assert destroy.job["environment"]["action"] == "stop"
    assert destroy.job["resource_group"] == env
    assert destroy.job["stage"] == "destroy"
    lines = gitlab.script_lines(destroy.job)
    assert "make tf-destroy" in lines and "make pipelines-delete" in lines
    starters = [
        n for n, j in pipeline.items() if j.job.get("environment", {}).get("on_stop") == f"destroy:{env}"
    ]
    assert f"apply:{env}" in starters
    for name in starters:  # GitLab requires the deploy and its stop job to be created together
        assert pipeline[name].job["environment"]["name"] == env


def test_every_job_that_changes_an_environment_holds_its_resource_group(
    jobs: dict[str, dict[str, Any]],
) -> None:
    for name, job in jobs.items():
        environment = job.get("environment")
        if environment and environment.get("action", "start") in ("start", "stop"):
            assert job.get("resource_group") == environment["name"], f"{name}: resource_group"
            assert job.get("interruptible") is False, f"{name} must not be cancelled half-way"


# --- AWS access, state, images, caches -------------------------------------------------------------------


def test_aws_access_is_oidc_only(jobs: dict[str, dict[str, Any]]) -> None:
    text = CI_FILE.read_text()
    for forbidden in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "CI_JOB_JWT"):
        assert forbidden not in text, f"{forbidden} in .gitlab-ci.yml: use the OIDC role instead"
    aws_jobs = {name: job for name, job in jobs.items() if "environment" in job}
    assert len(aws_jobs) >= 10
    for name, job in aws_jobs.items():
        assert job["id_tokens"]["AWS_ID_TOKEN"]["aud"], name
        assert job["variables"]["AWS_WEB_IDENTITY_TOKEN_FILE"], name
        assert "$CI_JOB_ID" in job["variables"]["AWS_ROLE_SESSION_NAME"], name
        first = gitlab.script_lines(job)[0]
        assert first == """printf '%s' "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE\"""", name


def test_terraform_state_is_gitlab_managed_one_per_environment(jobs: dict[str, dict[str, Any]]) -> None:
    for env in ENVIRONMENTS:
        for name in (f"plan:{env}", f"apply:{env}", f"destroy:{env}"):
            variables = jobs[name]["variables"]
            assert variables["ENV"] == env
            state = "$CI_API_V4_URL/projects/$CI_PROJECT_ID/terraform/state/$ENV"
            assert variables["TF_HTTP_ADDRESS"] == state
            assert variables["TF_HTTP_LOCK_ADDRESS"] == variables["TF_HTTP_UNLOCK_ADDRESS"] == f"{state}/lock"
            assert variables["TF_HTTP_USERNAME"] == "gitlab-ci-token"
            assert variables["TF_HTTP_PASSWORD"] == "$CI_JOB_TOKEN"
            assert "make ci-terraform" in gitlab.script_lines(jobs[name])


def test_plans_are_saved_artifacts_with_gitlabs_terraform_report(jobs: dict[str, dict[str, Any]]) -> None:
    for env in ENVIRONMENTS:
        plan = jobs[f"plan:{env}"]
        assert gitlab.script_lines(plan)[-3:] == [
            "make tf-init",
            "make tf-plan",
            "make ci-plan-report",
        ]
        artifacts = plan["artifacts"]
        assert "build/terraform/" in artifacts["paths"] and "build/lambda/" in artifacts["paths"]
        assert artifacts["reports"]["terraform"] == f"build/terraform/{env}.plan-summary.json"
        assert artifacts["access"] == "developer", "plans can hold sensitive values"
        assert plan["environment"]["action"] == "prepare"


def test_merge_request_plan_reads_state_without_locking_it(ci: dict[str, Any]) -> None:
    mr_plan = planned(ci, MERGE_REQUEST)["plan:dev"].job
    assert mr_plan["variables"]["TF_CLI_ARGS_plan"] == "-lock=false"
    main_plan = planned(ci, MAIN)["plan:dev"].job
    assert "TF_CLI_ARGS_plan" not in main_plan["variables"]


def test_images_are_pinned(ci: dict[str, Any], jobs: dict[str, dict[str, Any]]) -> None:
    images = {"default": ci["default"]["image"]} | {n: j["image"] for n, j in jobs.items() if "image" in j}
    for where, image in images.items():
        name = image["name"] if isinstance(image, dict) else image
        assert "@sha256:" in name or re.search(r":\d+\.\d+\.\d+[\w.-]*$", name), (
            f"{where}: {name} is not pinned to an exact version"
        )
        assert not name.endswith(":latest")


def test_caches_are_keyed_on_the_lock_files(ci: dict[str, Any], jobs: dict[str, dict[str, Any]]) -> None:
    python = ci["default"]["cache"][0]
    assert python["key"]["files"] == ["constraints.txt", "pyproject.toml"]
    assert ".venv/" in python["paths"]
    caches = jobs["apply:prod"]["cache"]
    terraform = next(c for c in caches if c["key"]["prefix"] == "terraform")
    assert terraform["key"]["files"] == [".terraform.lock.hcl"]
    assert ci["variables"]["TF_PLUGIN_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/terraform-plugins"
    assert terraform["paths"] == [".cache/terraform-plugins/"]


# --- which jobs each kind of pipeline runs ------------------------------------------------------------------


def test_merge_requests_test_build_definitions_and_plan_dev(ci: dict[str, Any]) -> None:
    pipeline = planned(ci, MERGE_REQUEST)
    assert set(pipeline) == MR_JOBS
    assert all(job.when == "on_success" for job in pipeline.values())
    assert gitlab.script_lines(pipeline["test"].job)[-1] == "make check"
    definitions = pipeline["definitions"].job
    assert definitions["artifacts"]["paths"] == ["build/definitions/"]
    assert gitlab.script_lines(definitions) == ["make definitions"]


def test_main_deploys_dev_and_offers_promotion(ci: dict[str, Any]) -> None:
    pipeline = planned(ci, MAIN)
    assert set(pipeline) == MAIN_JOBS
    automatic = {name for name, job in pipeline.items() if job.when == "on_success"}
    assert automatic == CHECKS | {"pipelines:dev", "plan:dev", "apply:dev"}


def test_branches_and_tags_only_test(ci: dict[str, Any]) -> None:
    assert set(planned(ci, FEATURE_BRANCH)) == CHECKS
    assert set(planned(ci, TAG)) == CHECKS
    with_mr = {**FEATURE_BRANCH, "CI_OPEN_MERGE_REQUESTS": "group/project!1"}
    assert gitlab.pipeline(ci, with_mr) is None, "the merge request pipeline covers a push to its branch"


def test_an_approval_trigger_runs_only_the_deploy_job(ci: dict[str, Any]) -> None:
    pipeline = planned(ci, TRIGGER)
    assert set(pipeline) == {"deploy-approved"}
    job = pipeline["deploy-approved"].job
    assert job["needs"] == []
    assert gitlab.script_lines(job)[-2:] == ["make deploy-approved", "make ci-deploy-report"]
    assert job["variables"]["ENV"] == "$DEPLOY_ENVIRONMENT"
    assert job["environment"] == {"name": "$DEPLOY_ENVIRONMENT", "action": "access"}
    assert job["resource_group"] == "$DEPLOY_ENVIRONMENT", "never overlaps a Terraform apply"
    assert job["artifacts"]["reports"]["dotenv"] == "build/deploy/deploy-approved.env"


@pytest.mark.parametrize(
    "change",
    [
        {"MLOPS_JOB": ""},
        {"MLOPS_JOB": "something-else"},
        {"DEPLOY_ENVIRONMENT": "qa"},
        {"DEPLOY_ENVIRONMENT": ""},
        {"MODEL_PACKAGE_ARN": ""},
        {"MODEL_PACKAGE_ARN": "not-an-arn"},
        {"MODEL_PACKAGE_ARN": "arn:aws:sagemaker:"},
        {"MODEL_PACKAGE_ARN": ARN + " `touch /tmp/pwned`"},
        {"MODEL_PACKAGE_ARN": "arn:aws:sagemaker:us-east-1:111111111111:model-package/g/1\n$(id)"},
        {"MODEL_PACKAGE_ARN": "arn:aws:sagemaker:us-east-1:1111:model-package/g/1"},
        {"MODEL_PACKAGE_ARN": "x" + ARN},
    ],
)
def test_any_other_trigger_call_creates_no_pipeline(ci: dict[str, Any], change: dict[str, str]) -> None:
    assert gitlab.pipeline(ci, {**TRIGGER, **change}) is None


def test_schedules_and_api_calls_create_no_pipeline(ci: dict[str, Any]) -> None:
    for source in ("schedule", "api", "pipeline", "parent_pipeline"):
        assert gitlab.pipeline(ci, {**MAIN, "CI_PIPELINE_SOURCE": source}) is None, source


def test_the_rule_model_refuses_what_it_does_not_know() -> None:
    assert gitlab.evaluate('$A == "x" && ($B =~ /^y/ || $C)', {"A": "x", "C": "1"})
    assert not gitlab.evaluate("$A != $B", {"A": "same", "B": "same"})
    with pytest.raises(gitlab.UnsupportedExpressionError):
        gitlab.evaluate("$A > 3", {"A": "4"})


# --- gitlab-ci-local: the same answers from an independent implementation -----------------------------------


@pytest.fixture(scope="module")
def gitlab_ci_local(tmp_path_factory: pytest.TempPathFactory) -> Any:
    binary = NODE_BIN / "gitlab-ci-local"
    if not binary.exists():
        if ALLOW_NO_GITLAB_CI_LOCAL:
            pytest.skip("gitlab-ci-local is not installed (MLOPS_ALLOW_NO_GITLAB_CI_LOCAL=1)")
        pytest.fail(
            "gitlab-ci-local is not installed: run `make ci-tools` (Node 22 + gitlab-ci-local into .tools/, "
            "about 10 s), or set MLOPS_ALLOW_NO_GITLAB_CI_LOCAL=1 to skip these checks"
        )
    state = tmp_path_factory.mktemp("gitlab-ci-local")
    path = f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(binary), "--state-dir", os.path.relpath(state, ROOT), "--no-color", *args],
            cwd=ROOT,
            env={**os.environ, "PATH": path, "GCL_IGNORE_PREDEFINED_VARS": ",".join(TRIGGER)},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    return run


def gcl_variables(variables: Mapping[str, str]) -> list[str]:
    return [arg for key, value in variables.items() for arg in ("--variable", f"{key}={value}")]


def test_gitlab_ci_local_expands_and_validates_the_file(gitlab_ci_local: Any) -> None:
    done = gitlab_ci_local("--preview")  # with its own JSON schema validation (the other calls skip it)
    assert done.returncode == 0, done.stderr
    assert "apply:prod:" in done.stdout and "resource_group: prod" in done.stdout


@pytest.mark.parametrize(
    ("variables", "expected"),
    [(MERGE_REQUEST, MR_JOBS), (MAIN, MAIN_JOBS), (TRIGGER, {"deploy-approved"}), (TAG, CHECKS)],
    ids=["mr", "main", "trigger", "tag"],
)
def test_gitlab_ci_local_picks_the_same_jobs(
    gitlab_ci_local: Any, ci: dict[str, Any], variables: dict[str, str], expected: set[str]
) -> None:
    done = gitlab_ci_local("--list-json", "--no-json-schema-validation", *gcl_variables(variables))
    assert done.returncode == 0, done.stderr
    listed = {job["name"]: job["when"] for job in json.loads(done.stdout) if job["when"] != "never"}
    assert set(listed) == expected
    ours = {name: job.when for name, job in planned(ci, variables).items()}
    assert listed == ours, "tests/ci/gitlab.py and gitlab-ci-local disagree"


@pytest.mark.parametrize("variables", [MERGE_REQUEST, TRIGGER], ids=["mr", "trigger"])
def test_gitlab_ci_local_validates_the_dependency_chain(
    gitlab_ci_local: Any, variables: dict[str, str]
) -> None:
    # Not for main: gitlab-ci-local 4.75 rejects `needs` on manual jobs, which promotion relies on and
    # GitLab accepts; test_in_every_pipeline_each_need_is_in_that_pipeline covers main.
    done = gitlab_ci_local(
        "--validate-dependency-chain", "--no-json-schema-validation", *gcl_variables(variables)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All job dependencies are valid" in done.stdout


def test_the_ci_tools_are_the_pinned_versions(gitlab_ci_local: Any) -> None:
    ci_mk = (ROOT / "ci.mk").read_text()
    node = re.search(r"^NODE_VERSION := (\S+)$", ci_mk, re.MULTILINE)
    gcl = re.search(r"^GITLAB_CI_LOCAL_VERSION := (\S+)$", ci_mk, re.MULTILINE)
    assert node and gcl
    assert gitlab_ci_local("--version").stdout.strip() == gcl.group(1)
    node_version = subprocess.run(
        [str(NODE_BIN / "node"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert node_version == f"v{node.group(1)}"
