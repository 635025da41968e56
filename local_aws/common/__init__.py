"""What every part of the local endpoint shares, one job a module:

- ``endpoint``: the account, the region, the dummy credentials and boto3 clients pointed at the endpoint;
- ``times``: the wire's time formats (EventBridge's ISO time, epoch seconds, ``json_ready``);
- ``envelopes``: the EventBridge event envelope (``make_event``);
- ``logs``: the records of what happened (``notifications.jsonl``, the event log behind ``/_local/events``).

Everything here is process-local and thread-safe; nothing talks to AWS.
"""
