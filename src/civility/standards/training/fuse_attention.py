"""Fuse each encoder layer's attention into one onnxruntime ``Attention`` node.

    python src/civility/standards/training/fuse_attention.py [MODEL.onnx] [--out FILE]

The torch export leaves every layer's self-attention as about 30 small nodes: three products
for the query, key and value, their biases, the head split (Reshape, Transpose), the score
product, its scaling, the mask, the softmax, the product with the values and the head merge,
plus the shape arithmetic that feeds the reshapes. Quantised, the three products become
``MatMulIntegerToFloat`` nodes. For a comment of 40 tokens each of those nodes costs a few
microseconds of bookkeeping, which adds up to a tenth of the encoder's time.
``onnxruntime.transformers.optimizer`` does not recognise this graph's attention (its
patterns are Hugging Face's), so this module rewrites it: one ``com.microsoft.Attention`` per
layer, with the three weight matrices side by side (384 x 1152) and the raw attention mask.
``quantize_dynamic`` then turns it into ``QAttention``.

Measured (models/README.md section 1, "Attention fused"): the shipped encoder's vectors, and
its token vectors, are bit-identical before and after, and a 40-token comment costs about 9%
less CPU.

``export_minilm.export_quantised`` fuses every graph it exports; run alone, this script fuses
an int8 file exported before (by default the shipped one): it rebuilds the float products from
the int8 weights and their scales, fuses, quantises again with the export's settings (the same
weights come back) and checks the result against the input on sample windows.

Needs the ``onnx`` package (the export's torch venv and ``requirements/train.txt`` have it;
Civility's runtime does not).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

NUM_HEADS = 12
HEAD_SIZE = 32
MASK_FILTER_VALUE = -10000.0  # export_minilm.BertLayer's mask bias: what Attention adds too
MASK_INPUT = "attention_mask"
MASK_INT32 = "attention_mask_int32"
_PARTS = ("query", "key", "value")


def _producers(graph: Any) -> dict[str, Any]:
    return {output: node for node in graph.node for output in node.output}


def _consumers(graph: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            found.setdefault(name, []).append(node)
    return found


def _layers(graph: Any) -> list[str]:
    """``layers.0``, ``layers.1``... in order, from the node names of export_minilm.py."""
    names = {
        node.name.split("/")[1]
        for node in graph.node
        if node.name.startswith("/layers.") and node.name.count("/") >= 2
    }
    return sorted(names, key=lambda name: int(name.split(".")[1]))


def dequantise(model: Any) -> int:
    """Replace every ``DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(scale)`` chain of
    a ``quantize_dynamic`` graph by a float ``MatMul`` on the weights it stands for
    ((int8 - zero point) x per-channel scale). Returns how many products were rebuilt."""
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    producers = _producers(graph)
    consumers = _consumers(graph)
    replaced: dict[int, Any] = {}
    dropped: set[int] = set()
    new_initializers = []
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        quantised_input, weight_name, _, zero_point_name = node.input
        float_input = producers[quantised_input].input[0]
        cast = consumers[node.output[0]][0]
        scale_mul = consumers[cast.output[0]][0]
        scales_name = next(name for name in scale_mul.input if name != cast.output[0])
        weight_scale_name = next(
            name for name in producers[scales_name].input if name in initializers
        )
        weights = numpy_helper.to_array(initializers[weight_name]).astype(np.float32)
        zero_points = numpy_helper.to_array(initializers[zero_point_name]).astype(np.float32)
        scales = numpy_helper.to_array(initializers[weight_scale_name]).astype(np.float32)
        float_name = weight_name.removesuffix("_quantized")
        new_initializers.append(
            numpy_helper.from_array((weights - zero_points[None, :]) * scales[None, :], float_name)
        )
        replaced[id(scale_mul)] = helper.make_node(
            "MatMul",
            [float_input, float_name],
            [scale_mul.output[0]],
            name=node.name.removesuffix("_quant"),
        )
        dropped.update({id(node), id(cast)})
    nodes = [replaced.get(id(node), node) for node in graph.node if id(node) not in dropped]
    _replace_nodes(model, nodes, new_initializers)
    return len(replaced)


def _weight_and_bias(
    initializers: dict[str, Any], consumers: dict[str, list[Any]], matmul: Any
) -> tuple[np.ndarray, np.ndarray]:
    """A linear layer's weight (in, out) and its bias (the Add right after the product)."""
    from onnx import numpy_helper

    add = consumers[matmul.output[0]][0]
    if add.op_type != "Add":
        raise ValueError(f"{matmul.name}: no bias Add after it")
    bias_name = next(name for name in add.input if name in initializers)
    weight = numpy_helper.to_array(initializers[matmul.input[1]])
    return weight, numpy_helper.to_array(initializers[bias_name])


