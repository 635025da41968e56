"""The production side runs without the emulator: what `pip install .` installs is enough for the CLI.

Each command runs in a fresh interpreter in which the `[local]` extra's packages and `local_aws` cannot be
imported (a meta-path finder refuses them), as in a virtual environment made with `pip install .`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ABSENT = ("local_aws", "moto", "matplotlib", "awscli", "xgboost", "sklearn", "pyarrow", "werkzeug", "flask")

RUNNER = """
import sys
from importlib.abc import MetaPathFinder

ABSENT = {absent!r}

class Absent(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Absent())
from pipeline_scripts.cli import main
code = main(sys.argv[1:])
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(ABSENT))
print("LOADED:" + ",".join(loaded), file=sys.stderr)
sys.exit(code)
"""


def mlops(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER.format(absent=ABSENT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_every_command_group_without_loading_the_emulator() -> None:
    result = mlops("--help")
    assert result.returncode == 0, result.stderr
    for group in ("pipelines", "models", "data", "config", "demo", "local"):
        assert group in result.stdout


def test_definitions_build_without_the_emulator(tmp_path: Path) -> None:
    result = mlops("pipelines", "definition", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    # Nothing but the runner's own line on stderr: no SDK log notes, warnings or deprecation notices.
    assert result.stderr.strip() == "LOADED:"
    assert result.stdout.splitlines() == [
        f"wrote {tmp_path / n}" for n in ("training.json", "hpo.json", "inference.json")
    ]
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["hpo.json", "inference.json", "training.json"]
    assert json.loads((tmp_path / "training.json").read_text())["Version"] == "2020-12-01"


def test_the_emulator_commands_say_which_extra_to_install() -> None:
    for group in ("demo", "local"):
        result = mlops(group, "up") if group == "local" else mlops(group)
        assert result.returncode == 2
        assert f"error: `mlops {group}` needs the local AWS endpoint, which this installation lacks" in (
            result.stderr
        )
        assert "hint: install the local extra: pip install" in result.stderr
        assert "Traceback" not in result.stderr
