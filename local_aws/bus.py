"""EventBridge delivery for the local endpoint: rules from moto, matching, targets, input transformers.

moto stores rules and targets (Terraform and boto3 create them through the endpoint as usual); this
module does what moto cannot: it skips DISABLED rules, matches with ``local_aws.event_patterns``
(EventBridge semantics) and delivers to Lambda (asynchronously, with retries and the function's
dead-letter queue), SageMaker pipeline (``SageMakerPipelineParameters`` with dynamic ``$.`` paths), SNS,
SQS and event-bus targets, applying ``Input``, ``InputPath`` and ``InputTransformer``. Delivery runs on
one worker thread in arrival order; ``wait_idle`` returns once the queue and the Lambda runs it started
are done. ``Scheduler`` fires ENABLED ``rate(...)`` rules one period after it first sees them and
``cron(...)`` rules in each UTC minute they match (``local_aws.cron``); ``EventBus.fire_rule`` fires one
on demand.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from local_aws import cron
from local_aws.common.endpoint import EndpointClients
from local_aws.common.envelopes import make_event
from local_aws.common.logs import EventLog
from local_aws.common.times import iso_time
from local_aws.lambdas import AsyncOutcome, LambdaRunner

log = logging.getLogger(__name__)

Matcher = Callable[[dict[str, Any], dict[str, Any]], bool]
_MISSING = object()
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def default_matcher() -> Matcher:
    from local_aws.event_patterns import matches

    return matches


# --- JSON paths and input transformation ------------------------------------------------------------------


def json_path(document: Any, path: str) -> Any:
    """EventBridge's JSON path subset (``$``, ``$.a.b``, ``$.a[0]``, ``$['a-b']``); ``_MISSING`` if absent."""
    if not path.startswith("$"):
        raise ValueError(f"{path!r} is not a JSON path (it must start with $)")
    rest, value = path[1:], document
    while rest:
        token = _PATH_TOKEN.match(rest)
        if token is None:
            raise ValueError(f"unsupported JSON path syntax in {path!r}")
        key, index, quoted, double = token.groups()
        rest = rest[token.end() :]
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
            continue
        name = key if key is not None else (quoted if quoted is not None else double)
        if not isinstance(value, dict) or name not in value:
            return _MISSING
        value = value[name]
    return value


def _predefined(event: dict[str, Any], rule_name: str, rule_arn: str) -> dict[str, Any]:
    without_detail = {k: v for k, v in event.items() if k != "detail"}
    return {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event.ingestion-time": event.get("time", iso_time()),
        "aws.events.event": without_detail,
        "aws.events.event.json": event,
    }


def render_template(
    template: str, paths_map: dict[str, str], event: dict[str, Any], rule_name: str = "", rule_arn: str = ""
) -> str:
    """Apply an InputTransformer the way EventBridge does.

    A placeholder inside a JSON string gets the raw value (EventBridge does not escape it); outside
    quotes it gets the value as JSON (strings quoted). A path that is not in the event yields ``null``
    outside quotes and nothing inside. JSON results are minified, like EventBridge's.
    """
    values = _predefined(event, rule_name, rule_arn)
    for name, path in paths_map.items():
        values[name] = json_path(event, path)
    out: list[str] = []
    in_string = escaped = False
    position = 0
    while position < len(template):
        char = template[position]
        if char == "<":
            found = _PLACEHOLDER.match(template, position)
            if found and found.group(1) in values:
                out.append(_substitute(values[found.group(1)], in_string))
                position = found.end()
                continue
        out.append(char)
        if in_string and escaped:
            escaped = False
        elif in_string and char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
        position += 1
    rendered = "".join(out)
    try:
        return json.dumps(json.loads(rendered), separators=(",", ":"))
    except ValueError:
        return rendered


def _substitute(value: Any, in_string: bool) -> str:
    if value is _MISSING:
        return "" if in_string else "null"
    if in_string:
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return json.dumps(value, separators=(",", ":"))


