"""Candidate (a) of bench/safety_model_experiments.py: a small convolutional network over the
second stage's word piece vectors, trained with PyTorch (installed by hand, not a project
dependency) and run at run time with numpy; its cost in time and memory. The results are in
that module's docstring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.safety_model_experiments import CACHE, ROOT, Data, load_data, static_vectors, timed

# --- candidate (a): a small network over the word piece vectors -----------------------------


@dataclass(frozen=True)
class NetConfig:
    dims: int = 64  # PCA dimensions of the word piece vectors
    kind: str = "cnn"  # "cnn": convolutions of widths 1-3, max-pooled; "attn": attention pooling
    filters: int = 64
    epochs: int = 25
    lr: float = 3e-3
    weight_decay: float = 1e-4
    dropout: float = 0.3
    #: Per word piece weights (as the table's own units), trained from zero.
    own: bool = True
    #: Fine-tune the word piece vectors too (pieces never seen in training stay as they were).
    tune_vectors: bool = False
    #: Add the table's own linear term: the vectors summed over the root of their number.
    linear: bool = False


def pca(vectors: Any, dims: int) -> Any:
    import numpy as np

    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ vt[:dims].T
    return reduced / float(np.sqrt((reduced**2).sum(axis=1).mean()))


def _torch_net(config: NetConfig, table: Any) -> Any:
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vectors = nn.Embedding.from_pretrained(
                torch.tensor(table, dtype=torch.float32),
                freeze=not config.tune_vectors,
                padding_idx=0,
            )
            self.own = nn.Embedding(table.shape[0], 1, padding_idx=0)
            nn.init.zeros_(self.own.weight)
            d, f = table.shape[1], config.filters
            if config.kind == "cnn":
                self.convs = nn.ModuleList(nn.Conv1d(d, f, k, padding=k - 1) for k in (1, 2, 3))
                width = 3 * f
            else:
                self.project = nn.Linear(d, f)
                self.attend = nn.Linear(f, 1)
                width = f
            self.drop = nn.Dropout(config.dropout)
            self.out = nn.Linear(width, 1)
            self.linear = nn.Linear(d, 1, bias=False)

        def forward(self, ids: Any) -> Any:
            mask = (ids > 0).float()
            count = mask.sum(1).clamp(min=1.0)
            x = self.vectors(ids)  # batch, length, d
            if config.kind == "cnn":
                xt = x.transpose(1, 2)
                pooled = []
                for conv in self.convs:
                    h = torch.relu(conv(xt))[:, :, : ids.shape[1]]
                    h = h.masked_fill(mask[:, None, :] == 0, 0.0)
                    pooled.append(h.max(2).values)
                z = torch.cat(pooled, 1)
            else:
                h = torch.tanh(self.project(x))
                a = self.attend(h).squeeze(2).masked_fill(mask == 0, -1e9)
                z = (torch.softmax(a, 1)[:, :, None] * h).sum(1)
            logit = self.out(self.drop(z)).squeeze(1)
            if config.own:
                logit = logit + (self.own(ids).squeeze(2) * mask).sum(1) / count.sqrt()
            if config.linear:
                logit = logit + self.linear(x.sum(1) / count.sqrt()[:, None]).squeeze(1)
            return logit

    return Net()


def _batch(pieces: Sequence[Sequence[int]], offset: int = 1) -> Any:
    """Word piece ids padded with 0 (ids shifted by `offset`, 0 being the padding)."""
    import numpy as np

    length = max(1, max(len(p) for p in pieces))
    out = np.zeros((len(pieces), length), dtype=np.int64)
    for row, ids in enumerate(pieces):
        out[row, : len(ids)] = np.asarray(ids, dtype=np.int64) + offset
    return out


def train_net(
    config: NetConfig, table: Any, pieces: Sequence[Sequence[int]], y: Any, seed: int
) -> Any:
    import numpy as np
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    padded_table = np.vstack([np.zeros((1, table.shape[1])), table])
    net = _torch_net(config, padded_table)
    params = [
        {
            "params": [
                p for n, p in net.named_parameters() if not n.startswith(("own", "vectors"))
            ],
            "weight_decay": config.weight_decay,
        },
        {"params": list(net.own.parameters()), "weight_decay": 0.0},
    ]
    if config.tune_vectors:
        params.append({"params": list(net.vectors.parameters()), "weight_decay": 0.0})
    optimiser = torch.optim.AdamW(params, lr=config.lr)
    positives = float(y.sum())
    n = len(y)
    weights = np.where(y > 0, n / (2 * positives), n / (2 * (n - positives)))
    order = np.arange(n)
    for _ in range(config.epochs):
        net.train()
        rng.shuffle(order)
        for start in range(0, n, 32):
            rows = order[start : start + 32]
            ids = torch.tensor(_batch([pieces[i] for i in rows]))
            target = torch.tensor(y[rows], dtype=torch.float32)
            weight = torch.tensor(weights[rows], dtype=torch.float32)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(ids), target, weight=weight
            )
            # The own weights: an L2 penalty as the table's regularisation.
            loss = loss + 1e-3 * (net.own.weight**2).sum() / n * 32
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    net.eval()
    return net


def net_scores(net: Any, pieces: Sequence[Sequence[int]]) -> Any:
    import numpy as np
    import torch

    out = []
    with torch.no_grad():
        for start in range(0, len(pieces), 256):
            chunk = pieces[start : start + 256]
            out.append(net(torch.tensor(_batch(chunk))).numpy())
    return np.concatenate(out).astype(np.float64)


def cnn_oof(data: Data, table: Any, config: NetConfig, seed: int) -> Any:
    import numpy as np

    scores = np.zeros(len(data.messages))
    for k in range(int(data.fold.max()) + 1):
        train = np.flatnonzero(data.fold != k)
        test = np.flatnonzero(data.fold == k)
        net = train_net(config, table, [data.pieces[i] for i in train], data.risk[train], seed)
        scores[test] = net_scores(net, [data.pieces[i] for i in test])
    return scores


CANDIDATES: dict[str, NetConfig] = {
    "cnn64": NetConfig(dims=64, kind="cnn"),
    "cnn128": NetConfig(dims=128, kind="cnn"),
    "attn64": NetConfig(dims=64, kind="attn"),
    "attn128": NetConfig(dims=128, kind="attn"),
    "cnn64-tuned": NetConfig(dims=64, kind="cnn", tune_vectors=True),
    "cnn128-noown": NetConfig(dims=128, kind="cnn", own=False),
    "cnn128-linear": NetConfig(dims=128, kind="cnn", linear=True),
}


def export_net(net: Any, config: NetConfig, path: Path, *, threshold: float = 0.0) -> None:
    """The trained network as arrays a numpy forward pass reads (word piece vectors as
    float16, the rest float32)."""
    import numpy as np

    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    arrays: dict[str, Any] = {
        "vectors": state["vectors.weight"][1:].astype(np.float16),
        "own": state["own.weight"][1:, 0].astype(np.float32) if config.own else np.zeros(0),
        "out_w": state["out.weight"][0].astype(np.float32),
        "out_b": state["out.bias"].astype(np.float32),
        "linear": state["linear.weight"][0].astype(np.float32) if config.linear else np.zeros(0),
        "threshold": np.array([threshold], np.float32),
    }
    for index in range(3):
        arrays[f"conv{index}_w"] = state[f"convs.{index}.weight"].astype(np.float32)
        arrays[f"conv{index}_b"] = state[f"convs.{index}.bias"].astype(np.float32)
    np.savez(path, **arrays)


class NumpyCnn:
    """The CNN candidate's forward pass in numpy alone (what the bot would run)."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        with np.load(path) as data:
            self.vectors = data["vectors"]
            self.own = data["own"]
            self.linear = data["linear"]
            self.out_w, self.out_b = data["out_w"], float(data["out_b"][0])
            # Each width's kernel as (k, d, filters): output t reads inputs t-k+1 .. t.
            self.convs = [
                (np.ascontiguousarray(data[f"conv{i}_w"].transpose(2, 1, 0)), data[f"conv{i}_b"])
                for i in range(3)
            ]
            self.threshold = float(data["threshold"][0])

    def logit(self, ids: Sequence[int]) -> float:
        import numpy as np

        n = len(ids)
        if n == 0:
            return self.out_b  # every pooled filter is 0, as in the torch model
        x = self.vectors[list(ids)].astype(np.float32)
        pooled = []
        for kernel, bias in self.convs:
            k = kernel.shape[0]
            padded = np.vstack([np.zeros((k - 1, x.shape[1]), np.float32), x]) if k > 1 else x
            h = bias + padded[0:n] @ kernel[0]
            for j in range(1, k):
                h += padded[j : j + n] @ kernel[j]
            pooled.append(np.maximum(h, 0.0).max(axis=0))
        z = float(self.out_w @ np.concatenate(pooled)) + self.out_b
        root = float(np.sqrt(n))
        if self.own.size:
            z += float(self.own[list(ids)].sum()) / root
        if self.linear.size:
            z += float(self.linear @ x.sum(axis=0)) / root
        return z


