"""A processing job with InstanceCount > 1: one local process per host, ShardedByS3Key inputs split by key,
resourceconfig.json on every host, every host's outputs uploaded under the same prefix."""

from __future__ import annotations

import json

from tests.functional.local.conftest import LocalAws
from tests.functional.local.definitions import BUCKET, pipeline, processing, s3_input, s3_output

SCRIPT = """
import json, os
config = json.load(open("/opt/ml/config/resourceconfig.json"))
host = config["current_host"]
seen = sorted(os.listdir("/opt/ml/processing/input/data"))
shared = sorted(os.listdir("/opt/ml/processing/input/shared"))
os.makedirs("/opt/ml/processing/output/" + host)
with open("/opt/ml/processing/output/" + host + "/seen.json", "w") as fh:
    json.dump({"hosts": config["hosts"], "seen": seen, "shared": shared}, fh)
"""


def test_each_host_gets_its_share_and_every_output_is_uploaded(local_aws: LocalAws) -> None:
    script = local_aws.put("code/hosts.py", SCRIPT)
    for index in range(5):
        local_aws.put(f"parts/part-{index}.csv", f"{index}\n")
    local_aws.put("shared/lookup.csv", "x\n")
    sharded = s3_input("data", f"s3://{BUCKET}/parts", "/opt/ml/processing/input/data")
    sharded["S3Input"]["S3DataDistributionType"] = "ShardedByS3Key"
    step = processing(
        "Hosts",
        script,
        inputs=[sharded, s3_input("shared", f"s3://{BUCKET}/shared", "/opt/ml/processing/input/shared")],
        outputs=[s3_output("seen", "/opt/ml/processing/output")],
    )
    step["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = 2
    arn = local_aws.run(pipeline([step]))
    assert local_aws.executor.describe(arn)["PipelineExecutionStatus"] == "Succeeded"
    run_id = arn.rsplit("/", 1)[-1]
    keys = local_aws.keys(f"runs/{run_id}/seen/")
    assert sorted(k.rsplit("/", 2)[-2] for k in keys) == ["algo-1", "algo-2"]
    seen = {
        host: json.loads(local_aws.get(f"s3://{BUCKET}/runs/{run_id}/seen/{host}/seen.json"))
        for host in ("algo-1", "algo-2")
    }
    assert seen["algo-1"]["seen"] == ["part-0.csv", "part-2.csv", "part-4.csv"]
    assert seen["algo-2"]["seen"] == ["part-1.csv", "part-3.csv"]
    assert all(s["shared"] == ["lookup.csv"] and s["hosts"] == ["algo-1", "algo-2"] for s in seen.values())