def fuse(model: Any) -> int:
    """Rewrite each layer's self-attention of a float export_minilm.py graph as one
    ``com.microsoft.Attention`` node; the nodes it replaces are dropped. Returns the number of
    layers fused (0 when the graph has none left to fuse)."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    by_name = {node.name: node for node in graph.node}
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    consumers = _consumers(graph)
    constants = {
        node.output[0]: numpy_helper.to_array(node.attribute[0].t)
        for node in graph.node
        if node.op_type == "Constant"
    }
    fused: list[Any] = []
    new_initializers = []
    for layer in _layers(graph):
        matmuls = [by_name.get(f"/{layer}/{part}/MatMul") for part in _PARTS]
        output_matmul = by_name.get(f"/{layer}/attention_out/MatMul")
        if any(matmul is None for matmul in matmuls) or output_matmul is None:
            continue
        _check_scale(by_name, constants, layer)
        parts = [
            _weight_and_bias(initializers, consumers, matmul)
            for matmul in matmuls
            if matmul is not None
        ]
        source = {matmul.input[0] for matmul in matmuls if matmul is not None}
        if len(source) != 1:
            raise ValueError(f"{layer}: query, key and value read different inputs")
        weight_name, bias_name = f"{layer}.qkv.weight", f"{layer}.qkv.bias"
        new_initializers += [
            numpy_helper.from_array(
                np.concatenate([part[0] for part in parts], axis=1).astype(np.float32),
                weight_name,
            ),
            numpy_helper.from_array(
                np.concatenate([part[1] for part in parts]).astype(np.float32), bias_name
            ),
        ]
        fused.append(
            helper.make_node(
                "Attention",
                [source.pop(), weight_name, bias_name, MASK_INT32],
                [output_matmul.input[0]],
                name=f"/{layer}/Attention",
                domain="com.microsoft",
                num_heads=NUM_HEADS,
                mask_filter_value=MASK_FILTER_VALUE,
            )
        )
    if not fused:
        return 0
    taken_over = {node.output[0] for node in fused}
    nodes = [node for node in graph.node if not set(node.output) & taken_over]
    nodes.append(
        helper.make_node(
            "Cast", [MASK_INPUT], [MASK_INT32], to=TensorProto.INT32, name="/mask/CastInt32"
        )
    )
    _replace_nodes(model, nodes + fused, new_initializers)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return len(fused)


def _check_scale(by_name: dict[str, Any], constants: dict[str, np.ndarray], layer: str) -> None:
    """The scores are divided by sqrt(head size), which is what Attention does by default."""
    divide = by_name.get(f"/{layer}/Div")
    if divide is None or divide.op_type != "Div":
        raise ValueError(f"{layer}: no score scaling (/{layer}/Div)")
    divisor = constants.get(divide.input[1])
    if divisor is None or not np.isclose(float(divisor), HEAD_SIZE**0.5):
        raise ValueError(f"{layer}: scores scaled by {divisor}, not sqrt({HEAD_SIZE})")


def _replace_nodes(model: Any, nodes: list[Any], new_initializers: list[Any]) -> None:
    """Set the graph's nodes: those no output needs are dropped, the rest sorted so that each
    comes after what it reads; initializers nothing reads are dropped."""
    graph = model.graph
    wanted = {output.name for output in graph.output}
    while True:
        read = wanted | {name for node in nodes for name in node.input}
        kept = [node for node in nodes if any(output in read for output in node.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    initializers = [*graph.initializer, *new_initializers]
    available = (
        {tensor.name for tensor in initializers} | {value.name for value in graph.input} | {""}
    )
    ordered: list[Any] = []
    pending = nodes
    while pending:
        ready = [node for node in pending if all(name in available for name in node.input)]
        if not ready:
            raise ValueError(f"unreachable inputs in {[node.name for node in pending[:3]]}")
        for node in ready:
            ordered.append(node)
            available.update(node.output)
        pending = [node for node in pending if node not in ready]
    del graph.node[:]
    graph.node.extend(ordered)
    read = {name for node in ordered for name in node.input}
    del graph.initializer[:]
    graph.initializer.extend(tensor for tensor in initializers if tensor.name in read)


def quantise(float_path: Path, quantised_path: Path) -> None:
    """The shipped encoder's quantisation (``export_minilm.export_quantised`` calls this)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(float_path),
        str(quantised_path),
        per_channel=True,
        weight_type=QuantType.QInt8,
        reduce_range=True,  # 7-bit weights: the same vectors on AVX2 and VNNI CPUs
    )


