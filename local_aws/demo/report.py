"""The demo's timeline and HTML report: checks, pipeline DAGs with step statuses, data- and
model-quality results with their own reports copied next to it, registry versions, notifications.

``collect`` reads what happened from the local endpoint (executions, events, notifications, S3);
``timeline`` orders it; ``write_report`` renders one self-contained HTML file.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from local_aws.demo import dag
from pipeline_scripts.config import Config
from pipeline_scripts.config.contracts import load as load_contracts

log = logging.getLogger(__name__)
STEPS = load_contracts().steps  # step key → name (contracts.json)

QUALITY_FILES = {
    STEPS["data_quality_check"]: ("report.html", "constraint_violations.json"),
    STEPS["model_quality"]: ("model_quality_report.html", "model_quality.json"),
    STEPS["data_quality_baseline"]: ("report.html", "statistics.json"),
}


def collect(
    endpoint: Any, config: Config, checks: Sequence[Any], wall_seconds: float, out_dir: Path
) -> dict[str, Any]:
    """Everything the report shows, as plain data (also written to ``demo.json``)."""
    executions = []
    for summary in endpoint.executions():
        arn = summary.get("PipelineExecutionArn", "")
        try:
            record = endpoint.executor.record(arn)
            definition_path = endpoint.executor.execution_dir(arn) / "definition.json"
            definition = json.loads(definition_path.read_text()) if definition_path.is_file() else {}
        except Exception as exc:  # an execution the executor no longer knows
            log.debug("no record for %s: %s", arn, exc)
            continue
        record["Artifacts"] = _copy_artifacts(endpoint, record, out_dir / "artifacts")
        record["Definition"] = definition
        executions.append(record)
    executions.sort(key=lambda r: r.get("CreationTime") or "")
    try:
        from pipeline_scripts.ops import registry

        versions = [
            {"version": v.version, "status": v.status, "arn": v.arn, "metadata": v.metadata}
            for v in registry.list_versions(
                endpoint.clients.client("sagemaker"), config.env.model_package_group_name
            )
        ]
    except Exception as exc:
        log.debug("registry not readable: %s", exc)
        versions = []
    data: dict[str, Any] = {
        "environment": config.name,
        "endpoint": endpoint.endpoint_url,
        "wall_seconds": wall_seconds,
        "checks": [{"what": c.what, "ok": c.ok, "detail": c.detail, "at": round(c.at, 1)} for c in checks],
        "executions": executions,
        "events": endpoint.events(),
        "notifications": endpoint.notifications(),
        "versions": versions,
    }
    data["timeline"] = timeline(data)
    (out_dir / "demo.json").write_text(json.dumps(data, indent=2, default=str))
    return data


def timeline(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Events, step transitions and notifications, oldest first, with times relative to the first."""
    rows: list[dict[str, Any]] = []
    for record in data.get("events", []):
        event = record.get("event", {})
        rows.append(
            {
                "time": record.get("time"),
                "kind": "event",
                "what": event_summary(event),
                "detail": ", ".join(
                    f"{d.get('rule')} → {d.get('target_arn', '').rsplit(':', 1)[-1]} ({d.get('status')})"
                    for d in record.get("deliveries", [])
                ),
            }
        )
    for execution in data.get("executions", []):
        name = execution.get("PipelineName", "")
        for step in execution.get("Steps", []):
            took = _duration(step.get("StartTime"), step.get("EndTime"))
            rows.append(
                {
                    "time": step.get("StartTime"),
                    "end": step.get("EndTime"),
                    "kind": "step",
                    "what": f"{name} · {step.get('StepName')} {step.get('StepStatus')}",
                    "detail": (f"{took:.1f} s" if took is not None else "")
                    + (f" — {step['FailureReason'][:200]}" if step.get("FailureReason") else ""),
                }
            )
    for note in data.get("notifications", []):
        rows.append(
            {
                "time": note.get("time"),
                "kind": "notification",
                "what": note.get("subject") or "",
                "detail": "",
            }
        )
    rows = [r for r in rows if r.get("time")]
    rows.sort(key=lambda r: epoch(r["time"]))
    if rows:
        origin = epoch(rows[0]["time"])
        for row in rows:
            row["t"] = round(epoch(row["time"]) - origin, 2)
    return rows


