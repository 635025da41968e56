"""Batch transform's model server, in one process: run as ``python serving_runner.py --spec SPEC.json``.

Imports the model's serving program (``SAGEMAKER_PROGRAM`` from its source directory), calls ``model_fn``
once, then sends each input file through ``input_fn → predict_fn → output_fn`` (or ``transform_fn``) in
requests shaped as batch transform shapes them: ``SplitType`` Line cuts files at line ends;
``MultiRecord`` packs as many whole lines as fit in ``MaxPayloadInMB`` into one request (no per-row
Python work), ``SingleRecord`` sends one line per request; ``AssembleWith`` Line ends every response
with a newline (when it does not already end with one), None concatenates them. ``DataProcessing``
(InputFilter, JoinSource=Input, OutputFilter) is applied to CSV records.

Standard library only besides the user's module: it runs in the model's own interpreter environment.
The spec file (written by ``handlers/transform.py``)::

    {"program", "code_dir", "model_dir", "content_type", "accept", "split_type", "batch_strategy",
     "max_payload_bytes", "assemble_with", "input_filter", "join_source", "output_filter",
     "items": [{"input": PATH, "output": PATH}]}
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any


class TransformError(Exception):
    """A request that batch transform would reject."""


# --------------------------------------------------------------------------------------------------------
# The model's functions
# --------------------------------------------------------------------------------------------------------


class Model:
    def __init__(self, module: ModuleType, model_dir: str) -> None:
        self.module = module
        model_fn = getattr(module, "model_fn", None)
        if model_fn is None:
            raise TransformError(f"{module.__name__} defines no model_fn(model_dir)")
        self.model = model_fn(model_dir)
        self.transform_fn: Callable[..., Any] | None = getattr(module, "transform_fn", None)
        self.input_fn: Callable[..., Any] = getattr(module, "input_fn", _default_input)
        self.predict_fn: Callable[..., Any] = getattr(module, "predict_fn", _default_predict)
        self.output_fn: Callable[..., Any] = getattr(module, "output_fn", _default_output)

    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        if self.transform_fn is not None:
            result = self.transform_fn(self.model, body, content_type, accept)
        else:
            data = self.input_fn(body, content_type)
            prediction = self.predict_fn(data, self.model)
            result = self.output_fn(prediction, accept)
        if isinstance(result, tuple):  # (body, content type), as the inference toolkit allows
            result = result[0]
        if isinstance(result, str):
            return result.encode("utf-8")
        if isinstance(result, bytes | bytearray):
            return bytes(result)
        return str(result).encode("utf-8")


def _default_input(body: bytes, content_type: str) -> Any:
    return body


def _default_predict(data: Any, model: Any) -> Any:
    return model.predict(data)


def _default_output(prediction: Any, accept: str) -> Any:
    if hasattr(prediction, "tolist"):
        prediction = prediction.tolist()
    if isinstance(prediction, list):
        return "".join(f"{value}\n" for value in prediction)
    return prediction


def load_module(code_dir: str, program: str) -> ModuleType:
    # Running this file put its own directory first on sys.path: drop it, so that the executor's modules
    # (events, paths, process…) can never shadow the model's own.
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p and str(Path(p).resolve()) != here]
    path = Path(code_dir) / program
    sys.path.insert(0, str(path.parent))
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    return importlib.import_module(path.stem)


# --------------------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------------------


def requests(data: bytes, split_type: str, strategy: str, max_bytes: int) -> Iterator[bytes]:
    """Request bodies for one input file."""
    if split_type != "Line":
        if len(data) > max_bytes:
            raise TransformError(
                f"the input is {len(data)} bytes, over MaxPayloadInMB ({max_bytes} bytes), and SplitType is "
                f"{split_type}: split it (SplitType Line) or raise MaxPayloadInMB"
            )
        yield data
        return
    if strategy == "SingleRecord":
        for line in data.splitlines(keepends=True):
            if line.strip():
                yield line
        return
    start, size = 0, len(data)
    while start < size:
        end = min(start + max_bytes, size)
        if end < size:
            cut = data.rfind(b"\n", start, end)
            if cut < 0:
                raise TransformError(
                    f"a record at byte {start} is larger than MaxPayloadInMB ({max_bytes} bytes)"
                )
            end = cut + 1
        chunk = data[start:end]
        start = end
        if chunk.strip():
            yield chunk


_INDEX = re.compile(r"^\$\[(.+)\]$")


def select_columns(path: str | None) -> Callable[[list[str]], list[str]]:
    """A CSV column selector from a JSONPath: ``$``, ``$[i]``, ``$[i,j]``, ``$[i:j]`` (negatives allowed)."""
    if path in (None, "", "$"):
        return lambda columns: columns
    match = _INDEX.match(str(path).strip())
    if not match:
        raise TransformError(f"filter {path!r} is not supported locally for CSV ($, $[i], $[i,j], $[i:j])")
    body = match.group(1)
    if ":" in body:
        low_text, _, high_text = body.partition(":")
        low = int(low_text) if low_text.strip() else None
        high = int(high_text) if high_text.strip() else None
        return lambda columns: columns[low:high]
    indexes = [int(part) for part in body.split(",")]
    return lambda columns: [columns[i] for i in indexes]


# --------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------


def _assemble(response: bytes, assemble_with: str) -> bytes:
    if assemble_with == "Line" and not response.endswith(b"\n"):
        return response + b"\n"
    return response


def transform_plain(model: Model, data: bytes, spec: dict[str, Any], out: Any) -> int:
    count = 0
    for body in requests(data, spec["split_type"], spec["batch_strategy"], spec["max_payload_bytes"]):
        out.write(_assemble(model.invoke(body, spec["content_type"], spec["accept"]), spec["assemble_with"]))
        count += 1
    return count


def transform_filtered(model: Model, data: bytes, spec: dict[str, Any], out: Any) -> int:
    """With DataProcessing: records are CSV lines, filtered, joined with their input and filtered again."""
    if "csv" not in spec["content_type"]:
        raise TransformError("DataProcessing filters are supported locally for text/csv input only")
    select_in = select_columns(spec.get("input_filter"))
    select_out = select_columns(spec.get("output_filter"))
    join = spec.get("join_source") == "Input"
    records = [line for line in data.decode("utf-8").splitlines() if line.strip()]
    filtered = "".join(",".join(select_in(r.split(","))) + "\n" for r in records).encode("utf-8")
    outputs: list[str] = []
    for body in requests(filtered, "Line", spec["batch_strategy"], spec["max_payload_bytes"]):
        response = model.invoke(body, spec["content_type"], spec["accept"]).decode("utf-8")
        outputs.extend(line for line in response.splitlines() if line.strip())
    if len(outputs) != len(records):
        raise TransformError(
            f"{len(records)} input records but {len(outputs)} output lines: JoinSource/OutputFilter need "
            "one output line per input record"
        )
    for record, output in zip(records, outputs, strict=True):
        joined = f"{record},{output}" if join else output
        out.write((",".join(select_out(joined.split(","))) + "\n").encode("utf-8"))
    return len(records)


def run(spec: dict[str, Any]) -> None:
    module = load_module(spec["code_dir"], spec["program"])
    model = Model(module, spec["model_dir"])
    filtered = any(
        spec.get(key) not in (None, "", "$", "None")
        for key in ("input_filter", "output_filter", "join_source")
    )
    for item in spec["items"]:
        data = Path(item["input"]).read_bytes()
        Path(item["output"]).parent.mkdir(parents=True, exist_ok=True)
        with open(item["output"], "wb") as out:
            if filtered:
                transform_filtered(model, data, spec, out)
            else:
                transform_plain(model, data, spec, out)
        print(f"transformed {item['input']} -> {item['output']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spec", required=True)
    args = parser.parse_args(argv)
    spec = json.loads(Path(args.spec).read_text())
    try:
        run(spec)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        message = " ".join(str(exc).split()) or repr(exc)
        print(f"{type(exc).__name__}: {message}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
