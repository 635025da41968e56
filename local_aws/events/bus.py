"""EventBridge delivery for the local endpoint: rules from moto, matching, targets, input transformers.

moto stores rules and targets (Terraform and boto3 create them through the endpoint as usual); this
module does what moto cannot: it skips DISABLED rules, matches with ``patterns.py``
(EventBridge semantics) and delivers to Lambda (asynchronously, with retries and the function's
dead-letter queue), SageMaker pipeline (``SageMakerPipelineParameters`` with dynamic ``$.`` paths), SNS,
SQS and event-bus targets, applying ``Input``, ``InputPath`` and ``InputTransformer``. Delivery runs on
one worker thread in arrival order; ``wait_idle`` returns once the queue and the Lambda runs it started
are done. ``EventBus.fire_rule`` fires a schedule rule on demand (``scheduler.py`` fires them on time);
``transform.py`` builds each target's input.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from local_aws.common.endpoint import EndpointClients
from local_aws.common.envelopes import make_event
from local_aws.common.logs import EventLog
from local_aws.events.transform import DeliveryError, pipeline_parameters, target_input
from local_aws.lambdas.runner import AsyncOutcome, LambdaRunner

log = logging.getLogger(__name__)

Matcher = Callable[[dict[str, Any], dict[str, Any]], bool]


def default_matcher() -> Matcher:
    from local_aws.events.patterns import matches

    return matches


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
