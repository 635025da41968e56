"""Step handlers, one module per step type; :data:`HANDLERS` maps a definition's step ``Type`` to one."""

from __future__ import annotations

from collections.abc import Callable

from local_aws.executor.handlers import (
    condition,
    fail,
    model,
    processing,
    quality_check,
    register,
    training,
    transform,
    tuning,
)
from local_aws.executor.handlers.base import ResolvedStep, StepContext, StepFailedError, StepOutcome

Handler = Callable[[ResolvedStep, StepContext], StepOutcome]

HANDLERS: dict[str, Handler] = {
    "Processing": processing.run,
    "Training": training.run,
    "Tuning": tuning.run,
    "Model": model.run,
    "CreateModel": model.run,
    "Transform": transform.run,
    "RegisterModel": register.run,
    "Condition": condition.run,
    "Fail": fail.run,
    "QualityCheck": quality_check.run,
}


def handler_for(step_type: str) -> Handler:
    """The handler of ``step_type``; unknown types get one that fails with a clear reason."""
    if step_type in HANDLERS:
        return HANDLERS[step_type]

    def unsupported(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
        supported = ", ".join(sorted(HANDLERS))
        raise StepFailedError(
            f"ClientError: step type {step_type} ({step.name}) is not supported locally; "
            f"supported: {supported}"
        )

    return unsupported


__all__ = [
    "HANDLERS",
    "Handler",
    "ResolvedStep",
    "StepContext",
    "StepFailedError",
    "StepOutcome",
    "handler_for",
]
