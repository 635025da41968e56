"""The executor's scheduling, failure, condition, stop and bookkeeping behaviour, on small definitions."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from local_aws.executor import ExecutionNotFoundError
from tests.functional.local.conftest import LocalAws, local_aws_at
from tests.functional.local.definitions import (
    BUCKET,
    join,
    output_uri,
    pipeline,
    processing,
    s3_input,
    s3_output,
)

# Container paths are argparse defaults, as in the repo's scripts: the executor must map them too.
WRITER = """
import argparse, json, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("--out", default="/opt/ml/processing/out")
parser.add_argument("--progress", default="/opt/ml/processing/progress")
parser.add_argument("--score", type=float, default=1.0)
parser.add_argument("--fail", action="store_true")
args = parser.parse_args()
with open(os.path.join(args.out, "result.json"), "w") as handle:
    json.dump({"metrics": {"score": {"value": args.score}}}, handle)
with open(os.path.join(args.progress, "partial.txt"), "w") as handle:
    handle.write("written before failing")
print("a log line on stdout")
if args.fail:
    print("WARNING: something to ignore", file=sys.stderr)
    print("ERROR: boom happened (input.csv, row 3). Fix: repair row 3", file=sys.stderr)
    sys.exit(2)
"""

READER = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--input", default="/opt/ml/processing/in")
for root, _, files in os.walk(parser.parse_args().input):
    for name in files:
        print(os.path.join(root, name))
"""

SLEEPER = "import time\ntime.sleep(60)\n"


def writer_step(env: LocalAws, name: str = "Write", *args: str, **kwargs: object) -> dict[str, object]:
    return processing(
        name,
        env.put("code/writer.py", WRITER),
        list(args),
        outputs=[
            s3_output("out", "/opt/ml/processing/out"),
            s3_output("progress", "/opt/ml/processing/progress", mode="Continuous"),
        ],
        property_files=[{"PropertyFileName": "Result", "OutputName": "out", "FilePath": "result.json"}],
        **kwargs,  # type: ignore[arg-type]
    )


def reader_step(env: LocalAws, name: str, source: object, **kwargs: object) -> dict[str, object]:
    return processing(
        name,
        env.put("code/reader.py", READER),
        inputs=[s3_input("data", source, "/opt/ml/processing/in")],
        outputs=[s3_output(f"{name}-out", "/opt/ml/processing/copy")],
        **kwargs,  # type: ignore[arg-type]
    )


def execution_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def test_steps_run_in_dependency_order_and_outputs_land_under_the_execution(local_aws: LocalAws) -> None:
    definition = pipeline(
        [reader_step(local_aws, "Read", output_uri("Write", "out")), writer_step(local_aws)]
    )
    arn = local_aws.run(definition)
    described = local_aws.executor.describe(arn)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    steps = local_aws.steps(arn)
    assert steps["Write"]["EndTime"] <= steps["Read"]["StartTime"]
    run_id = execution_id(arn)
    assert local_aws.keys(f"runs/{run_id}/out/") == [f"runs/{run_id}/out/result.json"]
    record = {s["StepName"]: s for s in local_aws.executor.record(arn)["Steps"]}
    log_dir = Path(record["Read"]["LogDir"])
    # The reader saw the writer's output at its container path, downloaded under the input's LocalPath.
    assert "opt/ml/processing/in/result.json" in "".join(p.read_text() for p in log_dir.glob("*.stdout.log"))
    job_arn = steps["Write"]["Metadata"]["ProcessingJob"]["Arn"]
    assert job_arn.startswith(
        f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/pipelines-{run_id}-Write-"
    )
    # The job is registered with the SageMaker endpoint too, so it can be described.
    job_name = job_arn.rsplit("/", 1)[-1]
    assert (
        local_aws.clients.sagemaker.describe_processing_job(ProcessingJobName=job_name)["ProcessingJobArn"]
        == job_arn
    )