def target_input(target: dict[str, Any], event: dict[str, Any], rule_name: str, rule_arn: str) -> str:
    """The text a target receives: ``Input``, ``InputPath``, ``InputTransformer`` or the whole event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        value = json_path(event, target["InputPath"])
        return "null" if value is _MISSING else json.dumps(value)
    transformer = target.get("InputTransformer")
    if transformer:
        return render_template(
            transformer["InputTemplate"], transformer.get("InputPathsMap") or {}, event, rule_name, rule_arn
        )
    return json.dumps(event)


def pipeline_parameters(target: dict[str, Any], event: dict[str, Any]) -> list[dict[str, str]]:
    """``PipelineParameterList`` with dynamic path values (``$.detail.object.key``) resolved on the event."""
    params = (target.get("SageMakerPipelineParameters") or {}).get("PipelineParameterList") or []
    resolved = []
    for param in params:
        value = param["Value"]
        if isinstance(value, str) and value.startswith("$."):
            found = json_path(event, value)
            if found is _MISSING:
                raise DeliveryError(f"dynamic path {value} of parameter {param['Name']} is not in the event")
            value = found if isinstance(found, str) else json.dumps(found)
        resolved.append({"Name": param["Name"], "Value": value})
    return resolved


class DeliveryError(Exception):
    """A target could not receive an event."""


# --- the bus ------------------------------------------------------------------------------------------


class EventBus:
    def __init__(
        self,
        clients: EndpointClients,
        lambdas: LambdaRunner,
        records: EventLog,
        *,
        account_id: str,
        region: str,
        matcher: Matcher | None = None,
    ) -> None:
        self.clients = clients
        self.lambdas = lambdas
        self.records = records
        self.account_id = account_id
        self.region = region
        self._matcher = matcher
        self._queue: queue.Queue[tuple[dict[str, Any], str, str | None] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._queue_urls: dict[str, str] = {}
        self._worker = threading.Thread(target=self._run, name="event-bus", daemon=True)
        self._worker.start()

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = default_matcher()
        return self._matcher

    # --- public ---------------------------------------------------------------------------------------

    def put(self, event: dict[str, Any], bus_name: str = "default") -> str:
        """Queue an AWS-shaped event for rule matching and delivery; returns its id."""
        self._enqueue(event, bus_name, None)
        return str(event["id"])

    def fire_rule(self, rule_name: str, bus_name: str = "default") -> str:
        """Deliver a ``Scheduled Event`` to one rule's targets now (what a schedule does when it is due)."""
        rule = self.clients.client("events").describe_rule(Name=rule_name, EventBusName=bus_name)
        event = make_event(
            "aws.events",
            "Scheduled Event",
            {},
            account_id=self.account_id,
            region=self.region,
            resources=[rule["Arn"]],
        )
        self._enqueue(event, bus_name, rule_name)
        return str(event["id"])

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every queued event is delivered and the Lambda runs it started have finished."""
        deadline = time.monotonic() + timeout
        with self._idle:
            if not self._idle.wait_for(lambda: not self._pending, timeout):
                return False
        return self.lambdas.wait_idle(max(0.0, deadline - time.monotonic()))

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._pending > 0 or self.lambdas.busy

    def reset(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self._done()
        self._queue_urls.clear()

    def shutdown(self) -> None:
        self._queue.put(None)
        self._worker.join(timeout=5)

    def rules(self, bus_name: str = "default") -> Iterator[dict[str, Any]]:
        events = self.clients.client("events")
        token = None
        while True:
            kwargs: dict[str, Any] = {"EventBusName": bus_name, "Limit": 100}
            if token:
                kwargs["NextToken"] = token
            page = events.list_rules(**kwargs)
            yield from page.get("Rules", [])
            token = page.get("NextToken")
            if not token:
                return

    # --- worker -----------------------------------------------------------------------------------------

    def _enqueue(self, event: dict[str, Any], bus_name: str, only_rule: str | None) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put((event, bus_name, only_rule))

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
            self._idle.notify_all()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            event, bus_name, only_rule = item
            try:
                self._dispatch(event, bus_name, only_rule)
            except Exception:
                log.exception("event %s could not be dispatched", event.get("id"))
            finally:
                self._done()

    def _dispatch(self, event: dict[str, Any], bus_name: str, only_rule: str | None) -> None:
        record = self.records.add(event, bus_name)
        try:
            rules = list(self.rules(bus_name))
        except ClientError as exc:
            self.records.update(record, error=f"cannot list rules of bus {bus_name}: {exc}")
            return
        matched = []
        for rule in rules:
            if only_rule is not None:
                if rule["Name"] == only_rule:
                    matched.append(rule)
                continue
            if rule.get("State", "ENABLED") != "ENABLED" or not rule.get("EventPattern"):
                continue
            try:
                if self.matcher(json.loads(rule["EventPattern"]), event):
                    matched.append(rule)
            except Exception as exc:
                log.warning("rule %s: pattern could not be evaluated: %s", rule["Name"], exc)
        self.records.update(record, matched_rules=[rule["Name"] for rule in matched])
        for rule in matched:
            targets = self.clients.client("events").list_targets_by_rule(
                Rule=rule["Name"], EventBusName=bus_name
            )
            for target in targets.get("Targets", []):
                self._deliver(record, event, rule, target)

    def _deliver(
        self, record: dict[str, Any], event: dict[str, Any], rule: dict[str, Any], target: dict[str, Any]
    ) -> None:
        delivery: dict[str, Any] = {
            "rule": rule["Name"],
            "target_id": target["Id"],
            "target_arn": target["Arn"],
            "status": "pending",
            "error": None,
            "result": None,
        }
        self.records.add_delivery(record, delivery)
        try:
            result = self._send(event, rule, target, delivery)
        except Exception as exc:
            log.warning("rule %s → %s failed: %s", rule["Name"], target["Arn"], exc)
            self.records.update(delivery, status="error", error=f"{type(exc).__name__}: {exc}")
            self._target_dead_letter(event, rule, target, str(exc))
            return
        if result is not None:
            self.records.update(delivery, status="ok", result=result)

    def _send(
        self, event: dict[str, Any], rule: dict[str, Any], target: dict[str, Any], delivery: dict[str, Any]
    ) -> Any:
        """Deliver to one target; returns the result, or None when it completes asynchronously (Lambda)."""
        arn: str = target["Arn"]
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
        if service == "sagemaker" and resource.startswith("pipeline/"):
            return self._start_pipeline(event, rule, target, resource.split("/", 1)[1])
        text = target_input(target, event, rule["Name"], rule["Arn"])
        if service == "lambda":
            self.lambdas.invoke_async(
                arn, text.encode("utf-8"), on_done=lambda outcome: self._lambda_done(delivery, outcome)
            )
            return None
        if service == "sns":
            message_id = self.clients.client("sns").publish(TopicArn=arn, Message=text)["MessageId"]
            return {"MessageId": message_id}
        if service == "sqs":
            kwargs: dict[str, Any] = {"QueueUrl": self._queue_url(arn), "MessageBody": text}
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group:
                kwargs["MessageGroupId"] = group
            return {"MessageId": self.clients.client("sqs").send_message(**kwargs)["MessageId"]}
        if service == "events" and resource.startswith("event-bus/"):
            return {"EventId": self.put(dict(event), resource.split("/", 1)[1])}
        raise DeliveryError(f"target type of {arn} is not supported by the local endpoint")

    def _start_pipeline(
        self, event: dict[str, Any], rule: dict[str, Any], target: dict[str, Any], name: str
    ) -> Any:
        # The same event delivered twice by the same rule and target starts one execution (idempotency token).
        token = hashlib.sha256(f"{event['id']}|{rule['Arn']}|{target['Id']}".encode()).hexdigest()[:64]
        kwargs: dict[str, Any] = {"PipelineName": name, "ClientRequestToken": token}
        params = pipeline_parameters(target, event)
        if params:
            kwargs["PipelineParameters"] = params
        arn = self.clients.client("sagemaker").start_pipeline_execution(**kwargs)["PipelineExecutionArn"]
        return {"PipelineExecutionArn": arn}

    def _lambda_done(self, delivery: dict[str, Any], outcome: AsyncOutcome) -> None:
        result: dict[str, Any] = {"RequestId": outcome.request_id, "attempts": outcome.attempts}
        if outcome.dead_letter_arn:
            result["dead_letter"] = outcome.dead_letter_arn
        if outcome.ok:
            self.records.update(delivery, status="ok", result=result)
        else:
            self.records.update(delivery, status="error", error=outcome.error, result=result)

    def _queue_url(self, arn: str) -> str:
        if arn not in self._queue_urls:
            parts = arn.split(":")
            self._queue_urls[arn] = self.clients.client("sqs").get_queue_url(
                QueueName=parts[5], QueueOwnerAWSAccountId=parts[4]
            )["QueueUrl"]
        return self._queue_urls[arn]

    def _target_dead_letter(
        self, event: dict[str, Any], rule: dict[str, Any], target: dict[str, Any], error: str
    ) -> None:
        """A rule target's own DeadLetterConfig gets the events it could not receive."""
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            return
        attributes = {
            "ERROR_CODE": {"DataType": "String", "StringValue": "SDK_CLIENT_ERROR"},
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": error[:1024] or "error"},
            "RULE_ARN": {"DataType": "String", "StringValue": rule["Arn"]},
            "TARGET_ARN": {"DataType": "String", "StringValue": target["Arn"]},
        }
        try:
            self.clients.client("sqs").send_message(
                QueueUrl=self._queue_url(dlq), MessageBody=json.dumps(event), MessageAttributes=attributes
            )
        except ClientError as exc:
            log.warning("could not dead-letter event %s to %s: %s", event.get("id"), dlq, exc)