def print_timeline(rows: Sequence[dict[str, Any]], echo: Any = print) -> None:
    """The rows that tell the story: steps, notifications, and events some rule delivered (the report
    has everything, including events no rule matched)."""
    echo("timeline (s since the first event):")
    for row in rows:
        if row["kind"] == "event" and not row.get("detail"):
            continue
        icon = {"event": "⚡", "step": "▸", "notification": "✉"}.get(row["kind"], " ")
        detail = f"  [{row['detail']}]" if row.get("detail") else ""
        echo(f"  {row.get('t', 0):7.1f}  {icon} {row['what']}{detail}"[:220])


def write_report(data: dict[str, Any], path: Path) -> Path:
    checks = data.get("checks", [])
    passed = sum(1 for c in checks if c["ok"])
    ok = bool(checks) and passed == len(checks)
    body = [
        "<h1>Local lifecycle demo</h1>",
        f"<p class='meta'>environment <b>{_e(data.get('environment'))}</b> · endpoint "
        f"{_e(data.get('endpoint'))} · {data.get('wall_seconds', 0):.1f} s wall time</p>",
        f"<p class='{'ok' if ok else 'bad'}'>{passed} of {len(checks)} expected transitions happened</p>",
        _table(
            ["", "transition", "detail", "at (s)"],
            [("✔" if c["ok"] else "✘", _e(c["what"]), _e(c["detail"]), f"{c['at']:.1f}") for c in checks],
        ),
        "<h2>Pipeline executions</h2>",
    ]
    for execution in data.get("executions", []):
        body.append(_execution_section(execution))
    body += [
        "<h2>Model registry</h2>",
        _table(
            ["version", "status", "metadata", "ARN"],
            [
                (str(v["version"]), _e(v["status"]), _e(json.dumps(v["metadata"])), _e(v["arn"]))
                for v in data.get("versions", [])
            ],
        ),
        "<h2>Notifications</h2>",
    ]
    for note in data.get("notifications", []):
        body.append(
            f"<details><summary>{_e(note.get('time'))} · {_e(note.get('subject'))}</summary>"
            f"<pre>{_e(note.get('message'))}</pre></details>"
        )
    body += [
        "<h2>Timeline</h2>",
        _table(
            ["t (s)", "kind", "what", "detail"],
            [
                (f"{r.get('t', 0):.1f}", r["kind"], _e(r["what"]), _e(r.get("detail", "")))
                for r in data.get("timeline", [])
            ],
        ),
    ]
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Local lifecycle demo</title>"
        f"<style>{_CSS}</style></head><body>" + "\n".join(body) + "</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


# --- sections ---------------------------------------------------------------------------------------------


def _execution_section(execution: dict[str, Any]) -> str:
    steps = execution.get("Steps", [])
    statuses = {s["StepName"]: s["StepStatus"] for s in steps}
    status = execution.get("PipelineExecutionStatus", "")
    parts = [
        f"<h3>{_e(execution.get('PipelineName'))} · {_e(execution.get('PipelineExecutionId'))} · "
        f"<span class='{'ok' if status == 'Succeeded' else 'bad'}'>{_e(status)}</span></h3>",
    ]
    if execution.get("FailureReason"):
        parts.append(f"<p class='bad'>{_e(execution['FailureReason'])}</p>")
    params = {p.get("Name"): p.get("Value") for p in execution.get("PipelineParameters") or []}
    if params:
        parts.append("<p class='meta'>" + " · ".join(f"{_e(k)}={_e(v)}" for k, v in params.items()) + "</p>")
    if execution.get("Definition"):
        parts.append(f"<div class='dag'>{dag.svg(execution['Definition'], statuses)}</div>")
    parts.append(
        _table(
            ["step", "type", "status", "seconds", "failure reason"],
            [
                (
                    _e(s["StepName"]),
                    _e(s.get("StepType", "")),
                    _e(s["StepStatus"]),
                    _fmt_duration(s.get("StartTime"), s.get("EndTime")),
                    _e((s.get("FailureReason") or "")[:400]),
                )
                for s in steps
            ],
        )
    )
    for item in execution.get("Artifacts", []):
        parts.append(_artifact_html(item))
    return "\n".join(parts)


