"""SNS on the layer (query protocol, ``Action=``): ``Publish``/``PublishBatch`` recorded in
``notifications.jsonl`` once moto took them."""

from __future__ import annotations

import itertools
import re
from typing import Any

from werkzeug.wrappers import Response

from local_aws.common.logs import JsonlLog
from local_aws.common.times import iso_time
from local_aws.layer.context import LayerContext
from local_aws.layer.http import Call


class SnsHandler:
    """Published messages, recorded for ``mlops local notifications``. No state of its own."""

    def __init__(self, context: LayerContext, notifications: JsonlLog) -> None:
        self._context = context
        self._notifications = notifications

    def handle(self, call: Call) -> Response | None:
        if call.method != "POST":
            return None
        form = call.form()
        action = form.get("Action")
        if action not in ("Publish", "PublishBatch"):
            return None
        forwarded = self._context.moto.forward(call)
        if forwarded.ok:
            text = forwarded.body.decode("utf-8", "replace")
            ids = re.findall(r"<MessageId>(.*?)</MessageId>", text)
            topic = form.get("TopicArn") or form.get("TargetArn") or form.get("PhoneNumber", "")
            if action == "Publish":
                messages = [_sns_message(form, "")]
            else:
                indexes = sorted(
                    {int(k.split(".")[2]) for k in form if k.startswith("PublishBatchRequestEntries.member.")}
                )
                messages = [_sns_message(form, f"PublishBatchRequestEntries.member.{i}.") for i in indexes]
            for message, message_id in itertools.zip_longest(messages, ids):
                if message is not None:
                    self._notifications.append(
                        {"time": iso_time(), "topic_arn": topic, "message_id": message_id, **message}
                    )
        return forwarded.response()

    def reset(self) -> None:
        """Nothing to forget: the server clears the notifications log."""


def _sns_message(form: dict[str, str], prefix: str) -> dict[str, Any]:
    attributes: dict[str, dict[str, str]] = {}
    entry = f"{prefix}MessageAttributes.entry."
    for key, value in form.items():
        if key.startswith(entry) and key.endswith(".Name"):
            index = key[len(entry) :].split(".", 1)[0]
            base = f"{entry}{index}.Value."
            attributes[value] = {
                "DataType": form.get(base + "DataType", "String"),
                "Value": form.get(base + "StringValue", form.get(base + "BinaryValue", "")),
            }
    return {
        "subject": form.get(prefix + "Subject"),
        "message": form.get(prefix + "Message", ""),
        "attributes": attributes,
    }
