"""serve.py: the serving functions apply the saved transformer unchanged; batch scoring via main()."""

from __future__ import annotations

from pathlib import Path

import datafiles
import numpy as np
import pandas as pd
import preprocess
import pytest
import serve
import xgboost as xgb
from datafiles import DataError

from tests.datasets import FEATURES, TARGET
from tests.unit.conftest import DATA


def inference_text(rows: int = 25) -> str:
    return "\n".join((DATA / "inference-data.csv").read_text().splitlines()[:rows]) + "\n"


def test_round_trip_through_the_four_functions(trained: dict[str, Path]) -> None:
    model = serve.model_fn(str(trained["model"]))
    for body in (inference_text(), inference_text().encode("utf-8")):
        frame = serve.input_fn(body, "text/csv; charset=utf-8")
        prediction = serve.predict_fn(frame, model)
        text = serve.output_fn(prediction, "text/csv")
        lines = text.splitlines()
        assert len(lines) == 25 and text.endswith("\n")
        np.testing.assert_allclose([float(v) for v in lines], prediction.values, rtol=1e-6)
        assert all("e" not in line for line in lines)
        assert 3.0 < prediction.values.mean() < 20.0


def test_serving_sees_exactly_the_training_inputs(trained: dict[str, Path]) -> None:
    # The raw train split, scored through serving, equals the model on preprocess's written training matrix.
    model = serve.model_fn(str(trained["model"]))
    raw = pd.read_csv(trained["baseline"] / "baseline.csv", dtype={"sex": object})
    body = raw.to_csv(header=False, index=False)  # the baseline is the raw train-split features
    served = serve.predict_fn(serve.input_fn(body, "text/csv"), model)
    spec = model.transformer
    written = datafiles.read_numeric_csv(trained["train"] / "train.csv", [TARGET, *spec["output_columns"]])
    matrix = written.to_numpy()[:, 1:]
    np.testing.assert_array_equal(
        preprocess.apply_transformer(spec, serve.parse(serve.input_fn(body, "text/csv"), model)), matrix
    )
    direct = model.booster.predict(xgb.DMatrix(matrix, feature_names=spec["output_columns"]))
    np.testing.assert_array_equal(served.values, direct)


def test_unseen_category_is_scored(trained: dict[str, Path]) -> None:
    model = serve.model_fn(str(trained["model"]))
    prediction = serve.predict_fn(serve.input_fn("X,0.5,0.4,0.1,0.5,0.2,0.1,0.15\n", "text/csv"), model)
    assert prediction.values.shape == (1,) and np.isfinite(prediction.values[0])


def test_bad_requests_are_rejected(trained: dict[str, Path]) -> None:
    model = serve.model_fn(str(trained["model"]))
    header = ",".join(FEATURES) + "\n" + inference_text(2)
    with pytest.raises(DataError, match="header row"):
        serve.predict_fn(serve.input_fn(header, "text/csv"), model)
    with pytest.raises(DataError, match="unsupported content type 'application/json'"):
        serve.input_fn("{}", "application/json")
    with pytest.raises(DataError, match=r"\(request, row 1\)"):
        serve.predict_fn(serve.input_fn("M,1,1\n", "text/csv"), model)
    predictions = serve.Predictions(np.array([1.0, 12.25]), model.schema)
    with pytest.raises(DataError, match="unsupported accept type"):
        serve.output_fn(predictions, "application/json")
    assert serve.output_fn(predictions, "*/*") == "1.0\n12.25\n"


def test_model_fn_errors(tmp_path: Path) -> None:
    with pytest.raises(datafiles.ArtifactError, match=r"xgboost-model\.json does not exist"):
        serve.model_fn(str(tmp_path))
    (tmp_path / "xgboost-model.json").write_text("not a model")
    with pytest.raises(datafiles.ArtifactError, match="cannot be loaded"):
        serve.model_fn(str(tmp_path))


def test_main_batch_scores_a_file(trained: dict[str, Path], tmp_path: Path) -> None:
    source = tmp_path / "inference-data.csv"
    source.write_text(inference_text(40))
    output = tmp_path / "out" / "inference-data.csv.out"
    assert (
        serve.main(["--model-dir", str(trained["model"]), "--input", str(source), "--output", str(output)])
        == 0
    )
    assert len(output.read_text().splitlines()) == 40


def test_main_bad_input_exits_2_and_writes_nothing(
    trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "inference-data.csv"
    source.write_text(inference_text(3) + "M,0.5,0.4,big,1,1,1,1\n")
    output = tmp_path / "out" / "inference-data.csv.out"
    assert (
        serve.main(["--model-dir", str(trained["model"]), "--input", str(source), "--output", str(output)])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"value 'big' is not a number ({source}, row 4, column 4 'height')" in err
    assert not output.parent.exists()
