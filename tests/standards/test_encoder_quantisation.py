"""The shipped encoder's int8 weights fit in 7 bits, so every x86 CPU computes the same vectors.

onnxruntime's AVX2 kernel (and AVX-512 without VNNI) sums pairs of uint8 x int8 products in
16 bits with saturation (2 x 255 x 127 overflows 32,767), where VNNI's products are exact:
with 8-bit weights the same comment got different vectors, and different decisions near a
threshold, on different CPUs (probe sets 0.90 on an AVX2 EPYC, 0.867-0.883 on a VNNI Xeon).
With weights in -64..64 both compute the exact integer products. A file exported with 8-bit
weights (``training/export_minilm.py`` quantises with ``reduce_range``) fails here.

The ONNX file is read with a few lines of protobuf decoding: the ``onnx`` package is not a
Civility dependency.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from civility.standards import embedding

# Fields of onnx.proto: ModelProto.graph = 7; GraphProto.node = 1, .initializer = 5;
# NodeProto.input = 1, .op_type = 4; TensorProto.dims = 1, .data_type = 2, .name = 8,
# .raw_data = 9. TensorProto.DataType INT8 = 3.
INT8 = 3
SAFE_MAGNITUDE = 64  # 2 x 255 x 64 = 32,640 fits a signed 16-bit sum


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of one protobuf message: ints for varints, bytes otherwise."""
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(data, position)
            yield number, value
        elif wire == 2:
            size, position = _varint(data, position)
            yield number, data[position : position + size]
            position += size
        elif wire == 5:
            yield number, data[position : position + 4]
            position += 4
        elif wire == 1:
            yield number, data[position : position + 8]
            position += 8
        else:
            raise ValueError(f"unexpected wire type {wire}")


def _graph(model: bytes) -> bytes:
    return next(value for number, value in _fields(model) if number == 7)  # type: ignore[return-value]


WEIGHT_READERS = (b"MatMulInteger", b"QAttention")


def _matmul_integer_weights(graph: bytes) -> dict[str, np.ndarray]:
    """The int8 initialisers that are the weights (second input) of MatMulInteger nodes and
    of the QAttention nodes (query, key and value side by side) that the fused layers have."""
    weight_names = set()
    initialisers: dict[str, np.ndarray] = {}
    for number, value in _fields(graph):
        assert isinstance(value, bytes) or number not in (1, 5)
        if number == 1:
            fields = list(_fields(value))  # type: ignore[arg-type]
            op_type = next((v for n, v in fields if n == 4), b"")
            inputs = [v for n, v in fields if n == 1]
            if op_type in WEIGHT_READERS and len(inputs) > 1:
                weight_names.add(bytes(inputs[1]).decode())  # type: ignore[arg-type]
        elif number == 5:
            fields = list(_fields(value))  # type: ignore[arg-type]
            data_type = next((v for n, v in fields if n == 2), 0)
            name = bytes(next(v for n, v in fields if n == 8)).decode()  # type: ignore[arg-type]
            raw = next((v for n, v in fields if n == 9), None)
            if data_type == INT8 and isinstance(raw, bytes):
                initialisers[name] = np.frombuffer(raw, dtype=np.int8)
    return {name: initialisers[name] for name in weight_names if name in initialisers}


def test_every_matmul_weight_of_the_encoder_fits_in_seven_bits() -> None:
    weights = _matmul_integer_weights(_graph(embedding.FULL_MODEL_PATH.read_bytes()))
    # Six layers: query, key and value in one QAttention weight, output, two feed-forward.
    assert len(weights) == 24
    largest = {name: int(np.abs(w.astype(np.int16)).max()) for name, w in weights.items()}
    assert max(largest.values()) <= SAFE_MAGNITUDE, largest
    # Still a real quantisation, not weights squeezed to a few levels.
    assert min(largest.values()) >= SAFE_MAGNITUDE // 2, largest