def largest_difference(first: Path, second: Path, windows: list[list[int]]) -> float:
    """The largest difference of any output component between two encoder files over
    ``windows`` (one window per call, one thread, as the engine runs them)."""
    import onnxruntime

    def session(path: Path) -> Any:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    sessions = (session(first), session(second))
    largest = 0.0
    for ids in windows:
        feed = {"input_ids": np.asarray([ids], dtype=np.int64)}
        feed[MASK_INPUT] = np.ones_like(feed["input_ids"])
        first_outputs, second_outputs = (item.run(None, feed) for item in sessions)
        for a, b in zip(first_outputs, second_outputs, strict=True):
            largest = max(largest, float(np.abs(a - b).max()))
    return largest


def sample_windows(count: int = 300) -> list[list[int]]:
    """Token windows of 1-158 ids drawn over the vocabulary, each with [CLS] and [SEP]."""
    rng = np.random.default_rng(0)
    return [
        [101, *rng.integers(1000, 29000, size=int(length)).tolist(), 102]
        for length in rng.integers(1, 160, size=count)
    ]


def fuse_file(source: Path, target: Path) -> dict[str, Any]:
    """Fuse an int8 encoder file (dequantise, fuse, quantise again) into ``target``."""
    import onnx

    model = onnx.load(str(source))
    rebuilt = dequantise(model)
    layers = fuse(model)
    if not layers:
        raise ValueError(f"{source}: no attention left to fuse")
    with tempfile.TemporaryDirectory() as scratch:
        float_path = Path(scratch) / "float.onnx"
        onnx.save(model, str(float_path))
        quantise(float_path, target)
    onnx.checker.check_model(str(target))
    return {"products_rebuilt": rebuilt, "layers_fused": layers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1] / "models" / "minilm-l6-v2-int8.onnx"
    parser.add_argument("model", type=Path, nargs="?", default=default)
    parser.add_argument("--out", type=Path, default=None, help="default: replace MODEL")
    args = parser.parse_args(argv)
    target: Path = args.out or args.model
    with tempfile.TemporaryDirectory() as scratch:
        fused = Path(scratch) / "fused.onnx"
        report = fuse_file(args.model, fused)
        difference = largest_difference(args.model, fused, sample_windows())
        report["largest_output_difference"] = difference
        fused.replace(target)
    print(f"{args.model} -> {target}: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
