"""Fail steps: the execution fails with the step's (resolved) ErrorMessage."""

from __future__ import annotations

from local_aws.executor.expressions import to_text
from local_aws.executor.handlers.base import ResolvedStep, StepContext, StepFailedError, StepOutcome


class FailStepError(StepFailedError):
    """Raised by a Fail step: the execution fails with its message (not a step error)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, metadata={"Fail": {"ErrorMessage": message}})


def run(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
    message = to_text(step.arguments.get("ErrorMessage", ""))
    ctx.started({"Fail": {"ErrorMessage": message}})
    raise FailStepError(message)
