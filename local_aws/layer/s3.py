"""S3 on the layer (REST paths, path- or virtual-hosted-style): the bucket's EventBridge flag and policy
kept here, "Object Created" emitted on writes, conditional writes (``If-None-Match: *``) made atomic.

moto never sees the EventBridge flag, so its own emission (which ignores rule state and aborts on Lambda
targets) cannot run; moto gets bucket policies without conditions (it does not evaluate them)."""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
import time
import uuid
from typing import Any

from werkzeug.wrappers import Response

from local_aws.common.envelopes import make_event
from local_aws.layer.context import LayerContext
from local_aws.layer.http import Call, Forwarded

log = logging.getLogger("local_aws.layer")

_EVENTBRIDGE_XML = re.compile(
    r"<EventBridgeConfiguration\s*/>|<EventBridgeConfiguration\s*>\s*</EventBridgeConfiguration>"
)
_S3_SUBRESOURCES_KEEPING_OBJECT_WRITE = {"x-id"}


class S3Handler:
    """Bucket notifications and policies; object-created events. Owns which buckets send to EventBridge
    and the policies as written."""

    def __init__(self, context: LayerContext) -> None:
        self._context = context
        self._lock = threading.Lock()
        self._conditional_lock = threading.Lock()
        self._eventbridge_buckets: set[str] = set()
        self._bucket_policies: dict[str, bytes] = {}
        self._sequence = itertools.count(time.time_ns())

    def handle(self, call: Call) -> Response | None:
        bucket, key = _s3_location(call.environ)
        if not bucket:
            return None
        query = set(call.query)
        method = call.method
        if "notification" in query and not key and method in ("PUT", "GET"):
            return self._bucket_notification(call, bucket)
        if "policy" in query and not key and method in ("PUT", "GET", "DELETE"):
            return self._bucket_policy(call, bucket)
        if method == "DELETE" and not key and not query:
            forwarded = self._context.moto.forward(call)
            if forwarded.ok:
                with self._lock:
                    self._eventbridge_buckets.discard(bucket)
            return forwarded.response()
        if not key:
            return None
        copy = bool(call.header("X-Amz-Copy-Source"))
        if method == "PUT" and not (query - _S3_SUBRESOURCES_KEEPING_OBJECT_WRITE):
            reason = "CopyObject" if copy else "PutObject"
        elif method == "POST" and "uploadId" in query:
            reason = "CompleteMultipartUpload"
        else:
            return None
        with self._lock:
            watched = bucket in self._eventbridge_buckets
        conditional = call.header("If-None-Match") == "*"
        if not (watched or conditional):
            return None
        forwarded = self._write(call, conditional)
        if watched and forwarded.ok and b"<Error>" not in forwarded.body[:512]:
            self._context.emit(lambda: self._object_created(call, forwarded, bucket, key, reason))
        return forwarded.response()

    def _write(self, call: Call, conditional: bool) -> Forwarded:
        """Forward an object write. moto checks ``If-None-Match: *`` and then writes, two steps another
        request can come between: conditional writes go one at a time, so of two concurrent ones exactly
        one wins and the other gets 412 PreconditionFailed, as on S3."""
        if not conditional:
            return self._context.moto.forward(call)
        with self._conditional_lock:
            return self._context.moto.forward(call)

    def reset(self) -> None:
        with self._lock:
            self._eventbridge_buckets.clear()
            self._bucket_policies.clear()

    def _bucket_policy(self, call: Call, bucket: str) -> Response:
        """moto ignores policy conditions, so a conditional Deny (e.g. TLS-only: deny when
        aws:SecureTransport is false) would deny every request. moto gets the statements without
        conditions; GetBucketPolicy returns the policy as the client wrote it (Terraform sees no drift)."""
        if call.method == "PUT":
            original = call.body()
            try:
                policy = json.loads(original)
            except ValueError:
                return self._context.moto.forward(call).response()
            statements = policy.get("Statement", [])
            statements = statements if isinstance(statements, list) else [statements]
            kept = [st for st in statements if not (isinstance(st, dict) and st.get("Condition"))]
            if len(kept) == len(statements):
                forwarded = self._context.moto.forward(call)
            else:
                for st in statements:
                    if st not in kept:
                        log.info(
                            "bucket %s: policy statement %s kept but not enforced locally (conditions)",
                            bucket,
                            st.get("Sid", "?"),
                        )
                # moto rejects an empty statement list: an allow-nothing statement stands in.
                stand_in = kept or [
                    {
                        "Sid": "LocalNoop",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/local-noop",
                    }
                ]
                forwarded = self._context.moto.forward(
                    call, json.dumps({**policy, "Statement": stand_in}).encode("utf-8")
                )
            if forwarded.ok:
                with self._lock:
                    self._bucket_policies[bucket] = original
            return forwarded.response()
        forwarded = self._context.moto.forward(call)
        with self._lock:
            stored = self._bucket_policies.get(bucket)
            if call.method == "DELETE" and forwarded.ok:
                self._bucket_policies.pop(bucket, None)
        if call.method == "GET" and forwarded.ok and stored is not None:
            return forwarded.response(stored)
        return forwarded.response()

    def _bucket_notification(self, call: Call, bucket: str) -> Response:
        if call.method == "PUT":
            original = call.body().decode("utf-8")
            stripped = _EVENTBRIDGE_XML.sub("", original)
            forwarded = self._context.moto.forward(call, stripped.encode("utf-8"))
            if forwarded.ok:
                with self._lock:
                    if stripped != original:
                        self._eventbridge_buckets.add(bucket)
                    else:
                        self._eventbridge_buckets.discard(bucket)
            return forwarded.response()
        forwarded = self._context.moto.forward(call)
        with self._lock:
            watched = bucket in self._eventbridge_buckets
        if not (forwarded.ok and watched):
            return forwarded.response()
        return forwarded.response(_with_eventbridge(forwarded.body.decode("utf-8")).encode("utf-8"))

    def _object_created(
        self, call: Call, forwarded: Forwarded, bucket: str, key: str, reason: str
    ) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in forwarded.headers}
        head_kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if headers.get("x-amz-version-id") not in (None, "", "null"):
            head_kwargs["VersionId"] = headers["x-amz-version-id"]
        head = self._context.clients.client("s3").head_object(**head_kwargs)
        obj: dict[str, Any] = {
            "key": key,
            "size": int(head.get("ContentLength", 0)),
            "etag": str(head.get("ETag", "")).strip('"'),
        }
        if head.get("VersionId") and head["VersionId"] != "null":
            obj["version-id"] = head["VersionId"]
        obj["sequencer"] = f"{next(self._sequence):X}"
        detail = {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": headers.get("x-amz-request-id") or uuid.uuid4().hex[:16].upper(),
            "requester": self._context.account_id,
            "source-ip-address": str(call.environ.get("REMOTE_ADDR", "127.0.0.1")),
            "reason": reason,
        }
        return make_event(
            "aws.s3",
            "Object Created",
            detail,
            account_id=self._context.account_id,
            region=self._context.region,
            resources=[f"arn:aws:s3:::{bucket}"],
        )


def _s3_location(environ: dict[str, Any]) -> tuple[str, str]:
    """(bucket, key) of a path-style or virtual-hosted-style request."""
    path = str(environ.get("PATH_INFO", ""))
    host = str(environ.get("HTTP_HOST", "")).split(":", 1)[0]
    labels = host.split(".")
    virtual = len(labels) > 1 and (
        host.endswith(".localhost") or (".s3." in f".{host}" and labels[0] != "s3")
    )
    if virtual:
        return labels[0], path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def _with_eventbridge(xml: str) -> str:
    """Add ``<EventBridgeConfiguration/>`` to a GetBucketNotificationConfiguration answer (any root name)."""
    if "<EventBridgeConfiguration" in xml:
        return xml
    closing = re.search(r"</([A-Za-z]+)>\s*$", xml)
    if closing:
        return xml[: closing.start()] + "<EventBridgeConfiguration/>" + xml[closing.start() :]
    return re.sub(r"<([A-Za-z]+)([^>]*)/>\s*$", r"<\1\2><EventBridgeConfiguration/></\1>", xml)