def test_a_failing_script_fails_its_step_and_the_execution_and_stops_the_rest(local_aws: LocalAws) -> None:
    definition = pipeline(
        [
            writer_step(local_aws, "Write", "--fail"),
            reader_step(local_aws, "Read", output_uri("Write", "out")),
            reader_step(local_aws, "AfterIt", f"s3://{BUCKET}/code/", depends_on=["Write"]),
        ]
    )
    arn = local_aws.run(definition)
    reason = "AlgorithmError: ERROR: boom happened (input.csv, row 3). Fix: repair row 3"
    described = local_aws.executor.describe(arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == reason
    steps = local_aws.steps(arn)
    assert set(steps) == {"Write"}  # dependents never started
    assert steps["Write"]["StepStatus"] == "Failed"
    assert steps["Write"]["FailureReason"] == reason
    run_id = execution_id(arn)
    assert local_aws.keys(f"runs/{run_id}/out/") == []  # EndOfJob: nothing uploaded on failure
    assert local_aws.keys(f"runs/{run_id}/progress/") == [f"runs/{run_id}/progress/partial.txt"]  # Continuous
    failed = [e for e in local_aws.events_of(arn) if e["detail"].get("currentStepStatus") == "Failed"]
    assert len(failed) == 1 and failed[0]["detail"]["failureReason"] == reason


def test_failure_reason_keeps_the_end_of_a_long_line(local_aws: LocalAws) -> None:
    script = local_aws.put("code/long.py", "import sys\nsys.exit('ERROR: ' + 'x' * 3000 + ' the end')\n")
    arn = local_aws.run(pipeline([processing("Long", script)]))
    reason = local_aws.steps(arn)["Long"]["FailureReason"]
    assert len(reason) <= 1024 and reason.startswith("AlgorithmError: ...") and reason.endswith("the end")


def condition_pipeline(env: LocalAws, threshold: float) -> dict[str, object]:
    score = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Write.PropertyFiles.Result"},
            "Path": "metrics.score.value",
        }
    }
    check = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {
                    "Type": "GreaterThanOrEqualTo",
                    "LeftValue": score,
                    "RightValue": {"Get": "Parameters.Threshold"},
                }
            ],
            "IfSteps": [reader_step(env, "Accept", output_uri("Write", "out"))],
            "ElseSteps": [
                {
                    "Name": "Reject",
                    "Type": "Fail",
                    "Arguments": {
                        "ErrorMessage": join(
                            "score", score, "is below", {"Get": "Parameters.Threshold"}, on=" "
                        )
                    },
                }
            ],
        },
    }
    return pipeline(
        [writer_step(env, "Write", "--score", "0.25"), check],
        parameters=[{"Name": "Threshold", "Type": "Float", "DefaultValue": threshold}],
    )


