"""Candidate (b) of bench/safety_model_experiments.py: the sentence model itself
(paraphrase-MiniLM-L3-v2), its weights read from the ONNX file, run in numpy for timing and
fine-tuned with PyTorch (installed by hand, not a project dependency). The results are in
that module's docstring."""

from __future__ import annotations

from typing import Any

from bench.safety_model_cnn import _batch
from bench.safety_model_experiments import Data, timed
from bench.safety_screen import SPLITS, load_messages

# --- candidate (b): the sentence model itself, timed ----------------------------------------


def bert_weights() -> dict[str, Any]:
    """paraphrase-MiniLM-L3-v2's weights from the ONNX file (needs the `onnx` package)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    from bot.engine.safety import second_stage

    model = onnx.load(str(second_stage.model_path()))
    w = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    # The projection matrices, in graph order: query, key, value, output, intermediate, output.
    names = [
        n.input[1]
        for n in model.graph.node
        if n.op_type == "MatMul" and n.input[1].startswith("onnx::MatMul")
    ]
    p = "model.0.auto_model."
    layers = []
    for layer in range(len(names) // 6):
        q, k, v, o, i, out = names[6 * layer : 6 * layer + 6]

        def b(s: str, layer: int = layer) -> Any:
            return w[f"{p}encoder.layer.{layer}.{s}"]

        layers.append(
            {
                "qkv": np.concatenate([w[q], w[k], w[v]], 1),
                "bqkv": np.concatenate(
                    [
                        b("attention.self.query.bias"),
                        b("attention.self.key.bias"),
                        b("attention.self.value.bias"),
                    ]
                ),
                "o": w[o],
                "bo": b("attention.output.dense.bias"),
                "g1": b("attention.output.LayerNorm.weight"),
                "c1": b("attention.output.LayerNorm.bias"),
                "i": w[i],
                "bi": b("intermediate.dense.bias"),
                "out": w[out],
                "bout": b("output.dense.bias"),
                "g2": b("output.LayerNorm.weight"),
                "c2": b("output.LayerNorm.bias"),
            }
        )
    return {
        "emb": w[p + "embeddings.word_embeddings.weight"],
        "pos": w[p + "embeddings.position_embeddings.weight"]
        + w[p + "embeddings.token_type_embeddings.weight"][0],
        "g": w[p + "embeddings.LayerNorm.weight"],
        "c": w[p + "embeddings.LayerNorm.bias"],
        "layers": layers,
    }


def _layer_norm(x: Any, g: Any, c: Any) -> Any:
    import numpy as np

    mu = x.mean(-1, keepdims=True)
    d = x - mu
    return d / np.sqrt((d * d).mean(-1, keepdims=True) + 1e-12) * g + c


def bert_forward(w: dict[str, Any], ids: Any, layers: int = 3) -> Any:
    """The mean output vector (GELU by its tanh approximation: numpy has no erf)."""
    import numpy as np

    n = len(ids)
    x = _layer_norm(w["emb"][ids] + w["pos"][:n], w["g"], w["c"])
    for p in w["layers"][:layers]:
        qkv = x @ p["qkv"] + p["bqkv"]
        q, k, v = (
            qkv[:, j * 384 : (j + 1) * 384].reshape(n, 12, 32).transpose(1, 0, 2) for j in range(3)
        )
        a = q @ k.transpose(0, 2, 1) / np.sqrt(32.0)
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        h = (a @ v).transpose(1, 0, 2).reshape(n, 384)
        x = _layer_norm(h @ p["o"] + p["bo"] + x, p["g1"], p["c1"])
        f = x @ p["i"] + p["bi"]
        f = 0.5 * f * (1 + np.tanh(0.7978845608 * (f + 0.044715 * f * f * f)))
        x = _layer_norm(f @ p["out"] + p["bout"] + x, p["g2"], p["c2"])
    return x.mean(0)


def bert_timing() -> dict[str, Any]:
    import numpy as np
    import onnxruntime as ort

    from bot.engine.safety import second_stage
    from bot.engine.safety.wordpiece import WordPiece

    vocab = WordPiece.load()
    ids = [np.array(vocab.encode(m.text)) for m in load_messages(SPLITS["train"])]
    lengths = np.array([len(i) for i in ids])
    found: dict[str, Any] = {
        "pieces_per_message": {
            q: int(np.percentile(lengths, p)) for q, p in (("p50", 50), ("p99", 99))
        }
        | {"max": int(lengths.max())}
    }
    w = bert_weights()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(second_stage.model_path()), options, providers=["CPUExecutionProvider"]
    )
    hidden = "onnx::Shape_422"  # the last layer's token vectors
    diff = 0.0
    for t in ids[:20]:
        feed = {"input_ids": t[None, :], "attention_mask": np.ones((1, len(t)), np.int64)}
        reference = session.run([hidden], feed)[0][0].mean(0)
        diff = max(diff, float(np.abs(bert_forward(w, t) - reference).max()))
    found["numpy_vs_onnxruntime_max_abs_diff"] = round(diff, 5)
    for layers in (3, 1):

        def forward(t: Any, n: int = layers) -> Any:
            return bert_forward(w, t, n)

        found[f"numpy_{layers}_layers"] = timed(forward, ids)
    found["onnxruntime_1_thread_3_layers"] = timed(
        lambda t: session.run(
            [hidden], {"input_ids": t[None, :], "attention_mask": np.ones((1, len(t)), np.int64)}
        ),
        ids,
    )
    return found


def _torch_bert(w: dict[str, Any], layers: int) -> Any:
    """The sentence model's first `layers` layers in torch (word piece vectors frozen), mean
    pooled, with a logistic head."""
    import torch
    from torch import nn

    def param(a: Any) -> Any:
        return nn.Parameter(torch.tensor(a, dtype=torch.float32))

    class Bert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding.from_pretrained(torch.tensor(w["emb"]), freeze=True)
            self.pos = param(w["pos"])
            self.g, self.c = param(w["g"]), param(w["c"])
            self.layers = nn.ModuleList()
            for p in w["layers"][:layers]:
                layer = nn.Module()
                for key, value in p.items():
                    setattr(layer, key, param(value))
                self.layers.append(layer)
            self.head = nn.Linear(384, 1)

        def forward(self, ids: Any, mask: Any) -> Any:
            n = ids.shape[1]
            ln = nn.functional.layer_norm
            x = ln(self.emb(ids) + self.pos[:n], (384,), self.g, self.c, 1e-12)
            bias = (1.0 - mask)[:, None, None, :] * -10000.0
            blocks: Any = self.layers
            for p in blocks:
                qkv = x @ p.qkv + p.bqkv
                q, k, v = (
                    qkv[:, :, j * 384 : (j + 1) * 384].reshape(-1, n, 12, 32).transpose(1, 2)
                    for j in range(3)
                )
                a = torch.softmax(q @ k.transpose(2, 3) / 32**0.5 + bias, -1)
                h = (a @ v).transpose(1, 2).reshape(-1, n, 384)
                x = ln(h @ p.o + p.bo + x, (384,), p.g1, p.c1, 1e-12)
                f = nn.functional.gelu(x @ p.i + p.bi, approximate="tanh")
                x = ln(f @ p.out + p.bout + x, (384,), p.g2, p.c2, 1e-12)
            pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)
            return self.head(pooled).squeeze(1)

    return Bert()


def bert_oof(data: Data, layers: int, seed: int, *, epochs: int = 4) -> Any:
    """Out-of-fold scores of the sentence model's first `layers` layers, fine-tuned."""
    import numpy as np
    import torch

    from bot.engine.safety.wordpiece import WordPiece

    torch.set_num_threads(1)
    w = bert_weights()
    vocab = WordPiece.load()
    cls, sep = vocab.ids["[CLS]"], vocab.ids["[SEP]"]
    full = [[cls, *p[:126], sep] for p in data.pieces]

    def batch(rows: Any) -> tuple[Any, Any]:
        ids = _batch([full[i] for i in rows], offset=0)
        mask = np.zeros(ids.shape, np.float32)
        for r, i in enumerate(rows):
            mask[r, : len(full[i])] = 1.0
        return torch.tensor(ids), torch.tensor(mask)

    scores = np.zeros(len(full))
    y = data.risk
    for k in range(int(data.fold.max()) + 1):
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = _torch_bert(w, layers)
        optimiser = torch.optim.AdamW(
            [
                {
                    "params": [p for n, p in net.named_parameters() if not n.startswith("head")],
                    "lr": 5e-5,
                },
                {"params": list(net.head.parameters()), "lr": 1e-3},
            ],
            weight_decay=0.01,
        )
        train = np.flatnonzero(data.fold != k)
        positives = float(y[train].sum())
        n = len(train)
        weights = np.where(y > 0, n / (2 * positives), n / (2 * (n - positives)))
        for _ in range(epochs):
            net.train()
            rng.shuffle(train)
            for start in range(0, n, 16):
                rows = train[start : start + 16]
                ids, mask = batch(rows)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    net(ids, mask),
                    torch.tensor(y[rows], dtype=torch.float32),
                    weight=torch.tensor(weights[rows], dtype=torch.float32),
                )
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        net.eval()
        test = np.flatnonzero(data.fold == k)
        with torch.no_grad():
            for start in range(0, len(test), 64):
                rows = test[start : start + 64]
                scores[rows] = net(*batch(rows)).numpy()
    return scores