def _artifact_html(item: dict[str, Any]) -> str:
    link = f"<a href='{_e(item['href'])}'>{_e(item['step'])} report</a>" if item.get("href") else ""
    summary = ""
    result = item.get("result")
    if item["step"] == STEPS["data_quality_check"] and isinstance(result, dict):
        violations = result.get("violations", [])
        summary = f"{len(violations)} violation(s)" + (
            _table(
                ["feature", "check", "description"],
                [
                    (_e(v.get("feature_name")), _e(v.get("constraint_check_type")), _e(v.get("description")))
                    for v in violations
                ],
            )
            if violations
            else ""
        )
    elif item["step"] == STEPS["model_quality"] and isinstance(result, dict):
        check = result.get("threshold_check", {})
        # The problem type's section (regression_metrics, binary_/multiclass_classification_metrics).
        section = next((v for k, v in result.items() if k.endswith("_metrics") and isinstance(v, dict)), {})
        metrics = {k: v for k, v in section.items() if isinstance(v, dict) and "value" in v}
        summary = (
            f"{_e(check.get('metric'))} {check.get('value', float('nan')):.3f} {_e(check.get('comparison'))} "
            f"{check.get('threshold')}: {'passed' if check.get('passed') else 'FAILED'} · "
            + " · ".join(f"{_e(k)} {v.get('value', float('nan')):.3f}" for k, v in metrics.items())
        )
    return (
        f"<div class='artifact'><b>{_e(item['step'])}</b> {link} {summary}"
        f"<br><small>{_e(item['uri'])}</small></div>"
    )


def _copy_artifacts(endpoint: Any, record: dict[str, Any], into: Path) -> list[dict[str, Any]]:
    """Copy each quality step's HTML report next to the demo report; read its JSON result."""
    s3 = endpoint.clients.client("s3")
    found = []
    for step in record.get("Steps", []):
        files = QUALITY_FILES.get(step.get("StepName", ""))
        if not files or not step.get("Outputs"):
            continue
        uri = next(iter(step["Outputs"].values()))
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        item: dict[str, Any] = {"step": step["StepName"], "uri": uri, "href": None, "result": None}
        html_name, json_name = files
        target = into / record["PipelineExecutionId"] / step["StepName"] / html_name
        try:
            body = s3.get_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{html_name}")["Body"].read()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            item["href"] = str(target.relative_to(into.parent))
        except Exception as exc:
            log.debug("no %s under %s: %s", html_name, uri, exc)
        try:
            item["result"] = json.loads(
                s3.get_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{json_name}")["Body"].read()
            )
        except Exception as exc:
            log.debug("no %s under %s: %s", json_name, uri, exc)
        found.append(item)
    return found


# --- small helpers ----------------------------------------------------------------------------------------


def event_summary(event: dict[str, Any]) -> str:
    detail = event.get("detail", {}) or {}
    kind = event.get("detail-type", "")
    if kind == "Object Created":
        bucket, key = detail.get("bucket", {}).get("name"), detail.get("object", {}).get("key")
        return f"S3 Object Created s3://{bucket}/{key}"
    if kind.endswith("Step Status Change"):
        pipeline = str(detail.get("pipelineArn", "")).rsplit("/", 1)[-1]
        return f"{pipeline} step {detail.get('stepName')} {detail.get('currentStepStatus')}"
    if kind.endswith("Execution Status Change"):
        pipeline = str(detail.get("pipelineArn", "")).rsplit("/", 1)[-1]
        return f"{pipeline} execution {detail.get('currentPipelineExecutionStatus')}"
    if kind == "SageMaker Model Package State Change":
        return (
            f"model package {detail.get('ModelPackageGroupName')} v{detail.get('ModelPackageVersion')} "
            f"{detail.get('ModelApprovalStatus')}"
        )
    return f"{event.get('source')} {kind}"


def epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _duration(start: Any, end: Any) -> float | None:
    if not start or not end:
        return None
    return epoch(end) - epoch(start)


def _fmt_duration(start: Any, end: Any) -> str:
    took = _duration(start, end)
    return f"{took:.1f}" if took is not None else "-"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]] | Any) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top;font-size:13px}th{background:#f3f3f3}.ok{color:#2e7d32}.bad{color:#c62828}
.meta{color:#666}.dag{overflow-x:auto;margin:.5em 0}.artifact{margin:.4em 0}pre{white-space:pre-wrap;
background:#f8f8f8;padding:.6em}
"""
