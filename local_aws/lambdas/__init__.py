"""Lambda, locally and without Docker: ``runner`` captures each function's zip and invokes its handler
(sync and async, with retries, reserved concurrency and dead letters); ``bootstrap`` is the process one
invocation runs in (standard library only, like the Python runtime's bootstrap)."""
