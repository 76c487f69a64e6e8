"""training/intent.py, training/ranker.py and the runtime loaders, with a tiny random model.

Quality does not matter here (see tests/test_e2e.py): these check the plumbing — artifacts,
manifests, save/load round trips, atomic output.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import WORDS

from assistant.bank import ResponseBank
from assistant.errors import ConfigError, DataError, ModelError
from assistant.intent import IntentClassifier
from assistant.ranker import ResponseRanker
from kb.manifest import FORMAT_VERSION
from training.intent import IntentTrainConfig, train_intent


def test_intent_artifacts(intent_dir):
    names = {p.name for p in intent_dir.iterdir()}
    assert {
        "model.safetensors",
        "head.safetensors",
        "manifest.json",
        "metrics.json",
        "per_intent.csv",
        "confusion.png",
        "confused_pairs.json",
        "modules.json",
        "tokenizer.json",
    } <= names
    assert not any(n.endswith(".bin") for n in names)
    m = json.loads((intent_dir / "manifest.json").read_text())
    assert m["kind"] == "intent" and m["format_version"] == FORMAT_VERSION
    assert m["labels"] == ["device_offline", "order_status", "refund_status", "thanks"]
    for key in (
        "base_model",
        "threshold",
        "config",
        "data_fingerprint",
        "metrics",
        "library_versions",
        "train_time_s",
        "trained_at",
    ):
        assert key in m
    assert m["metrics"]["probe_validation"]["n"] > 0
    assert (intent_dir / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_intent_round_trip_matches_training_head(intent_dir):
    clf = IntentClassifier.load(intent_dir)
    preds = clf.predict(["where is my order", "camera offline", "thanks"], k=3)
    assert len(preds) == 3 and all(len(p.top) == 3 for p in preds)
    assert all(abs(sum(clf.probs(["hi"])[0]) - 1) < 1e-5 for _ in range(1))
    again = IntentClassifier.load(intent_dir).probs(["where is my order"])
    assert np.allclose(clf.probs(["where is my order"]), again)


def test_sentence_transformers_loads_the_encoder(intent_dir):
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(intent_dir), device="cpu")
    ours = IntentClassifier.load(intent_dir, precision="fp32").encoder.encode(["where is my order"])
    theirs = st.encode(["where is my order"], normalize_embeddings=True)
    assert np.allclose(ours, theirs, atol=1e-4)


def test_ranker_artifacts_and_bank(ranker_dir):
    m = json.loads((ranker_dir / "manifest.json").read_text())
    assert m["kind"] == "ranker" and m["config"]["context_turns"] == 3
    bank = ResponseBank.load(ranker_dir)
    texts = [e.text for e in bank.entries]
    assert "Could you share your order number, {name}?" in texts
    # transformer (32) and lexical (16) parts, fused into one unit vector per reply
    assert bank.embeddings.shape == (len(bank), 32 + 16)
    assert np.allclose(np.linalg.norm(bank.embeddings, axis=1), 1.0, atol=1e-3)
    r = ResponseRanker.load(ranker_dir, precision="fp32")  # the bank is embedded in fp32
    assert r.lexical is not None and 0.0 <= r.lexical_weight <= 1.0
    assert m["lexical_weight"] == r.lexical_weight
    s = r.score([("customer", "where is my order")], ["a", "b", "c"])
    assert s.shape == (3,) and np.all(np.abs(s) <= 1.0001)
    # the bank was embedded exactly as the loaded ranker embeds replies
    assert np.allclose(r.encode_replies(texts[:3]), bank.embeddings[:3], atol=1e-4)
    # the transformer's own part is what a KB built with this encoder is searched with
    ctx = r.encode_contexts(["customer: where is my order"])
    dense = r.encoder.encode(["customer: where is my order"], max_length=r.max_context_length)
    assert np.allclose(r.dense_part(ctx), dense, atol=1e-5)


def _small_dense_ranker(out, dialogues, tiny_st_model, log=lambda m: None, **overrides):
    """A ranker without lexical towers trained on the tiny model into `out`."""
    from training.ranker import RankerTrainConfig, train_ranker

    settings = dict(lexical=False, base_model=str(tiny_st_model), batch_size=8, val_samples=20)
    train_ranker(RankerTrainConfig(data=str(dialogues), out=str(out), **settings, **overrides),
                 log=log)  # fmt: skip


def test_ranker_without_lexical_towers(tmp_path, dialogues, tiny_st_model):
    out = tmp_path / "dense"
    _small_dense_ranker(out, dialogues, tiny_st_model, epochs=0)
    r = ResponseRanker.load(out)
    assert r.lexical is None and r.lexical_weight == 0.0
    assert not (out / "lexical.json").exists()
    assert ResponseBank.load(out).embeddings.shape[1] == 32


def test_ranker_without_the_baseline_pass_keeps_its_epoch(tmp_path, dialogues, tiny_st_model):
    """baseline=False (the demo's recipe) skips validating the base model: the epoch is kept
    and the metrics say the base was not validated."""
    said: list[str] = []
    out = tmp_path / "nobase"
    _small_dense_ranker(out, dialogues, tiny_st_model, said.append, epochs=1, baseline=False)
    assert "base model: not validated (baseline=False)" in said
    metrics = json.loads((out / "manifest.json").read_text())["metrics"]
    assert metrics["base_validation"] == {} and metrics["best_epoch"] == 1


def test_frozen_lower_layers_keep_their_weights(tmp_path, dialogues, tiny_st_model):
    """freeze_layers=1 (the demo freezes the lowest layers): the embedding block and the
    lowest layer are saved as they were, the layer above them was trained."""
    from safetensors.numpy import load_file

    out = tmp_path / "frozen"
    _small_dense_ranker(out, dialogues, tiny_st_model, epochs=1, baseline=False, freeze_layers=1)
    before, after = (
        load_file(str(tiny_st_model / "model.safetensors")),
        load_file(str(out / "model.safetensors")),
    )

    def same(prefix: str) -> bool:
        names = [n for n in before if prefix in n]
        assert names, prefix
        return all(np.array_equal(before[n], after[n]) for n in names)

    assert same("embeddings.") and same("layer.0.")
    assert not same("layer.1.")
    assert json.loads((out / "manifest.json").read_text())["config"]["freeze_layers"] == 1
    with pytest.raises(ConfigError, match="below the model's 2 layers"):
        _small_dense_ranker(tmp_path / "all", dialogues, tiny_st_model, epochs=1, freeze_layers=2)
    assert not (tmp_path / "all").exists() or not any((tmp_path / "all").iterdir())
    with pytest.raises(ConfigError, match="freeze_layers and lora_rank"):
        IntentTrainConfig(data="x.csv", out=str(tmp_path / "i"), freeze_layers=1, lora_rank=8)


def test_wrong_kind_and_missing_dir(intent_dir, ranker_dir, tmp_path):
    with pytest.raises(ModelError, match="is a 'ranker' model, expected 'intent'"):
        IntentClassifier.load(ranker_dir)
    with pytest.raises(ModelError, match="no such model directory"):
        IntentClassifier.load(tmp_path / "nope")


def test_failed_training_writes_nothing(tmp_path, tiny_st_model):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhi,a\nhello,a\n")
    out = tmp_path / "out"
    with pytest.raises(DataError):
        train_intent(IntentTrainConfig(data=str(bad), out=str(out), base_model=str(tiny_st_model)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_lexical_towers_that_do_not_help_are_not_kept(
    tmp_path, dialogues, tiny_st_model, monkeypatch
):
    import training.ranker as tr

    no_help = (0.0, {"recall_at_1": 0.0, "n": 0})
    monkeypatch.setattr(tr, "choose_lexical_weight", lambda dense, lex, tasks: no_help)
    out = tmp_path / "r"
    tr.train_ranker(
        tr.RankerTrainConfig(
            data=str(dialogues),
            out=str(out),
            epochs=0,
            base_model=str(tiny_st_model),
            batch_size=8,
            val_samples=20,
            lexical_buckets=1 << 10,
            lexical_dim=8,
        ),
        log=lambda m: None,
    )
    assert not (out / "lexical.json").exists()
    r = ResponseRanker.load(out)
    assert r.lexical is None and r.lexical_weight == 0.0


# --out: never delete what we did not write (issue 11) --------------------------------------


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_cli_refuses_an_out_dir_with_user_files(tmp_path, dialogues):
    from click.testing import CliRunner

    from assistant.cli import cli

    out = tmp_path / "models"
    out.mkdir()
    (out / "important.txt").write_text("do not lose me")
    (tmp_path / "models.old").mkdir()
    (tmp_path / "models.old" / "backup.txt").write_text("nor me")
    before = _files(tmp_path)
    for kind in ("intent", "ranker"):
        res = CliRunner().invoke(cli, ["train", kind, "--data", str(dialogues), "--out", str(out)])
        assert res.exit_code != 0
        assert "not empty and is not a model we trained" in res.output
        assert "Traceback" not in res.output
    assert _files(tmp_path) == before


def _train_small_intent(data, out, tiny, **kw):
    kw = {"epochs": 0, "batch_size": 16, **kw}
    return train_intent(
        IntentTrainConfig(data=str(data), out=str(out), base_model=str(tiny), **kw),
        log=lambda m: None,
    )


def test_retraining_replaces_our_model_and_nothing_else(tmp_path, dialogues, tiny_st_model):
    out = tmp_path / "intent"
    first = _train_small_intent(dialogues, out, tiny_st_model, seed=0)
    assert set(first["files"]) == set(_files(out)) - {"manifest.json"}
    (tmp_path / "intent.old").mkdir()
    (tmp_path / "intent.old" / "backup.txt").write_text("user's")
    second = _train_small_intent(dialogues, out, tiny_st_model, seed=1)
    assert second["config"]["seed"] == 1
    assert json.loads((out / "manifest.json").read_text())["config"]["seed"] == 1
    IntentClassifier.load(out).predict(["where is my order"])
    assert (tmp_path / "intent.old" / "backup.txt").read_text() == "user's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["intent", "intent.old"]


def test_a_crash_while_saving_leaves_the_previous_model(
    tmp_path, dialogues, tiny_st_model, monkeypatch
):
    import training.report

    out = tmp_path / "intent"
    _train_small_intent(dialogues, out, tiny_st_model)
    before = _files(out)
    probs = IntentClassifier.load(out).probs(["where is my order"])

    def crash(model_dir, *args, **kwargs):
        assert (model_dir / "head.safetensors").is_file()  # the new model is half written
        raise OSError("No space left on device")

    monkeypatch.setattr(training.report, "write_intent_report", crash)
    with pytest.raises(OSError, match="No space left"):
        _train_small_intent(dialogues, out, tiny_st_model, seed=3)
    assert _files(out) == before
    assert np.allclose(IntentClassifier.load(out).probs(["where is my order"]), probs)
    assert [p.name for p in tmp_path.iterdir()] == ["intent"]


def test_same_seed_same_model(tmp_path, tiny_st_model):
    """The harness is deterministic: two runs with one seed give byte-identical weights."""
    data = tmp_path / "i.csv"
    rows = [f"{w}{s},{lab}" for lab, ws in WORDS.items() for w in ws for s in ("", " please")]
    data.write_text("text,label\n" + "\n".join(rows) + "\n")
    runs = []
    for name in ("a", "b"):
        m = _train_small_intent(data, tmp_path / name, tiny_st_model, epochs=2, lr_body=2e-3)
        runs.append(m)
    assert runs[0]["metrics"] == runs[1]["metrics"]
    assert len(runs[0]["metrics"]["history"]) == 2
    for f in ("model.safetensors", "head.safetensors"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


# small data (issue 11 #6, issue 13) ---------------------------------------------------------


def test_intent_from_tiny_data_without_validation(tmp_path, tiny_st_model):
    data = tmp_path / "tiny.csv"
    data.write_text(
        "text,label\nwhere is my order,order\ntrack my parcel,order\nhas it shipped,order\n"
        "order status,order\nmy refund,refund\nmoney back,refund\nrefund status,refund\n"
        "refund please,refund\n"
    )
    logs: list[str] = []
    manifest = train_intent(
        IntentTrainConfig(
            data=str(data), out=str(tmp_path / "m"), epochs=2, base_model=str(tiny_st_model)
        ),
        log=logs.append,
    )
    text = "\n".join(logs)
    assert "8 training / 0 validation examples" in text
    assert "no validation data: no early stopping and no model selection" in text
    assert "out-of-scope threshold 0" in text
    m = manifest["metrics"]
    assert m["validation"]["n"] == 0 and m["validation"]["accuracy"] is None
    assert m["selected"] == "fine-tuned" and m["best_epoch"] == 2
    assert [h["epoch"] for h in m["history"]] == [1, 2]
    assert manifest["threshold"] == 0.0
    pred = IntentClassifier.load(tmp_path / "m").predict(["where is my order"])[0]
    assert pred.label in ("order", "refund")
    assert (tmp_path / "m" / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_ranker_from_tiny_data_without_validation(tmp_path, tiny_st_model):
    from conftest import make_dialogues

    from training.ranker import RankerTrainConfig, train_ranker

    data = make_dialogues(tmp_path / "d.jsonl", n=6)  # one dialogue held out: no 1-of-N item
    logs: list[str] = []
    manifest = train_ranker(
        RankerTrainConfig(
            data=str(data),
            out=str(tmp_path / "r"),
            epochs=2,
            base_model=str(tiny_st_model),
            batch_size=4,
            max_pairs=None,
            lexical_buckets=1 << 10,
            lexical_dim=8,
        ),
        log=logs.append,
    )
    text = "\n".join(logs)
    assert "0 validation items" in text and "no model selection" in text
    assert manifest["metrics"]["best_epoch"] == 2  # the last epoch, not the base model
    assert manifest["lexical_weight"] == 0.5
    r = ResponseRanker.load(tmp_path / "r")
    assert r.score([("customer", "where is my order")], ["a", "b"]).shape == (2,)


def test_too_few_ranker_pairs_says_what_to_do(tmp_path, tiny_st_model):
    from conftest import make_dialogues

    from training.ranker import RankerTrainConfig, train_ranker

    data = make_dialogues(tmp_path / "d.jsonl", n=6)
    with pytest.raises(DataError, match="lower --batch-size"):
        train_ranker(
            RankerTrainConfig(
                data=str(data), out=str(tmp_path / "r"), base_model=str(tiny_st_model)
            ),
            log=lambda m: None,
        )
    assert not (tmp_path / "r").exists()


def test_ranking_items_need_replies_from_other_dialogues(tmp_path):
    from conftest import make_dialogues

    from training.data import load_dialogues
    from training.evaluate import ranking_tasks

    one = load_dialogues(make_dialogues(tmp_path / "d.jsonl", n=1))
    assert ranking_tasks(one, 3) == []  # used to loop forever
    two = load_dialogues(make_dialogues(tmp_path / "d2.jsonl", n=2))
    tasks = ranking_tasks(two, 3, n_candidates=5)
    assert tasks and all(len(t.distractors) == 4 for t in tasks)
    assert all(t.reply not in t.distractors for t in tasks)


@pytest.mark.parametrize(
    "name, content, where",
    [
        ("nul.csv", "text,label\nhello,a\nhel\x00lo,b\n", "nul.csv:3"),
        (
            "nul.jsonl",
            '{"id": "a", "turns": [{"role": "customer", "text": "hi", "intent": "x"}]}\n'
            '{"id": "b", "turns": [{"role": "customer", "text": "h\\u0000i", "intent": "y"}]}\n',
            "nul.jsonl:2",
        ),
    ],
)
def test_nul_in_training_text_is_rejected(tmp_path, tiny_st_model, name, content, where):
    data = tmp_path / name
    data.write_text(content)
    with pytest.raises(DataError, match=f"{where}: .*NUL"):
        train_intent(
            IntentTrainConfig(
                data=str(data), out=str(tmp_path / "m"), base_model=str(tiny_st_model)
            )
        )
    assert not (tmp_path / "m").exists()
