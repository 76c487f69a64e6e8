"""Retraining from the conversation log, behind the gate (`assistant retrain`).

The recipe, in order:
  1. versions   the models directory (one of the older shape becomes version 1) and its
                current version
  2. base data  the training-data snapshot kept with the current version (`data/`), plus
                `--data` (required the first time: a migrated version has no snapshot)
  3. exam       the frozen evaluation set: `--eval`, else the one frozen with the first
                retraining (`MODELS/eval/`), else a stratified share of the base data, frozen
                then; the log never adds to it
  4. log data   agents' corrections and confirmations; a prediction only at `min_confidence`
                or above and when its reply was not rated bad (off by default: measured in
                docs/benchmarks.md: they cost out-of-scope recall); the bot's own messages
                are never agent replies
  5. merge      an agent's label wins over the base data's label for the same text; any text
                of the evaluation set is left out of training
  6. candidate  a new intent model; a new ranker when people wrote new replies (else the
                current ranker, hard-linked)
  7. scores     current and candidate on the same evaluation set: accuracy, macro-F1,
                out-of-scope recall, per-intent F1, ranker Recall@1
  8. gate       `training.gate`; promoted when it passes (or with `force`, recorded), else the
                current stays and the reasons name the regressed intents and the corrections
                that pulled them there

Every candidate is kept as a version (`assistant models list`), promoted or not.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from assistant.errors import ConfigError, DataError
from assistant.versions import ModelStore, link_tree, utc_now
from training.data import (
    Dialogue,
    IntentExample,
    Turn,
    fingerprint,
    intent_examples_from_dialogues,
    load_dialogues,
    load_intent_examples,
)
from training.gate import GateConfig, Verdict, judge
from training.metrics import intent_metrics, per_intent_report, ranking_metrics

SETTINGS_FILE = "retrain.json"  # overrides in the models directory (RetrainConfig fields)
BASE_INTENTS = "base_intents.csv"
BASE_DIALOGUES = "base_dialogues.jsonl"


@dataclass
class RetrainConfig:
    models: str  # the models directory (versioned, or of the older shape)
    db: str | None = None  # the conversation log; None: learn from the base data only
    data: list[str] = field(default_factory=list)  # base data files (CSV / dialogues JSONL)
    eval: str | None = None  # evaluation file; None: the frozen one (or freeze one)
    force: bool = False  # promote whatever the gate says (recorded)
    # A prediction becomes a label only at this confidence (and when its reply was not rated
    # bad); None: never. Off by default: on the loop benchmark (docs/benchmarks.md, "The
    # learning loop") predictions >= 0.5 added 2.5 points of in-scope accuracy but halved
    # out-of-scope recall, and none reached 0.9.
    min_confidence: float | None = None
    eval_fraction: float = 0.2  # share of the base data frozen as the exam when none exists
    epochs: int | None = None  # intent fine-tuning epochs; None: the current model's setting
    ranker_epochs: int | None = None  # ranker epochs; None: the current ranker's setting
    ranker_max_pairs: int | None = None  # ranker pairs per epoch; None: the current's setting
    min_new_replies: int = 1  # replies people wrote that make a new ranker worth training
    seed: int = 0  # seeds splits and training
    base_model: str | None = None  # encoder to start from; None: the current models' own
    gate: GateConfig = field(default_factory=GateConfig)  # the promotion rules

    def __post_init__(self) -> None:
        if isinstance(self.gate, dict):
            self.gate = GateConfig(**self.gate)
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise ConfigError(
                f"min_confidence must be in [0, 1] or null, got {self.min_confidence}"
            )
        if not 0.0 < self.eval_fraction < 0.5:
            raise ConfigError(f"eval_fraction must be in (0, 0.5), got {self.eval_fraction}")
        if self.min_new_replies < 1:
            raise ConfigError(f"min_new_replies must be >= 1, got {self.min_new_replies}")


def read_settings(models: str | Path) -> dict:
    """Overrides from `MODELS/retrain.json` ({"min_confidence": 0.9, "gate": {...}}, ...)."""
    path = Path(models) / SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}). Fix or remove it.") from None
    known = {f.name for f in fields(RetrainConfig)} - {"models", "db", "data", "eval", "force"}
    if not isinstance(data, dict) or set(data) - known:
        bad = sorted(set(data) - known) if isinstance(data, dict) else data
        raise ConfigError(f"{path}: unknown setting(s) {bad}; known: {sorted(known)}.")
    if isinstance(data.get("gate"), dict):
        gate_known = {f.name for f in fields(GateConfig)}
        if set(data["gate"]) - gate_known:
            raise ConfigError(
                f"{path}: unknown gate setting(s) {sorted(set(data['gate']) - gate_known)}; "
                f"known: {sorted(gate_known)}."
            )
    return data


@dataclass
class RetrainResult:
    """What `assistant retrain --json` prints (`to_json`), and the detail behind it."""

    promoted: bool
    version: str | None  # the candidate's version id (None: nothing was trained)
    current: str  # the current version after this run
    reasons: list[str]
    metrics: dict  # {"current": {...}, "candidate": {...}}
    per_intent: list[dict]  # [{"intent", "n", "f1_current", "f1_candidate"}]
    culprits: dict = field(default_factory=dict)  # regressed intent -> corrections
    data: dict = field(default_factory=dict)  # counts of what was learnt from

    def to_json(self) -> dict:
        return {
            "promoted": self.promoted,
            "version": self.version,
            "current": self.current,
            "reasons": self.reasons,
            "metrics": self.metrics,
            "per_intent": self.per_intent,
        }


def norm(text: str) -> str:
    """Texts compared case- and space-insensitively (as `training.data.find_conflicts`).

    >>> norm("  Where IS  my order ")
    'where is my order'
    """
    return " ".join(text.lower().split())


# -- data ----------------------------------------------------------------------------------------
@dataclass
class BaseData:
    intents: list[IntentExample]
    dialogues: list[Dialogue]
    sources: list[str]


def read_base(version_dir: Path, extra: list[str]) -> BaseData:
    """The snapshot kept with a version plus `extra` files (CSV: intents; JSONL: dialogues)."""
    intents: list[IntentExample] = []
    dialogues: list[Dialogue] = []
    sources: list[str] = []
    snap = version_dir / "data"
    if (snap / BASE_INTENTS).is_file():
        intents += load_intent_examples(snap / BASE_INTENTS)
        sources.append(f"snapshot of version {version_dir.name}")
    if (snap / BASE_DIALOGUES).is_file():
        dialogues += load_dialogues(snap / BASE_DIALOGUES)
    for path in extra:
        p = Path(path)
        if p.suffix.lower() in (".jsonl", ".json"):
            d = load_dialogues(p)
            dialogues += d
            intents += intent_examples_from_dialogues(d, source=str(p))
        else:
            intents += load_intent_examples(p)
        sources.append(str(p))
    return BaseData(intents, dialogues, sources)


def write_intents(path: Path, examples: list[IntentExample]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows((e.text, e.label) for e in examples)


def write_dialogues(path: Path, dialogues: list[Dialogue]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for d in dialogues:
            turns = [
                {"role": t.role, "text": t.text, **({"intent": t.intent} if t.intent else {})}
                for t in d.turns
            ]
            fh.write(json.dumps({"id": d.id, "turns": turns, **d.metadata}) + "\n")


def _dialogues_from_log(rows: list[dict]) -> list[Dialogue]:
    return [
        Dialogue(
            f"log:{r['id']}",
            [Turn(t["role"], t["text"], t.get("intent")) for t in r["turns"]],
        )
        for r in rows
    ]


@dataclass
class Exam:
    """The frozen evaluation set."""

    intents: list[IntentExample]
    dialogues: list[Dialogue]
    source: str
    fingerprint: str
    note: str = ""  # said in the reasons (e.g. the current may have seen it)


def frozen_exam(
    store: ModelStore, cfg: RetrainConfig, base: BaseData, say: Callable[[str], None]
) -> tuple[Exam, BaseData]:
    """The evaluation set, and the base data without it (see the module doc, step 3)."""
    from training.split import split_dialogues, split_examples

    if cfg.eval:
        p = Path(cfg.eval)
        dialogues = load_dialogues(p) if p.suffix.lower() in (".jsonl", ".json") else []
        intents = load_intent_examples(p)
        frozen = store.eval_dir
        if not frozen.is_dir():
            _freeze(store, intents, dialogues, str(p))
            say(f"exam: {p} ({len(intents)} examples), frozen in {frozen}")
        else:
            say(f"exam: {p} ({len(intents)} examples; the frozen one in {frozen} is not used)")
        return Exam(intents, dialogues, str(p), fingerprint(p)), base
    frozen = store.eval_dir
    if frozen.is_dir():
        info = json.loads((frozen / "info.json").read_text(encoding="utf-8"))
        intents = load_intent_examples(frozen / "eval_intents.csv")
        dialogues = (
            load_dialogues(frozen / "eval_dialogues.jsonl")
            if (frozen / "eval_dialogues.jsonl").is_file()
            else []
        )
        say(f"exam: the frozen evaluation set ({len(intents)} examples, {info.get('source')})")
        return Exam(intents, dialogues, str(frozen), info.get("fingerprint", "")), base
    # None yet: hold out a stratified share of the base data (dialogues stay whole).
    train_d, eval_d = (
        split_dialogues(base.dialogues, cfg.eval_fraction, cfg.seed) if base.dialogues else ([], [])
    )
    held = {d.id for d in eval_d}
    grouped = [e for e in base.intents if e.group]
    plain = [e for e in base.intents if not e.group]
    train_plain, eval_plain = split_examples(plain, cfg.eval_fraction, cfg.seed)
    eval_intents = [e for e in grouped if e.group in held] + eval_plain
    train_intents = [e for e in grouped if e.group not in held] + train_plain
    if not eval_intents:
        raise DataError(
            "no evaluation set: the base data is too small to hold any out; give --eval FILE "
            "(labelled examples the current and the new model are compared on)."
        )
    info = _freeze(store, eval_intents, eval_d, "held out of the base data")
    say(
        f"exam: {len(eval_intents)} examples held out of the base data and frozen in "
        f"{store.eval_dir} (every later retraining uses them)"
    )
    note = (
        "the evaluation set was held out of --data now; the current version may have been "
        "trained on it (give --eval with unseen examples for a fair comparison)"
    )
    exam = Exam(eval_intents, eval_d, str(store.eval_dir), info["fingerprint"], note)
    return exam, BaseData(train_intents, train_d, base.sources)


def _freeze(store: ModelStore, intents, dialogues, source: str) -> dict:
    """Write the evaluation set to MODELS/eval/ (whole, or not at all)."""
    import os

    tmp = store.path / f".eval-{os.getpid()}-{time.time_ns()}"
    tmp.mkdir(parents=True)
    try:
        write_intents(tmp / "eval_intents.csv", intents)
        if dialogues:
            write_dialogues(tmp / "eval_dialogues.jsonl", dialogues)
        info = {
            "source": source,
            "created": utc_now(),
            "n": len(intents),
            "fingerprint": fingerprint(tmp / "eval_intents.csv"),
        }
        (tmp / "info.json").write_text(json.dumps(info, indent=2))
        os.rename(tmp, store.eval_dir)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not store.eval_dir.is_dir():
            raise
        info = json.loads((store.eval_dir / "info.json").read_text())  # another run froze one
    return info


def merge(
    base: list[IntentExample], labels: list, exam_texts: set[str]
) -> tuple[list[IntentExample], dict]:
    """Training examples: the base data, with agents' labels winning over it for the same text,
    predictions adding only texts the base data lacks, and no text of the exam.

    >>> from types import SimpleNamespace as L
    >>> base = [IntentExample("hi", "greet"), IntentExample("bye", "greet")]
    >>> log = [L(text="Bye", label="goodbye", origin="correct", turn_id="t1")]
    >>> [(e.text, e.label) for e in merge(base, log, set())[0]]
    [('hi', 'greet'), ('Bye', 'goodbye')]
    """
    agent: dict[str, object] = {}
    predicted: dict[str, object] = {}
    for lab in labels:  # later ones win: the log is read in order
        (predicted if lab.origin == "predicted" else agent)[norm(lab.text)] = lab
    counts = Counter()
    out: list[IntentExample] = []
    seen: set[str] = set()
    for e in base:
        key = norm(e.text)
        if key in exam_texts:
            counts["left_out_exam_overlap"] += 1
            continue
        if key in agent:
            if agent[key].label != e.label:
                counts["base_overridden"] += 1
            continue
        if key in seen:
            continue
        seen.add(key)
        out.append(e)
    for key, lab in list(agent.items()) + list(predicted.items()):
        if key in exam_texts:
            counts["left_out_exam_overlap"] += 1
            continue
        if key in seen:
            continue
        seen.add(key)
        counts[f"log_{lab.origin}"] += 1
        out.append(IntentExample(lab.text, lab.label, source=f"log:{lab.turn_id}"))
    return out, dict(counts)


# -- scores ----------------------------------------------------------------------------------------
def score_intent(model_dir: Path, exam: Exam) -> tuple[dict, list[str]]:
    """Metrics of an intent model on the exam, and its predictions."""
    from kb.manifest import read_manifest
    from training.evaluate import predict_labels

    oos = read_manifest(model_dir, "intent").get("oos_label", "oos")
    pred = predict_labels(model_dir, exam.intents)
    return intent_metrics([e.label for e in exam.intents], pred, oos), pred


def score_ranker(model_dir: Path, exam: Exam, seed: int) -> dict:
    """1-of-100 Recall@1 etc. of a ranker on the exam's dialogues ({} without any)."""
    if not exam.dialogues:
        return {}
    from assistant.ranker import ResponseRanker
    from training.evaluate import rank_tasks, ranking_tasks

    ranker = ResponseRanker.load(model_dir)
    tasks = ranking_tasks(exam.dialogues, ranker.context_turns, seed=seed)
    return rank_tasks(ranker, tasks) if tasks else ranking_metrics([])


