"""Files that are not CSV text (gzip, binary, not UTF-8), absurd lines and values too large to compute with
are one clear line, exit 2, in every reader: the step scripts' and so the upload pre-check's, which uses
the same readers (a file the upload accepts never crashes PreprocessData)."""

from __future__ import annotations

import gzip
from pathlib import Path

import datafiles
import preprocess
import pytest
from datafiles import DataError

from tests.datasets import ABALONE

ROW = b"M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15,15\n"

CASES = {
    "gzip": (gzip.compress(ROW * 3), "file is gzip-compressed, not CSV text", None),
    "binary": (ROW + b"F,0.1\x00\x01\x02,0.3\n", "file is binary, not CSV text (a NUL byte at byte", 2),
    "latin-1": (ROW * 2 + "\u00e9,0.1,0.1,0.1,0.1,0.1,0.1,0.1,7\n".encode("latin-1"), "not UTF-8 text", 3),
    "a 2 MB number": (b"M," + b"1" * 2_000_000 + b",0.3,0.1,0.5,0.2,0.1,0.15,15\n", "not a finite number", 1),
    "a value whose square overflows": (
        ROW + b"F,1e200,0.3,0.1,0.5,0.2,0.1,0.15,9\n",
        "too large to compute with",
        2,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_reader_names_the_file_row_and_fix(tmp_path: Path, case: str) -> None:
    content, message, row = CASES[case]
    path = tmp_path / "training-data.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        datafiles.read_training_csv(path, ABALONE)
    text = str(err.value)
    assert message in text and str(path) in text and "Fix: " in text
    assert err.value.row == row


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_step_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    content, message, _ = CASES[case]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "training-data.csv").write_bytes(content)
    out = tmp_path / "out"
    argv = ["fit", "--input", str(tmp_path / "in")]
    for name in ("train", "validation", "test", "transformer", "baseline"):
        argv += [f"--output-{name}", str(out / name)]
    assert preprocess.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ERROR: ") and message in err and err.count("\n") == 1
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))