# --- schedules ----------------------------------------------------------------------------------------


def rate_seconds(expression: str) -> float | None:
    """``rate(5 minutes)`` → 300.0; ``None`` for ``cron(...)`` and anything else."""
    found = _RATE.match(expression.strip())
    if not found:
        return None
    unit = found.group(2).rstrip("s")
    return float(int(found.group(1)) * _UNIT_SECONDS[unit])


class Scheduler:
    """Fires ENABLED schedule rules of the default bus: ``rate(...)`` one period after it first sees them
    and every period after; ``cron(...)`` once in each UTC minute the expression matches, from the minute
    after it first sees the rule (a rule created at 03:00:10 with ``cron(0 3 * * ? *)`` fires tomorrow).
    A minute missed between two ticks still fires (once), looking back at most a day."""

    def __init__(
        self,
        bus: EventBus,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.bus = bus
        self.interval = interval
        self.clock = clock
        self.wall_clock = wall_clock
        self._next: dict[str, float] = {}
        self._last_minute: dict[str, datetime] = {}
        self._parsed: dict[str, cron.Cron | None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="event-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        self._next.clear()
        self._last_minute.clear()

    def tick(self) -> list[str]:
        """Fire every due schedule once; returns the names of the rules fired."""
        now, fired, seen = self.clock(), [], set()
        minute = self.wall_clock().astimezone(UTC).replace(second=0, microsecond=0)
        for rule in self.bus.rules():
            expression = rule.get("ScheduleExpression")
            if not expression or rule.get("State") != "ENABLED":
                continue
            seen.add(rule["Arn"])
            period = rate_seconds(expression)
            if period is not None:
                due = self._next.setdefault(rule["Arn"], now + period)
                if now >= due:
                    self._next[rule["Arn"]] = now + period
                    fired.append(rule["Name"])
            elif (schedule := self._cron(rule["Name"], expression)) is not None:
                last = self._last_minute.setdefault(rule["Arn"], minute)
                missed = (minute - last) // timedelta(minutes=1)
                if any(
                    schedule.matches(minute - timedelta(minutes=back)) for back in range(min(missed, 1440))
                ):
                    fired.append(rule["Name"])
                self._last_minute[rule["Arn"]] = minute
        for name in fired:
            self.bus.fire_rule(name)
        for arn in set(self._next) - seen:
            del self._next[arn]
        for arn in set(self._last_minute) - seen:
            del self._last_minute[arn]
        return fired

    def _cron(self, name: str, expression: str) -> cron.Cron | None:
        if expression not in self._parsed:
            try:
                self._parsed[expression] = cron.parse(expression)
            except cron.CronError as exc:
                log.warning("rule %s: %s is never fired locally: %s", name, expression, exc)
                self._parsed[expression] = None
        return self._parsed[expression]

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception as exc:  # the endpoint may be stopping; try again next tick
                log.debug("scheduler tick failed: %s", exc)