def per_intent_rows(gold: list[str], cur: list[str], cand: list[str]) -> list[dict]:
    """[{"intent", "n", "f1_current", "f1_candidate"}] for every label of the exam.

    >>> per_intent_rows(["a", "b"], ["a", "b"], ["a", "a"])[1]
    {'intent': 'b', 'n': 1, 'f1_current': 1.0, 'f1_candidate': 0.0}
    """
    n = Counter(gold)
    f_cur = {r["intent"]: r["f1"] for r in per_intent_report(gold, cur)}
    f_cand = {r["intent"]: r["f1"] for r in per_intent_report(gold, cand)}
    return [
        {
            "intent": lab,
            "n": n[lab],
            "f1_current": round(f_cur.get(lab, 0.0), 4),
            "f1_candidate": round(f_cand.get(lab, 0.0), 4),
        }
        for lab in sorted(n)
    ]


def culprits(
    regressed: list[dict],
    exam: Exam,
    cur: list[str],
    cand: list[str],
    labels: list,
    top: int = 5,
) -> dict[str, list[dict]]:
    """For each regressed intent, the agents' labels most likely to have pulled it: those
    naming the intent or the label its examples are now mistaken for (or mistaken from),
    nearest first (TF-IDF of the exam examples the candidate newly gets wrong)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    agent_labels = [lab for lab in labels if lab.origin != "predicted"]
    if not regressed or not agent_labels:
        return {}
    gold = [e.label for e in exam.intents]
    texts = [e.text for e in exam.intents]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    vec.fit(texts + [lab.text for lab in agent_labels])
    lab_m = vec.transform([lab.text for lab in agent_labels])
    out: dict[str, list[dict]] = {}
    for row in regressed:
        r = row["intent"]
        newly = [
            i
            for i in range(len(gold))
            if (gold[i] == r or cand[i] == r) and cur[i] == gold[i] and cand[i] != gold[i]
        ]
        pulled_to = {cand[i] for i in newly if gold[i] == r} | {gold[i] for i in newly} | {r}
        pool = [j for j, lab in enumerate(agent_labels) if lab.label in pulled_to]
        if not pool:
            continue
        if newly:
            import numpy as np

            sims = (lab_m[pool] @ vec.transform([texts[i] for i in newly]).T).toarray()
            order = [int(k) for k in np.argsort(-sims.max(axis=1), kind="stable")]
        else:
            order = list(range(len(pool)))
        shown = [agent_labels[pool[k]] for k in order[:top]]
        out[r] = [
            {
                "turn_id": lab.turn_id,
                "correction_id": lab.correction_id,
                "text": lab.text,
                "label": lab.label,
                "predicted": lab.predicted,
                "agent": lab.agent,
                "kind": lab.origin,
                "of": len(pool),
            }
            for lab in shown
        ]
    return out


# -- the run -------------------------------------------------------------------------------------
def _intent_config(cur_dir: Path, cfg: RetrainConfig, data: Path, out: Path):
    from kb.manifest import read_manifest
    from training.intent import IntentTrainConfig

    old = read_manifest(cur_dir, "intent").get("config", {})
    keep = {f.name for f in fields(IntentTrainConfig)} - {"data", "out", "val", "base_model"}
    kwargs = {k: v for k, v in old.items() if k in keep}
    if cfg.epochs is not None:
        kwargs["epochs"] = cfg.epochs
    kwargs["seed"] = cfg.seed
    kwargs["text_column"], kwargs["label_column"] = "text", "label"
    base_model = cfg.base_model or old.get("base_model")
    if base_model and not Path(base_model).is_dir():
        base_model = None  # recorded where it no longer is: the bundled MiniLM
    return IntentTrainConfig(data=str(data), out=str(out), base_model=base_model, **kwargs)


def _ranker_config(cur_dir: Path, cfg: RetrainConfig, data: Path, out: Path):
    from kb.manifest import read_manifest
    from training.ranker import RankerTrainConfig

    old = read_manifest(cur_dir, "ranker").get("config", {})
    # `baseline` is not inherited: the demo skips validating its base model to start faster,
    # a retraining keeps the full selection
    keep = {f.name for f in fields(RankerTrainConfig)} - {"data", "out", "val", "base_model"}
    keep -= {"baseline"}
    kwargs = {k: v for k, v in old.items() if k in keep}
    if cfg.ranker_epochs is not None:
        kwargs["epochs"] = cfg.ranker_epochs
    if cfg.ranker_max_pairs is not None:
        kwargs["max_pairs"] = cfg.ranker_max_pairs
    kwargs["seed"] = cfg.seed
    base_model = cfg.base_model or old.get("base_model")
    if base_model and not Path(base_model).is_dir():
        base_model = None
    return RankerTrainConfig(data=str(data), out=str(out), base_model=base_model, **kwargs)


def _read_log(db: str | None, min_confidence: float | None):
    from assistant.log import ConversationLog
    from assistant.log.export import LogData, log_training_data

    if db is None:
        return LogData()
    if not Path(db).is_file():
        raise DataError(f"{db}: no conversation log there. Pass --db with the log to learn from.")
    with ConversationLog(db) as log:
        return log_training_data(log, min_confidence)


def retrain(cfg: RetrainConfig, log: Callable[[str], None] = print) -> RetrainResult:
    """Train a candidate from the log and the base data, judge it, promote it or not."""
    t0 = time.time()

    def say(message: str) -> None:
        log(f"[{time.time() - t0:5.0f}s] {message}")

    # 1. versions ---------------------------------------------------------------------------
    store = ModelStore(cfg.models)
    store.ensure()
    cur_id = store.current_id()
    cur_dir = store.resolve(cur_id).path
    say(f"current version: {cur_id} ({cur_dir})")

    # 2. base data --------------------------------------------------------------------------
    base = read_base(cur_dir, cfg.data)
    if not base.intents:
        raise DataError(
            f"version {cur_id} has no training-data snapshot (it was not made by `assistant "
            "retrain`): pass --data with the data it was trained on (an intent CSV or a "
            "dialogues JSONL; several --data are allowed)."
        )
    say(f"base data: {len(base.intents)} intent examples, {len(base.dialogues)} dialogues")

    # 3. the exam -----------------------------------------------------------------------------
    exam, base = frozen_exam(store, cfg, base, say)
    exam_texts = {norm(e.text) for e in exam.intents}

    # 4-5. log data, merged ---------------------------------------------------------------------
    log_data = _read_log(cfg.db, cfg.min_confidence)
    origins = Counter(lab.origin for lab in log_data.labels)
    new_replies = log_data.counts.get("agent_replies", 0)
    say(
        f"log: {origins.get('correct', 0)} corrections, {origins.get('confirm', 0)} "
        f"confirmations, {origins.get('predicted', 0)} predictions as labels "
        f"(min confidence {cfg.min_confidence}), {new_replies} replies written by people, "
        f"{log_data.counts.get('bot_messages', 0)} bot messages left out"
    )
    if (
        not cfg.force
        and not cfg.data
        and not log_data.labels
        and new_replies < cfg.min_new_replies
        and (cur_dir / "data" / BASE_INTENTS).is_file()
    ):
        return RetrainResult(
            False,
            None,
            cur_id,
            ["nothing new to learn from: no labelled turns and no new agent replies in the log"],
            {},
            [],
        )
    train_ex, merge_counts = merge(base.intents, log_data.labels, exam_texts)
    data_counts = {
        "base_intent_examples": len(base.intents),
        "base_dialogues": len(base.dialogues),
        "log_corrections": origins.get("correct", 0),
        "log_confirmations": origins.get("confirm", 0),
        "log_predictions": origins.get("predicted", 0),
        "new_agent_replies": new_replies,
        "train_examples": len(train_ex),
        "exam_examples": len(exam.intents),
        **merge_counts,
    }
    say(f"training set: {len(train_ex)} examples ({merge_counts})")

    tmp = store.new_version()
    try:
        return _train_and_judge(
            store, cfg, cur_id, cur_dir, tmp, base, exam, log_data, train_ex, data_counts, say
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _train_and_judge(
    store, cfg, cur_id, cur_dir, tmp, base, exam, log_data, train_ex, data_counts, say
) -> RetrainResult:
    from training.intent import train_intent
    from training.ranker import train_ranker

    started = time.time()
    snap = tmp / "data"
    write_intents(snap / BASE_INTENTS, base.intents)
    if base.dialogues:
        write_dialogues(snap / BASE_DIALOGUES, base.dialogues)
    write_intents(snap / "train_intents.csv", train_ex)
    with (snap / "log_labels.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["turn_id", "text", "label", "origin", "agent", "predicted", "confidence"])
        for lab in log_data.labels:
            w.writerow(
                [lab.turn_id, lab.text, lab.label, lab.origin, lab.agent, lab.predicted,
                 lab.confidence]
            )  # fmt: skip

    # 6. candidates ---------------------------------------------------------------------------
    say("training the candidate intent model")
    train_intent(_intent_config(cur_dir / "intent", cfg, snap / "train_intents.csv",
                                tmp / "intent"), log=say)  # fmt: skip
    ranker_retrained = False
    ranker_note = ""
    log_dialogues = _dialogues_from_log(log_data.dialogues)
    if data_counts["new_agent_replies"] >= cfg.min_new_replies and (
        base.dialogues or log_dialogues
    ):
        train_d = base.dialogues + log_dialogues
        write_dialogues(snap / "train_dialogues.jsonl", train_d)
        say(f"training a candidate ranker ({data_counts['new_agent_replies']} new agent replies)")
        try:
            train_ranker(_ranker_config(cur_dir / "ranker", cfg, snap / "train_dialogues.jsonl",
                                        tmp / "ranker"), log=say)  # fmt: skip
            ranker_retrained = True
        except DataError as exc:
            ranker_note = f"ranker kept: {exc}"
            say(ranker_note)
    if not ranker_retrained:
        if (tmp / "ranker").exists():
            shutil.rmtree(tmp / "ranker")
        link_tree(cur_dir / "ranker", tmp / "ranker")
        if not ranker_note:
            ranker_note = "ranker kept: no new replies written by people in the log"

    # 7. scores ---------------------------------------------------------------------------------
    say(f"scoring current and candidate on the exam ({len(exam.intents)} examples)")
    m_cur, p_cur = score_intent(cur_dir / "intent", exam)
    m_cand, p_cand = score_intent(tmp / "intent", exam)
    r_cur = score_ranker(cur_dir / "ranker", exam, cfg.seed)
    r_cand = score_ranker(tmp / "ranker", exam, cfg.seed) if ranker_retrained else r_cur
    m_cur["ranker_recall_at_1"] = r_cur.get("recall_at_1")
    m_cand["ranker_recall_at_1"] = r_cand.get("recall_at_1")
    gold = [e.label for e in exam.intents]
    rows = per_intent_rows(gold, p_cur, p_cand)

    # 8. gate -----------------------------------------------------------------------------------
    verdict: Verdict = judge(m_cur, m_cand, rows, cfg.gate, ranker_retrained)
    blame = culprits(verdict.regressed, exam, p_cur, p_cand, log_data.labels)
    reasons = list(verdict.reasons)
    for intent, found in blame.items():
        labels = Counter(c["label"] for c in found)
        examples = "; ".join(
            f"turn {c['turn_id']} {c['text'][:60]!r} -> {c['label']}"
            + (f" ({c['kind']} by {c['agent']})" if c["agent"] else f" ({c['kind']})")
            for c in found[:3]
        )
        reasons.append(
            f"{intent}: pulled by {found[0]['of']} agent label(s) naming "
            f"{', '.join(sorted(labels))}, nearest first: {examples}"
        )
    if ranker_note:
        reasons.append(ranker_note)
    if exam.note:
        reasons.append(exam.note)
    promote = verdict.passed or cfg.force
    if cfg.force and not verdict.passed:
        reasons.insert(0, "promoted with --force although the gate refused it")
    elif not verdict.passed:
        reasons.insert(0, f"not promoted: version {cur_id} stays current")

    metrics_cand = {
        "eval": {"source": exam.source, "fingerprint": exam.fingerprint, "n": len(exam.intents)},
        "intent": m_cand,
        "ranker": r_cand,
        "per_intent": {r["intent"]: r["f1_candidate"] for r in rows},
        "per_intent_n": {r["intent"]: r["n"] for r in rows},
    }
    (tmp / "metrics.json").write_text(json.dumps(metrics_cand, indent=2))
    (tmp / "gate.json").write_text(
        json.dumps({**verdict.to_json(), "culprits": blame, "forced": bool(cfg.force)}, indent=2)
    )
    cur_metrics = store.version_dir(cur_id) / "metrics.json"
    if store.version_dir(cur_id).is_dir() and not cur_metrics.exists():
        # The current version scored on the exam for the first time (e.g. a migrated one).
        metrics_cur = {
            **metrics_cand,
            "intent": m_cur,
            "ranker": r_cur,
            "per_intent": {r["intent"]: r["f1_current"] for r in rows},
        }
        cur_metrics.write_text(json.dumps(metrics_cur, indent=2))
    manifest = {
        "parent": cur_id,
        "created": utc_now(),
        "source": "retrain",
        "gate": {"passed": verdict.passed, "reasons": verdict.reasons},
        "forced": bool(cfg.force and not verdict.passed),
        "data": data_counts,
        "data_sources": base.sources + ([cfg.db] if cfg.db else []),
        "ranker_retrained": ranker_retrained,
        "min_confidence": cfg.min_confidence,
        "eval": metrics_cand["eval"],
        "train_time_s": round(time.time() - started, 1),
    }
    # Promote only over the version this candidate was compared with.
    still_current = store.current_id() == cur_id
    if promote and not still_current:
        reasons.append(
            f"not promoted: the current version changed from {cur_id} to {store.current_id()} "
            "while this one trained; run `assistant retrain` again"
        )
        promote = False
    vid = store.add_version(tmp, manifest, promote=promote, forced=cfg.force and not verdict.passed)
    if not promote:
        store.record({"event": "refused", "version": vid, "current": cur_id, "reasons": reasons})
    say(f"version {vid}: {'promoted' if promote else 'kept aside'}")
    return RetrainResult(
        promoted=promote,
        version=vid,
        current=store.current_id(),
        reasons=reasons,
        metrics={"current": m_cur, "candidate": m_cand},
        per_intent=rows,
        culprits=blame,
        data=data_counts,
    )


__all__ = ["RetrainConfig", "RetrainResult", "read_settings", "retrain"]
