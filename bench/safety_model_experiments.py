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


def timed(fn: Callable[[Any], Any], inputs: Sequence[Any], rounds: int = 2) -> dict[str, float]:
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


def run_cv(only: Sequence[str], seeds: Sequence[int]) -> dict[str, Any]:
    import numpy as np
    import torch

    from bench.safety_model_bert import bert_oof
    from bench.safety_model_cnn import CANDIDATES, cnn_oof, pca

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


def main(argv: list[str] | None = None) -> int:
    from bench.safety_model_bert import bert_timing
    from bench.safety_model_cnn import CANDIDATES, cost

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
