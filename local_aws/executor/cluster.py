"""Multi-instance jobs run locally: the hosts (``algo-1`` …), their private trees, SageMaker's
``/opt/ml/config/resourceconfig.json`` (processing), and the hosts' processes run side by side."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"
T = TypeVar("T")


def hosts(arguments: Mapping[str, Any]) -> list[str]:
    """``algo-1`` … ``algo-N`` for ``ProcessingResources.ClusterConfig.InstanceCount`` = N (default 1)."""
    cluster = (arguments.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    return host_names(cluster.get("InstanceCount", 1))


def host_names(count: Any) -> list[str]:
    """``algo-1`` … ``algo-N`` for an ``InstanceCount`` of N (1 when it is missing or not a number)."""
    try:
        number = int(count)
    except (TypeError, ValueError):
        number = 1
    return [f"algo-{i}" for i in range(1, max(number, 1) + 1)]


def host_root(root: Path, names: list[str], index: int) -> Path:
    """A host's own copy of the container file system (the job root itself when there is one host)."""
    if len(names) == 1:
        return root
    tree = root / names[index]
    tree.mkdir(parents=True, exist_ok=True)
    return tree


def write_resource_config(path: Path, names: list[str], index: int) -> None:
    """What SageMaker writes on every host of a processing job."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "current_host": names[index],
        "hosts": names,
        "current_instance_type": "local",
        "current_group_name": "homogeneousCluster",
        "instance_groups": [
            {"instance_group_name": "homogeneousCluster", "instance_type": "local", "hosts": names}
        ],
        "network_interface_name": "eth0",
    }
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def run_all(run: Callable[[int], T], count: int) -> list[T]:
    """``run(i)`` for every host, side by side (threads waiting on the hosts' processes)."""
    if count == 1:
        return [run(0)]
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            results[index] = run(index)
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def warn_clashes(trees: list[Path], local_paths: list[str], job: str) -> None:
    """SageMaker uploads every host's output files under the same prefix: the same relative name on two
    hosts is one S3 object (the last upload wins). Say so, as that is rarely what a job means."""
    if len(trees) < 2:
        return
    for container_path in local_paths:
        seen: dict[str, Path] = {}
        for tree in trees:
            local = tree / container_path.lstrip("/")
            for file in sorted(p for p in local.rglob("*") if p.is_file()) if local.is_dir() else []:
                relative = file.relative_to(local).as_posix()
                if relative in seen:
                    log.warning(
                        "%s: output %s/%s is written by more than one host; the last upload wins "
                        "(write per-host files, e.g. under a folder named by the host)",
                        job,
                        container_path,
                        relative,
                    )
                seen.setdefault(relative, tree)
