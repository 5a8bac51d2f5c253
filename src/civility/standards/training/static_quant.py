"""Experiment: static (calibrated) int8 quantisation of the MiniLM encoder (not shipped).

The shipped encoder quantises its activations dynamically (one range per input tensor, found
at run time), so a comment's vector would depend on its batch mates in a padded batch and the
engine runs one comment per call. With fixed, calibrated activation ranges a batch becomes
row-independent up to float noise, so batching would be possible. This script builds such
variants from the unquantised graph so that ``benchmarks/encoder_speed.py --candidates``
can compare them with the shipped file (speed one per call, in exact-length groups and in
padded batches; row independence; fidelity to the float model). Results and the decision:
``models/README.md`` section 1, "Static int8 quantisation (measured, not shipped)".

Runs in the export environment (Python 3.11, ``onnx``; see ``export_minilm.py``)::

    /tmp/torchvenv/bin/python src/civility/standards/training/export_minilm.py \\
        --out /tmp/minilm --keep-float /tmp/minilm/float.onnx
    /tmp/torchvenv/bin/python src/civility/standards/training/static_quant.py \\
        /tmp/minilm/float.onnx --out /tmp/minilm qop-minmax qdq-minmax qop-minmax-noffn

Variant names: ``{qop|qdq}-minmax[-noffn]``: QOperator (QLinearMatMul) or QDQ format, MinMax
calibration; ``-noffn`` keeps the six feed-forward output products (whose input is the GELU
output, the widest activation range) in float. Always: the 36 products with a weight matrix
quantised (int8 weights per output channel, uint8 activations), the 12 attention products
(activation by activation) in float. Calibration: 400 texts drawn from the train parts of the
shippable shared sets (``datasets.SHIPPABLE``), each run alone, unpadded, split into the
engine's windows over 160 tokens. (Percentile and entropy calibration need equal-length
calibration batches in onnxruntime 1.32's collector, which fails on unpadded rows of
different lengths; padding would put the padding tokens' activations into the ranges.)
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

from civility.standards import datasets

MODELS = Path(__file__).resolve().parents[1] / "models"
TOKENIZER = MODELS / "minilm-tokenizer.json"
# The engine's windows (embedding.SPLIT_ABOVE_TOKENS / WINDOW_TOKENS; not imported: this
# runs on Python 3.11, and embedding imports the engine's 3.12 code).
SPLIT_ABOVE_TOKENS, WINDOW_TOKENS, CLS_ID, SEP_ID = 160, 128, 101, 102


def windows(ids: list[int]) -> list[list[int]]:
    if len(ids) <= SPLIT_ABOVE_TOKENS:
        return [ids]
    body = ids[1:-1]
    count = -(-len(body) // WINDOW_TOKENS)
    bounds = [len(body) * k // count for k in range(count + 1)]
    return [[CLS_ID, *body[bounds[k] : bounds[k + 1]], SEP_ID] for k in range(count)]


def calibration_texts(count: int = 400, seed: int = 7) -> list[str]:
    """``count`` texts, an equal share from the train part of every shippable set."""
    rng = random.Random(seed)
    texts: list[str] = []
    for name in sorted(datasets.SHIPPABLE):
        rows = [row["text"] for row in datasets.rows(name, part="train") if row.get("text")]
        rng.shuffle(rows)
        texts += rows[: count // len(datasets.SHIPPABLE) + 1]
    rng.shuffle(texts)
    return texts[:count]


def calibration_feeds(texts: list[str]) -> list[dict[str, np.ndarray]]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(TOKENIZER))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    feeds = []
    for encoding in tokenizer.encode_batch(texts):
        for ids in windows(encoding.ids):
            input_ids = np.asarray([ids], dtype=np.int64)
            feeds.append({"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)})
    return feeds


def build(float_path: Path, out: Path, variant: str, texts: list[str]) -> Path:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.feeds = iter(calibration_feeds(texts))

        def get_next(self) -> Any:
            return next(self.feeds, None)

    prepared = out / "float-prepared.onnx"
    if not prepared.exists():
        quant_pre_process(str(float_path), str(prepared))
    graph = onnx.load(str(prepared)).graph
    weights = {initializer.name for initializer in graph.initializer}
    producer = {output: node for node in graph.node for output in node.output}
    excluded = [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] not in weights]
    if variant.endswith("-noffn"):
        excluded += [
            n.name
            for n in graph.node
            if n.op_type == "MatMul"
            and n.input[1] in weights
            and n.input[0] in producer
            and producer[n.input[0]].op_type == "Mul"  # the GELU's last step
        ]
    target = out / f"minilm-static-{variant}.onnx"
    quantize_static(
        str(prepared),
        str(target),
        Reader(),
        quant_format=QuantFormat.QOperator if variant.startswith("qop") else QuantFormat.QDQ,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=excluded,
        per_channel=True,
        reduce_range=False,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("float_model", type=Path, help="export_minilm.py --keep-float output")
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--texts", type=int, default=400)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    texts = calibration_texts(args.texts)
    for variant in args.variants:
        print(f"wrote {build(args.float_model, args.out, variant, texts)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
