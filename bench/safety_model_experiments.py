"""Could a second stage that needs numpy at run time catch clearly more risk than the table of
word piece scores (bot/engine/safety/second_stage.json) at the same false-alarm cost?
Measured below: no, not by enough to earn it on the training split. Nothing here is used at
run time.

    python -m bench.safety_model_experiments cv              # the candidates, cross-validated
    python -m bench.safety_model_experiments cv --only table cnn128 --seeds 1 2 3
    python -m bench.safety_model_experiments cost            # time and memory of the numpy CNN
    python -m bench.safety_model_experiments bert-timing     # the sentence model's forward pass

Needs the `model` extra, PyTorch (CPU) to train the networks, and the `onnx` package for the
`bert*` candidates and `bert-timing` (to read the sentence model's weights); none of them is a
dependency of the project. Only `tests/engine/safety_corpus/train.yaml` is read. The word piece
vectors of step 1 of bench/safety_head.py are cached in the system's temporary directory.
Single-threaded (torch.set_num_threads(1), BLAS threads 1).

How each candidate is measured, the same way for all: the grouped five folds of
bench/safety_head.py (`folds`), an out-of-fold score for each training message, then

- head alone: the share of risk messages scored over a threshold that lets a check-in through
  for 4% / 6% of the ordinary messages (set, as bench/safety_head.py sets it, on the ordinary
  messages the rules leave alone);
- rules + model (the figure that matters): a risk message counts if the rules already give the
  crisis card or the check-in, or if the stage may read it (the rules found nothing or only
  someone else at risk, and it has `MIN_WORDS` words or more) and its score is over a threshold
  at which the stage adds a check-in to at most 4% / 6% of all the ordinary messages (measured:
  3.9% / 6.0% for every candidate).

The candidates:

- table: the shipped head, rebuilt fold by fold by bench/safety_head.py's own code (C chosen as
  it chooses it); deterministic.
- cnnD: the word piece vectors reduced by PCA (over the whole vocabulary, no labels) to D
  dimensions and kept frozen; convolutions of widths 1, 2 and 3 (64 filters each), max-pooled,
  dropout 0.3, a logistic output; plus a weight per word piece trained from zero (as the table's
  own units), summed over the root of the number of pieces. AdamW, 25 epochs, batch 32, classes
  weighted to balance. "-tuned": the vectors fine-tuned too; "-noown": without the per-piece
  weights; "-linear": with the table's linear term over the vectors as well.
- attnD: attention pooling (a tanh projection to 64, one attention score per piece) instead of
  the convolutions.
- bertN: paraphrase-MiniLM-L3-v2's first N layers, rebuilt in torch from the ONNX file's
  weights (word piece embeddings frozen, the rest fine-tuned), mean-pooled, a logistic head;
  AdamW 5e-5 (head 1e-3), 4 epochs, batch 16.

Results (2 December 2026; seeds 1 and 2 for the networks, seed 3 as well for cnn128; bert3 one
seed, for its cost), in percent of the 985 risk messages of the training split. The rules alone
find 96.5% of them (951): they were written on this split, so rules + model can add at most
3.5 points (34 messages) here, and one message is 0.1 point.

    candidate       head alone             rules + model          messages the model adds
                    4%         6%          4%         6%          to the rules, 4% / 6%
    table           65.2       71.4        97.8       97.9        12 / 13
    cnn64           64.4±1.8   72.1±1.2    97.7       98.0        11-12 / 14-15
    cnn128          66.2±0.7   76.7±1.3    97.8       98.4        12-13 / 18 (3 seeds)
    cnn128-linear   67.3±0.5   76.5±0.6    97.8       98.3        12 / 15-19
    cnn128-noown    65.8±0.3   75.7±0.5    97.9       98.4        13 / 18
    cnn64-tuned     63.8±0.8   69.8±0.8    97.8       98.0        11-13 / 14-15
    attn64          44.3±0.8   52.7±0.4    97.1       97.4        5-6 / 8
    attn128         50.1±1.2   63.5±1.4    97.4       97.8        8-9 / 12-13
    bert1           58.1±0.9   65.9±0.2    97.3       97.6        7-8 / 9-12
    bert3           67.3       77.2        98.3       98.7        17 / 21

(± is half the spread between seeds.) At the cost the screen ships with (4%) the CNN adds the
same 12-13 messages to the rules as the table; at 6% it adds 5 more (0.5 point) and the
fine-tuned sentence model 8 more (0.8 point). Head alone, the CNN gains about 1 point over the
table at 4% (within the seeds' spread) and about 5 at 6%.

Cost, measured on this machine (2 shared cores, AMD EPYC, one thread; p50 / p99 per training
message, `cost` and `bert-timing`):

    cnn128 forward pass in numpy               0.08 / 0.20 ms (word pieces too: 0.13 / 0.30)
    cnn128 memory: numpy imported + weights    21.9 MB RSS; weights file 8.1 MB (.npz,
                                               vectors float16)
    sentence model, 3 layers, numpy            9.5 / 17.8 ms  (numpy vs onnxruntime: 6e-4)
    sentence model, 1 layer, numpy             2.8 / 5.8 ms
    sentence model, 3 layers, onnxruntime      2.0 / 4.2 ms  (1 thread); importing it and
                                               loading the 69 MB file adds 126 MB RSS
    word pieces per message (with [CLS] [SEP]) 20 / 54, at most 79

The rules already take about 2.2 ms p99, leaving about 2.5 ms p99 for a model: the sentence
model does not fit in numpy even cut to one layer (5.8 ms p99), and in onnxruntime its three
layers take 4.2 ms p99 and 126 MB, over both the time and the memory aims; cut to one layer it
also found less than the table. The CNN fits easily (0.2 ms p99, 22 MB) but does not earn a
new run-time dependency: it adds nothing at 4% and 5 messages at 6%, far from the 3 points
asked of it (which the training split cannot show in any case: only 3.5 points are left).

Limits: the rules were written on this split, so "rules + model" here overstates the rules and
understates what a model could add on messages the rules never saw (on the held-out split the
rules with the table find 91.8%); head alone is the better guide to a model's reach, and there
the CNN's gain at 6% (about 5 points) is the one signal worth re-measuring when the corpus
grows. Few seeds; the settings were not tuned (one setting each, chosen before the runs), and
the thresholds are set on the same out-of-fold scores they are measured on, as in
bench/safety_head.py. The `others` head (the gentle card) was not compared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.safety_screen import SPLITS, Message, load_messages

CACHE = Path(tempfile.gettempdir()) / "reflect-safety-experiments"
BUDGETS = (0.04, 0.06)
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Data:
    messages: list[Message]
    pieces: list[list[int]]
    risk: Any  # 1.0 for a risk message
    fold: Any
    #: The rules' outcome for each message ("crisis", "check_in", "others" or "none").
    rules: list[str]
    #: The stage may read the message (rules found nothing or only others; enough words).
    readable: Any


def load_data() -> Data:
    import numpy as np

    from bench.safety_head import folds
    from bot.engine.safety import screen as rules_screen
    from bot.engine.safety.second_stage import MIN_WORDS
    from bot.engine.safety.wordpiece import WordPiece

    vocab = WordPiece.load()
    messages = load_messages(SPLITS["train"])
    pieces = [vocab.encode(m.text)[1:-1] for m in messages]
    rules: list[str] = []
    for m in messages:
        concern = rules_screen(m.text)
        rules.append(concern.outcome if concern is not None else "none")
    readable = np.array(
        [
            r in {"none", "others"} and len(m.text.split()) >= MIN_WORDS
            for r, m in zip(rules, messages, strict=True)
        ]
    )
    return Data(
        messages,
        pieces,
        np.array([1.0 if m.label == "risk" else 0.0 for m in messages]),
        np.array(folds(messages)),
        rules,
        readable,
    )


def static_vectors() -> Any:
    """The word piece vectors of bench/safety_head.py, centred and scaled as it does them."""
    import numpy as np

    from bench.safety_head import piece_vectors

    path = CACHE / "piece_vectors.npy"
    if path.exists():
        vectors = np.load(path).astype(np.float64)
    else:
        vectors = piece_vectors()
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors.astype(np.float32))
    vectors -= vectors.mean(axis=0)
    vectors /= float(np.sqrt((vectors**2).sum(axis=1).mean()))
    return vectors


def evaluate(scores: Any, data: Data) -> dict[str, float]:
    """Head-alone and rules + model recall at each budget, from out-of-fold scores."""
    import numpy as np

    from bench.safety_head import threshold

    ordinary = np.array([m.label == "ordinary" for m in data.messages])
    alone = np.array([r == "none" for r in data.rules])
    caught_by_rules = np.array([r in {"crisis", "check_in"} for r in data.rules])
    risk = data.risk > 0
    found: dict[str, float] = {}
    for budget in BUDGETS:
        tag = f"{round(budget * 100)}"
        cut = threshold(
            [float(s) for s in scores[ordinary & alone]],
            ordinary=int(ordinary.sum()),
            budget=budget,
        )
        found[f"alone@{tag}"] = float((scores[risk] >= cut).mean())
        cut = threshold(
            [float(s) for s in scores[ordinary & data.readable]],
            ordinary=int(ordinary.sum()),
            budget=budget,
        )
        flagged = data.readable & (scores >= cut)
        found[f"rules+@{tag}"] = float((caught_by_rules | flagged)[risk].mean())
        found[f"added@{tag}"] = float(flagged[ordinary].mean())
    found["rules_only"] = float(caught_by_rules[risk].mean())
    return found


# --- the shipped table ----------------------------------------------------------------------


def table_scores(data: Data, vectors: Any) -> Any:
    """Out-of-fold scores of the shipped head (bench/safety_head.py, C chosen as it chooses)."""
    import numpy as np

    from bench.safety_head import BUDGET, _head, features, own_pieces

    own = own_pieces(data.pieces)
    x = features(vectors, data.pieces, own)
    alone = [r == "none" for r in data.rules]
    _, _, cv = _head(
        x,
        x @ x.T,
        data.risk,
        data.fold,
        allowed_on=[i for i, m in enumerate(data.messages) if m.label == "ordinary" and alone[i]],
        of=sum(m.label == "ordinary" for m in data.messages),
        budget=BUDGET,
    )
    return np.asarray(cv)


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


def run_cv(only: Sequence[str], seeds: Sequence[int]) -> dict[str, Any]:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    data = load_data()
    vectors = static_vectors()
    results: dict[str, Any] = {}
    tables: dict[int, Any] = {}
    for name in only:
        started = time.process_time()
        if name == "table":
            runs = [evaluate(table_scores(data, vectors), data)]
        elif name.startswith("bert"):  # bert1, bert3: that many layers, fine-tuned
            runs = [evaluate(bert_oof(data, int(name[4:]), s), data) for s in seeds]
        else:
            config = CANDIDATES[name]
            if config.dims not in tables:
                tables[config.dims] = pca(vectors, config.dims)
            runs = [evaluate(cnn_oof(data, tables[config.dims], config, s), data) for s in seeds]
        summary: dict[str, Any] = {
            key: {
                "mean": round(float(np.mean([r[key] for r in runs])), 4),
                "runs": [round(r[key], 4) for r in runs],
            }
            for key in runs[0]
        }
        summary["cpu_seconds"] = round(time.process_time() - started, 1)
        results[name] = summary
        print(name, json.dumps(summary), flush=True)
    return results


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
from bench.safety_model_experiments import NumpyCnn
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
        "forward_ms": _timed(model.logit, data.pieces),
        "word_pieces_and_forward_ms": _timed(lambda t: model.logit(vocab.encode(t)[1:-1]), texts),
        "word_pieces_alone_ms": _timed(lambda t: vocab.encode(t)[1:-1], texts),
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


def _timed(fn: Callable[[Any], Any], inputs: Sequence[Any], rounds: int = 2) -> dict[str, float]:
    import numpy as np

    for item in inputs[:50]:
        fn(item)
    wall, cpu = [], []
    for _ in range(rounds):
        for item in inputs:
            w0, c0 = time.perf_counter(), time.thread_time()
            fn(item)
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - w0)
    ms = {"cpu": np.array(cpu) * 1000, "wall": np.array(wall) * 1000}
    return {
        f"{k}_{q}": round(float(np.percentile(v, p)), 3)
        for k, v in ms.items()
        for q, p in (("p50", 50), ("p99", 99))
    }


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

        found[f"numpy_{layers}_layers"] = _timed(forward, ids)
    found["onnxruntime_1_thread_3_layers"] = _timed(
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.safety_model_experiments")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("bert-timing")
    costs = sub.add_parser("cost")
    costs.add_argument("--candidate", default="cnn128")
    cv = sub.add_parser("cv")
    cv.add_argument("--only", nargs="+", default=["table", *CANDIDATES])
    cv.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    args = parser.parse_args(argv)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    if args.command == "bert-timing":
        print(json.dumps(bert_timing(), indent=1))
    elif args.command == "cost":
        print(json.dumps(cost(args.candidate), indent=1))
    elif args.command == "cv":
        print(json.dumps(run_cv(args.only, args.seeds), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
