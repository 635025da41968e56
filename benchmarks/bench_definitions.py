"""Time to build the three pipeline definitions offline (target: < 3 s together on a 2-core machine).

Prints the cold figure (first build in a fresh process, including the SageMaker SDK import) and the warm
median over repeats, per pipeline and in total. Not a test: run with `make bench`.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline_scripts.build.session import go_offline

go_offline()


def main(repeats: int = 5) -> int:
    t0 = time.perf_counter()
    from pipeline_scripts.build.approved import ApprovedModel
    from pipeline_scripts.build.code_bundle import code_bundle
    from pipeline_scripts.build.definitions import KINDS, build_pipeline
    from pipeline_scripts.config import load_config

    config = load_config("dev", environ={})
    env = config.env
    approved = ApprovedModel.placeholder_for(
        env.model_package_group_name, env.aws_region, env.account_id, env.bucket_name, env.bucket_prefix
    )
    code = code_bundle(config)
    import_s = time.perf_counter() - t0

    def build_once() -> dict[str, float]:
        times = {}
        for kind in KINDS:
            start = time.perf_counter()
            build_pipeline(kind, config, approved if kind == "inference" else None, code)
            times[kind] = time.perf_counter() - start
        return times

    cold = build_once()
    warm = [build_once() for _ in range(repeats)]
    print(f"imports + config: {import_s:.2f} s")
    print(f"{'pipeline':10} {'cold s':>8} {'warm median s':>14}")
    for kind in KINDS:
        print(f"{kind:10} {cold[kind]:8.2f} {statistics.median(w[kind] for w in warm):14.2f}")
    cold_total = sum(cold.values())
    warm_total = statistics.median(sum(w.values()) for w in warm)
    print(f"{'total':10} {cold_total:8.2f} {warm_total:14.2f}")
    print(
        f"cold end-to-end (imports + first build of all three): {import_s + cold_total:.2f} s (target < 3 s)"
    )
    print(f"warm/cold ratio: {warm_total / cold_total:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
