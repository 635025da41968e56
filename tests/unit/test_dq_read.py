"""Reading the data-quality input (scripts/dq_read.py): input paths, both CSV engines, ragged rows."""

from __future__ import annotations

from pathlib import Path

import dq_read
import numpy as np
import pandas as pd
import pytest
from dq_baseline import build_baseline, resolve_baseline_file
from dq_errors import BaselineFileError, InputDataError, InputNotFoundError
from dq_profile import profile_column
from dq_read import read_csv, resolve_input_csv

from tests.unit.test_data_quality import abalone_frame, write_csv


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (
            {"a.csv": "x\n1\n", "b.csv": "x\n2\n"},
            "expected exactly one CSV file in the input directory, found a.csv, b.csv",
        ),
        ({}, "expected exactly one CSV file in the input directory, found nothing"),
    ],
)
def test_input_directory_must_hold_one_csv(tmp_path: Path, layout: dict[str, str], message: str) -> None:
    for name, text in layout.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(InputNotFoundError, match=message):
        resolve_input_csv(str(tmp_path))


def test_input_directory_resolution(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "data.csv").write_text("x\n1\n")
    assert resolve_input_csv(str(tmp_path)) == str(tmp_path / "data.csv")
    only = tmp_path / "only"
    only.mkdir()
    (only / "part-0.csv.out").write_text("1\n")  # a batch-transform output name
    assert resolve_input_csv(str(only)) == str(only / "part-0.csv.out")
    with pytest.raises(InputNotFoundError, match="input does not exist"):
        resolve_input_csv(str(tmp_path / "nope"))
    with pytest.raises(BaselineFileError, match=r"baseline file statistics\.json not found"):
        resolve_baseline_file(str(only), "statistics.json")


def messy_frame() -> pd.DataFrame:
    frame = abalone_frame(120)
    frame["rings"] = frame["rings"].astype("Int64")
    frame.loc[3:5, "rings"] = pd.NA  # integers with gaps stay Integral
    frame.loc[7, "sex"] = None
    frame.loc[9, "length"] = np.nan
    return frame


def test_engines_agree(tmp_path: Path) -> None:
    source = write_csv(messy_frame(), tmp_path / "in.csv")
    results = {}
    for engine in ("arrow", "pandas"):
        table = read_csv(str(source), True, engine)
        results[engine] = build_baseline(table)[:2]
    assert results["arrow"] == results["pandas"]
    types = {f["name"]: f["inferred_type"] for f in results["arrow"][0]["features"]}
    assert types["rings"] == "Integral"


def test_quoted_fields_and_blank_values(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('name,x\n"a, b",1\n"c",NA\n"d",\n')
    for engine in ("arrow", "pandas"):
        profile = profile_column(read_csv(str(source), True, engine).columns[1], 3)
        assert (profile.num_present, profile.num_missing) == (1, 2), engine
    short = tmp_path / "short.csv"
    short.write_text('name,x\n"a, b",1\n"c"\n')
    with pytest.raises(InputDataError, match="ragged row: 1 fields"):
        read_csv(str(short), True, "pandas")


@pytest.mark.parametrize("block_size", [5, 64, 32 << 20])
def test_short_row_scan_respects_quotes_and_block_boundaries(tmp_path: Path, block_size: int) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b'"a","b","c"\r\n"x, y",2,3\r\n\r\n"multi\nline, field",5,6\n7,"8,9"\n10,11,12\n')
    assert dq_read._find_short_row(str(source), 3, block_size) == (6, 2)  # line 6 is 7,"8,9": two fields
    source.write_bytes(b'a,b,c\n1,2,3\n"4\n,5",6,7\n')
    assert dq_read._find_short_row(str(source), 3, block_size) is None
    source.write_bytes(b"a,b,c\n1,2,3\n4,5")  # no final newline
    assert dq_read._find_short_row(str(source), 3, block_size) == (3, 2)
