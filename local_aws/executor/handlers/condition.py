"""Condition steps: all conditions hold → the IfSteps run, else the ElseSteps (the engine schedules them)."""

from __future__ import annotations

from local_aws.executor.expressions import ExpressionContext, ExpressionError, evaluate_conditions
from local_aws.executor.handlers.base import ResolvedStep, StepContext, StepFailedError, StepOutcome

OUTCOME = "Outcome"


def outcome_of(step: ResolvedStep) -> bool:
    """The conditions arrive resolved (plain values), so they evaluate without any context."""
    try:
        return evaluate_conditions(
            list(step.arguments.get("Conditions") or []), ExpressionContext(parameters={}, step=step.name)
        )
    except ExpressionError as exc:
        raise StepFailedError(f"ClientError: {exc}") from None


def run(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
    ctx.started()
    text = "True" if outcome_of(step) else "False"
    return StepOutcome(properties={OUTCOME: text}, metadata={"Condition": {"Outcome": text}})
