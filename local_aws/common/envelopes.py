"""The EventBridge event envelope, exactly as AWS delivers it to targets."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from local_aws.common.times import iso_time


def make_event(
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    *,
    account_id: str,
    region: str,
    resources: Iterable[str] = (),
    time: str | None = None,
) -> dict[str, Any]:
    """An EventBridge envelope exactly as AWS delivers it to targets."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account_id,
        "time": time or iso_time(),
        "region": region,
        "resources": list(resources),
        "detail": detail,
    }
