"""Give the exported encoder a second output: the last layer's token vectors.

    python src/civility/standards/training/token_states.py [MODEL.onnx]

``export_minilm.export_quantised`` calls :func:`expose_token_states` on every file it
quantises (the shipped encoder, ``distill_minilm.py``'s students); run alone, this script does
the same to a file exported before (by default the shipped one).

The engine pools a comment's token vectors sentence by sentence to show which sentence a
learned rule objects to (``embedding.sentence_pieces``, models/README.md section 3). The
tensor is already computed for the mean pooling, so the output costs a copy: measured on the
2-core Xeon with VNNI, 2,000 comments of ``benchmarks/mix.py`` one per call, 2.27-2.28 CPU ms
a comment with and without it, and the sentence vectors bit-identical.

Needs the ``onnx`` package, which the export's torch venv has and Civility's runtime does not.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TOKEN_STATES_OUTPUT = "token_embeddings"
_LAYER_OUTPUT = re.compile(r"^/layers\.(\d+)/output_norm/LayerNormalization_output_0$")


def expose_token_states(path: Path) -> bool:
    """Add ``token_embeddings`` (batch, tokens, 384), the input of the mean pooling, as the
    graph's second output, through an Identity node. False if the file has it already."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    if any(output.name == TOKEN_STATES_OUTPUT for output in graph.output):
        return False
    layer_outputs = {
        int(match.group(1)): name
        for node in graph.node
        for name in node.output
        if (match := _LAYER_OUTPUT.match(name))
    }
    if not layer_outputs:
        raise ValueError(f"{path}: no /layers.N/output_norm output (not export_minilm.py's graph)")
    last = layer_outputs[max(layer_outputs)]
    graph.node.append(
        onnx.helper.make_node(
            "Identity", [last], [TOKEN_STATES_OUTPUT], name="/token_embeddings/Identity"
        )
    )
    graph.output.append(
        onnx.helper.make_tensor_value_info(
            TOKEN_STATES_OUTPUT, onnx.TensorProto.FLOAT, ["batch", "tokens", 384]
        )
    )
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    default = Path(__file__).resolve().parents[1] / "models" / "minilm-l6-v2-int8.onnx"
    path = Path(args[0]) if args else default
    changed = expose_token_states(path)
    print(f"{path}: {'token_embeddings added' if changed else 'already has token_embeddings'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