def test_a_false_condition_runs_only_the_else_branch(local_aws: LocalAws) -> None:
    arn = local_aws.run(condition_pipeline(local_aws, threshold=0.5))
    steps = local_aws.steps(arn)
    assert set(steps) == {"Write", "Check", "Reject"}
    assert steps["Check"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert steps["Reject"]["StepStatus"] == "Failed"
    assert steps["Reject"]["Metadata"] == {"Fail": {"ErrorMessage": "score 0.25 is below 0.5"}}
    described = local_aws.executor.describe(arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "score 0.25 is below 0.5"


def test_a_true_condition_runs_only_the_if_branch_and_parameters_override_defaults(
    local_aws: LocalAws,
) -> None:
    arn = local_aws.run(
        condition_pipeline(local_aws, threshold=0.5), parameters=[{"Name": "Threshold", "Value": "0.2"}]
    )
    steps = local_aws.steps(arn)
    assert set(steps) == {"Write", "Check", "Accept"}
    assert steps["Check"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert local_aws.executor.describe(arn)["PipelineExecutionStatus"] == "Succeeded"
    assert {"Name": "Threshold", "Value": "0.2"} in local_aws.executor.list_parameters(arn)


def test_step_and_execution_events_follow_aws(local_aws: LocalAws) -> None:
    arn = local_aws.run(condition_pipeline(local_aws, threshold=0.5))
    seen = [
        (
            e["detail"].get("stepName", "<execution>"),
            e["detail"].get("previousStepStatus", e["detail"].get("previousPipelineExecutionStatus")),
            e["detail"].get("currentStepStatus", e["detail"].get("currentPipelineExecutionStatus")),
        )
        for e in local_aws.events_of(arn)
    ]
    assert seen[0] == ("<execution>", None, "Executing")
    assert seen[-1] == ("<execution>", "Executing", "Failed")
    for step in ("Write", "Check", "Reject"):
        assert [s[1:] for s in seen if s[0] == step] == [
            (None, "Starting"),
            ("Starting", "Executing"),
            ("Executing", "Succeeded" if step != "Reject" else "Failed"),
        ]
    envelope = local_aws.events_of(arn)[-1]
    assert envelope["source"] == "aws.sagemaker" and envelope["account"] == "123456789012"
    assert envelope["resources"] == [local_aws.pipeline_arn(), arn]
    assert envelope["time"].endswith("Z") and len(envelope["time"]) == 20


def test_unknown_step_types_fail_with_a_clear_reason(local_aws: LocalAws) -> None:
    arn = local_aws.run(pipeline([{"Name": "Ask", "Type": "Callback", "Arguments": {}}]))
    reason = local_aws.steps(arn)["Ask"]["FailureReason"]
    assert "step type Callback (Ask) is not supported locally" in reason


def test_an_unresolvable_reference_names_the_step_and_the_path(local_aws: LocalAws) -> None:
    bad = reader_step(
        local_aws, "Read", {"Get": "Steps.Write.ProcessingOutputConfig.Outputs['nope'].S3Output.S3Uri"}
    )
    arn = local_aws.run(pipeline([writer_step(local_aws), bad]))
    reason = local_aws.steps(arn)["Read"]["FailureReason"]
    assert "step Read" in reason and "Outputs['nope']" in reason and "has no property" in reason


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            [{"Name": "Nope", "Value": "1"}],
            "unknown pipeline parameter 'Nope'; this pipeline declares: Threshold",
        ),
        ([{"Name": "Threshold", "Value": "high"}], "parameter Threshold is a Float; 'high' is not a number"),
        ([{"Name": "Threshold", "Value": ""}], "empty value"),
    ],
)
def test_parameters_are_validated_before_anything_runs(
    local_aws: LocalAws, parameters: list[dict[str, str]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        local_aws.start(condition_pipeline(local_aws, threshold=0.5), parameters=parameters)
    assert local_aws.executor.list_executions(local_aws.name) == []


def test_the_same_client_request_token_returns_the_same_execution(local_aws: LocalAws) -> None:
    definition = pipeline([writer_step(local_aws)])
    first = local_aws.start(definition, client_request_token="s3-event-1")
    second = local_aws.start(definition, client_request_token="s3-event-1")
    third = local_aws.start(definition, client_request_token="s3-event-2")
    assert first == second != third
    for arn in (first, third):
        local_aws.executor.wait(arn, 60)
    listed = local_aws.executor.list_executions(local_aws.pipeline_arn())
    assert [s["PipelineExecutionArn"] for s in listed] == [third, first]  # newest first
    assert local_aws.executor.list_executions(local_aws.name, status="Failed") == []


def test_stop_stops_the_running_job(local_aws: LocalAws) -> None:
    arn = local_aws.start(pipeline([processing("Sleep", local_aws.put("code/sleep.py", SLEEPER))]))
    deadline = time.monotonic() + 30
    while local_aws.steps(arn).get("Sleep", {}).get("StepStatus") != "Executing":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    local_aws.executor.stop(arn)
    described = local_aws.executor.wait(arn, 30)
    assert time.monotonic() - started < 15
    assert described["PipelineExecutionStatus"] == "Stopped"
    assert local_aws.steps(arn)["Sleep"]["StepStatus"] == "Stopped"
    statuses = [e["detail"].get("currentPipelineExecutionStatus") for e in local_aws.events_of(arn)]
    assert [s for s in statuses if s] == ["Executing", "Stopping", "Stopped"]
    with pytest.raises(ValueError, match="cannot be stopped"):
        local_aws.executor.stop(arn)


def test_runtime_limit_stops_a_job(local_aws: LocalAws) -> None:
    step = processing("Sleep", local_aws.put("code/sleep.py", SLEEPER), max_runtime=1)
    arn = local_aws.run(pipeline([step]), timeout=30)
    assert "exceeded MaxRuntimeInSeconds (1 s)" in local_aws.steps(arn)["Sleep"]["FailureReason"]


def test_records_survive_a_restart_of_the_executor(tmp_path: Path) -> None:
    with local_aws_at(tmp_path / "work") as env:
        arn = env.run(pipeline([writer_step(env)]), parameters=[], client_request_token="s3-event-1")
        record_file = env.executor.execution_dir(arn) / "execution.json"
        record = json.loads(record_file.read_text())
        write = record["Steps"][0]
        assert write["Arguments"]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"][
            "S3Uri"
        ] == (f"s3://{BUCKET}/runs/{execution_id(arn)}/out")
        assert write["Outputs"]["out"] == f"s3://{BUCKET}/runs/{execution_id(arn)}/out"
        # An execution that was still running when its executor went away.
        record["PipelineExecutionStatus"] = "Executing"
        record["PipelineExecutionArn"] = arn.replace(execution_id(arn), "interrupted01")
        record["PipelineExecutionId"] = "interrupted01"
        record["ClientRequestToken"] = None  # a copy: the token is the first execution's
        (tmp_path / "work/executions/interrupted01").mkdir()
        (tmp_path / "work/executions/interrupted01/execution.json").write_text(json.dumps(record))
    with local_aws_at(tmp_path / "work") as env:
        assert env.executor.describe(arn)["PipelineExecutionStatus"] == "Succeeded"
        assert env.start(pipeline([writer_step(env)]), client_request_token="s3-event-1") == arn
        interrupted = env.executor.describe(record["PipelineExecutionArn"])
        assert interrupted["PipelineExecutionStatus"] == "Failed"
        assert "the local endpoint stopped while this execution was running" in interrupted["FailureReason"]
        with pytest.raises(ExecutionNotFoundError):
            env.executor.describe(arn + "x")


# Literal container paths through the usual file APIs, as many SageMaker processing scripts are written.
LITERAL_PATHS = """
import glob, os, pathlib, shutil
import pandas as pd
frame = pd.concat(pd.read_csv(p) for p in sorted(glob.glob("/opt/ml/processing/input/*.csv")))
os.makedirs("/opt/ml/processing/output/summary", exist_ok=True)
frame.describe().to_csv("/opt/ml/processing/output/summary/describe.csv")
pathlib.Path("/opt/ml/processing/output/rows.txt").write_text(str(len(frame)))
shutil.copy("/opt/ml/processing/input/a.csv", "/opt/ml/processing/output/copy.csv")
os.makedirs("/opt/ml/processing/output/scratch/deeper")
shutil.rmtree("/opt/ml/processing/output/scratch")
assert shutil.rmtree.avoids_symlink_attacks  # the fd-based rmtree, as in the container
assert os.path.isdir("/opt/ml/processing/output/summary")
assert sorted(os.listdir("/opt/ml/processing/output")) == ["copy.csv", "rows.txt", "summary"]
print("files seen as", sorted(glob.glob("/opt/ml/processing/output/*")))
"""


def test_literal_container_paths_in_a_script_read_and_write_the_job_tree(local_aws: LocalAws) -> None:
    local_aws.put("literal/in/a.csv", "x,y\n1,2\n3,4\n")
    local_aws.put("literal/in/b.csv", "x,y\n5,6\n")
    step = processing(
        "Literal",
        local_aws.put("code/literal.py", LITERAL_PATHS),
        inputs=[s3_input("data", f"s3://{BUCKET}/literal/in", "/opt/ml/processing/input")],
        outputs=[s3_output("out", "/opt/ml/processing/output")],
    )
    arn = local_aws.run(pipeline([step]))
    assert local_aws.executor.describe(arn)["PipelineExecutionStatus"] == "Succeeded", local_aws.steps(arn)
    prefix = f"runs/{execution_id(arn)}/out/"
    assert local_aws.keys(prefix) == [prefix + k for k in ("copy.csv", "rows.txt", "summary/describe.csv")]
    assert local_aws.get(f"s3://{BUCKET}/{prefix}rows.txt") == b"3"
    assert local_aws.get(f"s3://{BUCKET}/{prefix}copy.csv") == b"x,y\n1,2\n3,4\n"
    assert not Path("/opt/ml/processing/output").exists()  # nothing written outside the job's tree
