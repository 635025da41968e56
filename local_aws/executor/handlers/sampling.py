"""Hyperparameter candidates for a tuning job, from its ``ParameterRanges``.

Strategies: ``Grid`` → every combination of the categorical values and integer ranges (continuous
ranges are rejected, as SageMaker does), in order, at most MaxNumberOfTrainingJobs of them. ``Random``,
``Bayesian`` and ``Hyperband`` → seeded random search: AWS's Bayesian optimisation is not reproduced
locally, but the same ranges and scaling are sampled, so the tuned model is a fair stand-in. The seed
is the job's ``RandomSeed`` when given.

Scaling: ``Auto`` and ``Linear`` sample uniformly; ``Logarithmic`` uniformly in log space (min > 0);
``ReverseLogarithmic`` uniformly in log(1 - x) (max < 1).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping
from typing import Any


class RangeError(ValueError):
    """A parameter range that cannot be sampled."""


def _scaled(rng: random.Random, low: float, high: float, scaling: str, name: str) -> float:
    if scaling == "Logarithmic":
        if low <= 0:
            raise RangeError(f"range {name}: Logarithmic scaling needs MinValue > 0 (got {low})")
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    if scaling == "ReverseLogarithmic":
        if high >= 1:
            raise RangeError(f"range {name}: ReverseLogarithmic scaling needs MaxValue < 1 (got {high})")
        return 1.0 - math.exp(rng.uniform(math.log(1.0 - high), math.log(1.0 - low)))
    return rng.uniform(low, high)


def _format(value: float) -> str:
    return repr(float(f"{value:.6g}"))


def sample(ranges: Mapping[str, Any], rng: random.Random) -> dict[str, str]:
    """One random candidate: parameter name → value as the API sends it (a string)."""
    candidate: dict[str, str] = {}
    for spec in ranges.get("IntegerParameterRanges") or []:
        lowest, highest = int(float(spec["MinValue"])), int(float(spec["MaxValue"]))
        scaling = spec.get("ScalingType", "Auto")
        if scaling in ("Auto", "Linear"):
            number = rng.randint(lowest, highest)
        else:
            number = round(_scaled(rng, lowest, highest, scaling, spec["Name"]))
        candidate[spec["Name"]] = str(min(highest, max(lowest, number)))
    for spec in ranges.get("ContinuousParameterRanges") or []:
        low, high = float(spec["MinValue"]), float(spec["MaxValue"])
        value = _scaled(rng, low, high, spec.get("ScalingType", "Auto"), spec["Name"])
        candidate[spec["Name"]] = _format(min(high, max(low, value)))
    for spec in ranges.get("CategoricalParameterRanges") or []:
        candidate[spec["Name"]] = str(rng.choice(list(spec["Values"])))
    return candidate


def grid(ranges: Mapping[str, Any]) -> list[dict[str, str]]:
    if ranges.get("ContinuousParameterRanges"):
        continuous = ", ".join(r["Name"] for r in ranges["ContinuousParameterRanges"])
        raise RangeError(f"Grid search does not take continuous ranges ({continuous})")
    axes: list[tuple[str, list[str]]] = []
    for spec in ranges.get("IntegerParameterRanges") or []:
        lowest, highest = int(float(spec["MinValue"])), int(float(spec["MaxValue"]))
        axes.append((spec["Name"], [str(v) for v in range(lowest, highest + 1)]))
    for spec in ranges.get("CategoricalParameterRanges") or []:
        axes.append((spec["Name"], [str(v) for v in spec["Values"]]))
    names = [name for name, _ in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*[v for _, v in axes])]


def candidates(config: Mapping[str, Any], seed: int) -> list[dict[str, str]]:
    """The hyperparameter sets the tuning job trains, in order."""
    ranges = config.get("ParameterRanges") or {}
    limit = int((config.get("ResourceLimits") or {}).get("MaxNumberOfTrainingJobs") or 0)
    strategy = config.get("Strategy", "Bayesian")
    if strategy == "Grid":
        found = grid(ranges)
        return found[:limit] if limit else found
    if not limit:
        raise RangeError("ResourceLimits.MaxNumberOfTrainingJobs is required for a non-Grid strategy")
    rng = random.Random(seed)  # noqa: S311  (seeded search sampling, not security)
    return [sample(ranges, rng) for _ in range(limit)]
