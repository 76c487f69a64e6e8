"""Evaluating trained models on labelled data (`assistant eval intent|ranker`)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.data import Dialogue, IntentExample, load_dialogues, load_intent_examples
from training.metrics import intent_metrics, ranking_metrics
from training.prepare import ranking_examples


def predict_labels(
    model_dir: str | Path, examples: list[IntentExample], threshold: float | None = None
) -> list[str]:
    """Predicted labels; `threshold` overrides the model's out-of-scope threshold."""
    from assistant.intent import IntentClassifier

    clf = IntentClassifier.load(model_dir)
    if threshold is not None:
        clf.threshold = threshold
    return [p.label for p in clf.predict([e.text for e in examples])]


def evaluate_intent(
    model_dir: str | Path,
    data: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    threshold: float | None = None,
) -> dict:
    """`{"accuracy", "macro_f1", "oos_recall", "oos_precision", "n"}` on a labelled file."""
    from kb.manifest import read_manifest

    manifest = read_manifest(model_dir, "intent")
    examples = load_intent_examples(data, text_column, label_column)
    pred = predict_labels(model_dir, examples, threshold)
    return intent_metrics([e.label for e in examples], pred, manifest.get("oos_label", "oos"))


@dataclass
class RankingTask:
    """One 1-of-N item: a context, the true reply and the distractors."""

    context: str
    reply: str
    distractors: list[str]


def ranking_tasks(
    dialogues: list[Dialogue], context_turns: int, n_candidates: int = 100, seed: int = 0
) -> list[RankingTask]:
    """The 1-of-100 protocol: every agent turn that follows a customer turn, its context (up to K
    previous turns), the true reply and 99 agent replies drawn with a fixed seed from other
    dialogues. Distractors with exactly the true reply's text are redrawn, so a generic reply
    shared by many dialogues is not counted as both right and wrong.
    """
    rng = random.Random(seed)
    pool: list[tuple[str, str]] = [
        (d.id, t.text) for d in dialogues for t in d.turns if t.role == "agent"
    ]
    # How many pool entries could stand beside each reply: none (a single dialogue, or one
    # reply text everywhere) would make the draw below loop forever, so such items are left out.
    per_dialogue = Counter(did for did, _ in pool)
    per_text = Counter(text for _, text in pool)
    per_pair = Counter(pool)
    tasks = []
    for ex in ranking_examples(dialogues, context_turns):
        eligible = (
            len(pool)
            - per_dialogue[ex.dialogue_id]
            - (per_text[ex.reply] - per_pair[(ex.dialogue_id, ex.reply)])
        )
        if eligible <= 0:
            continue
        distractors: list[str] = []
        while len(distractors) < n_candidates - 1:
            did, text = pool[rng.randrange(len(pool))]
            if did != ex.dialogue_id and text != ex.reply:
                distractors.append(text)
        tasks.append(RankingTask(ex.context, ex.reply, distractors))
    return tasks


def evaluate_ranker(
    model_dir: str | Path,
    data: str | Path,
    n_candidates: int = 100,
    seed: int = 0,
    max_examples: int | None = None,
) -> dict:
    """`{"recall_at_1", "recall_at_5", "mrr", "n"}` under the 1-of-`n_candidates` protocol."""
    from assistant.ranker import ResponseRanker

    ranker = ResponseRanker.load(model_dir)
    tasks = ranking_tasks(
        load_dialogues(data), ranker.context_turns, n_candidates=n_candidates, seed=seed
    )
    if max_examples is not None and len(tasks) > max_examples:
        tasks = random.Random(seed).sample(tasks, max_examples)
    return rank_tasks(ranker, tasks)


def task_scores(ranker, tasks: list[RankingTask], progress: bool = True) -> np.ndarray:
    """(n_tasks, n_candidates) scores; column 0 is the true reply, the rest its distractors."""
    replies = sorted({t.reply for t in tasks} | {d for t in tasks for d in t.distractors})
    r_index = {r: i for i, r in enumerate(replies)}
    r_emb = ranker.encode_replies(replies, progress=progress)
    c_emb = ranker.encode_contexts([t.context for t in tasks], progress=progress)
    return np.stack(
        [
            r_emb[[r_index[t.reply]] + [r_index[d] for d in t.distractors]] @ c_emb[i]
            for i, t in enumerate(tasks)
        ]
    )


def ranks_of(scores: np.ndarray) -> list[int]:
    """Rank of the true reply (column 0) in each row; ties count against it."""
    return [int(r) for r in (scores[:, 1:] >= scores[:, :1]).sum(axis=1) + 1]


def rank_tasks(ranker, tasks: list[RankingTask]) -> dict:
    """Rank every task's candidates with `ranker.encode_contexts` / `ranker.encode_replies`."""
    if not tasks:
        return ranking_metrics([])
    return ranking_metrics(ranks_of(task_scores(ranker, tasks)))
