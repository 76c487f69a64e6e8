"""Evaluating trained models on labelled data (`assistant eval intent|ranker`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

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
    from assistant.manifest import read_manifest

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
    tasks = []
    for ex in ranking_examples(dialogues, context_turns):
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


def rank_tasks(ranker, tasks: list[RankingTask]) -> dict:
    """Rank every task's candidates with `ranker.encode_contexts` / `ranker.encode_replies`."""
    if not tasks:
        return ranking_metrics([])
    replies = sorted({t.reply for t in tasks} | {d for t in tasks for d in t.distractors})
    r_index = {r: i for i, r in enumerate(replies)}
    r_emb = ranker.encode_replies(replies, progress=True)
    c_emb = ranker.encode_contexts([t.context for t in tasks], progress=True)
    ranks = []
    for i, t in enumerate(tasks):
        cand = [r_index[t.reply]] + [r_index[d] for d in t.distractors]
        scores = r_emb[cand] @ c_emb[i]
        # Rank of the true reply (index 0); ties count against it.
        ranks.append(int((scores[1:] >= scores[0]).sum()) + 1)
    return ranking_metrics(ranks)