_MEMORY_PROBE = """
import json, sys
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
from bot.engine.safety.wordpiece import WordPiece
vocab = WordPiece.load()
texts = json.loads(sys.argv[2])
pieces = [vocab.encode(t)[1:-1] for t in texts]
before = rss()
from bench.safety_model_cnn import NumpyCnn
model = NumpyCnn(__import__("pathlib").Path(sys.argv[1]))
for ids in pieces:
    model.logit(ids)
print(json.dumps({"before": before, "after": rss()}))
"""


def cost(config_name: str, seed: int = 1) -> dict[str, Any]:
    """Train the candidate on the whole split, export it, then time the numpy forward pass
    (and the word pieces before it) and measure the memory it adds to a fresh process."""
    import torch

    from bot.engine.safety.wordpiece import WordPiece

    torch.set_num_threads(1)
    config = CANDIDATES[config_name]
    data = load_data()
    table = pca(static_vectors(), config.dims)
    net = train_net(config, table, data.pieces, data.risk, seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{config_name}.npz"
    export_net(net, config, path)
    model = NumpyCnn(path)
    reference = net_scores(net, data.pieces[:200])
    diff = max(
        abs(model.logit(p) - float(r)) for p, r in zip(data.pieces[:200], reference, strict=True)
    )
    vocab = WordPiece.load()
    texts = [m.text for m in data.messages]
    found: dict[str, Any] = {
        "weights_file_bytes": path.stat().st_size,
        "numpy_vs_torch_max_abs_logit_diff": round(diff, 5),
        "forward_ms": timed(model.logit, data.pieces),
        "word_pieces_and_forward_ms": timed(lambda t: model.logit(vocab.encode(t)[1:-1]), texts),
        "word_pieces_alone_ms": timed(lambda t: vocab.encode(t)[1:-1], texts),
    }
    probe = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path), json.dumps(texts[:100])],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    memory = json.loads(probe.stdout)
    found["memory_mb_numpy_and_weights"] = round(memory["after"] - memory["before"], 1)
    return found
