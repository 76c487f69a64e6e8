"""`assistant train ...` and `assistant eval intent|ranker`.

Training code lives in `training/`; these commands import it only when they run, so the
runtime (engine, chat, ask) never loads it.
"""

from __future__ import annotations

import json

import click

from assistant.cli import echo, eval_group, timed, train_group

_base_model = click.option(
    "--base-model",
    type=click.Path(file_okay=False),
    default=None,
    help="Local model directory to start from (default: the bundled all-MiniLM-L6-v2).",
)
_freeze_layers = click.option(
    "--freeze-layers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Keep the lowest N transformer layers as they are (the backward pass stops above "
    "them: faster steps; the demo freezes 3 of MiniLM's 6 for intents, 1 for the ranker).",
)
_seed = click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")


@train_group.command("intent")
@click.option(
    "--data",
    required=True,
    type=click.Path(dir_okay=False),
    help="Intent CSV (text,label) or dialogues JSONL.",
)
@click.option(
    "--val",
    type=click.Path(dir_okay=False),
    default=None,
    help="Validation file (same formats). Default: hold out 10% of --data.",
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Output model directory."
)
@click.option(
    "--epochs", type=int, default=4, show_default=True, help="Maximum fine-tuning epochs."
)
@_seed
@_base_model
@click.option(
    "--text-column", default="text", show_default=True, help="CSV column with the message."
)
@click.option(
    "--label-column", default="label", show_default=True, help="CSV column with the intent."
)
@click.option("--oos-label", default="oos", show_default=True, help="Label meaning 'out of scope'.")
@click.option(
    "--oos-mode",
    type=click.Choice(["both", "class", "threshold"]),
    default="both",
    show_default=True,
    help="Out-of-scope detection: a class, a confidence threshold, or both.",
)
@click.option("--batch-size", type=int, default=32, show_default=True, help="Examples per step.")
@click.option(
    "--lora-rank",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Train LoRA adapters of this rank (e.g. 8) instead of the whole encoder, merged into "
    "the saved weights; 0: full fine-tuning. Needs peft (pip install 'offline-assistant[lora]').",
)
@click.option(
    "--lora-targets",
    type=click.Choice(["query-value", "all-linear"]),
    default="query-value",
    show_default=True,
    help="Layers that get adapters: the attention's query/value, or every linear layer.",
)
@_freeze_layers
@timed
def train_intent_cmd(
    data,
    val,
    out,
    epochs,
    seed,
    base_model,
    text_column,
    label_column,
    oos_label,
    oos_mode,
    batch_size,
    lora_rank,
    lora_targets,
    freeze_layers,
) -> None:
    """Fine-tune the intent classifier.

    Validates the data first (file, line and value of every problem), trains a frozen-embedding
    baseline, fine-tunes from it with early stopping, picks the out-of-scope threshold on
    validation data and writes the model, manifest.json and a report (metrics.json,
    per_intent.csv, confusion.png, confused_pairs.json) to --out.

    Example:

        assistant train intent --data intents.csv --val val.csv --out models/intent

    With --lora-rank 8 only low-rank adapters on the encoder are trained (the head fully);
    they are merged into the saved weights, so the model loads like any other.
    """
    from training.intent import IntentTrainConfig, train_intent

    cfg = IntentTrainConfig(
        data=data,
        val=val,
        out=out,
        epochs=epochs,
        seed=seed,
        base_model=base_model,
        text_column=text_column,
        label_column=label_column,
        oos_label=oos_label,
        oos_mode=oos_mode,
        batch_size=batch_size,
        lora_rank=lora_rank,
        lora_targets=lora_targets,
        freeze_layers=freeze_layers,
    )
    train_intent(cfg, log=echo)  # may quote labels and rows of the data


@train_group.command("ranker")
@click.option("--data", required=True, type=click.Path(dir_okay=False), help="Dialogues JSONL.")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Output model directory."
)
@click.option(
    "--val",
    type=click.Path(dir_okay=False),
    default=None,
    help="Validation dialogues. Default: hold out 10% of dialogues by id.",
)
@click.option(
    "--context-turns",
    type=int,
    default=3,
    show_default=True,
    help="K: turns of conversation before a reply used as its context.",
)
@_seed
@_base_model
@click.option("--epochs", type=int, default=1, show_default=True, help="Passes over the pairs.")
@click.option(
    "--max-pairs",
    type=int,
    default=20000,
    show_default=True,
    help="Training pairs sampled per epoch (0: all).",
)
@click.option(
    "--batch-size",
    type=int,
    default=64,
    show_default=True,
    help="Pairs per step (in-batch negatives).",
)
@_freeze_layers
@timed
def train_ranker_cmd(
    data, out, val, context_turns, seed, base_model, epochs, max_pairs, batch_size, freeze_layers
) -> None:
    """Fine-tune the response ranker and build the response bank.

    Trains a bi-encoder on (last K turns, agent reply) pairs with in-batch negatives, selects
    the best epoch on held-out dialogues (1-of-100 Recall@1), and saves the encoder, the
    response bank built from the agent turns and manifest.json to --out.

    Example:

        assistant train ranker --data dialogues.jsonl --out models/ranker --context-turns 3
    """
    from training.ranker import RankerTrainConfig, train_ranker

    cfg = RankerTrainConfig(
        data=data,
        out=out,
        val=val,
        context_turns=context_turns,
        seed=seed,
        base_model=base_model,
        epochs=epochs,
        max_pairs=max_pairs or None,
        batch_size=batch_size,
        freeze_layers=freeze_layers,
    )
    train_ranker(cfg, log=echo)


def _print_metrics(metrics: dict, as_json: bool, title: str) -> None:
    if as_json:
        click.echo(json.dumps(metrics))
        return
    echo(title)
    for k, v in metrics.items():
        echo(f"  {k:>14}: {'n/a' if v is None else (f'{v:.4f}' if isinstance(v, float) else v)}")


@eval_group.command("intent")
@click.option(
    "--model",
    required=True,
    type=click.Path(file_okay=False),
    help="Intent model directory, or a models directory (its current version).",
)
@click.option(
    "--data",
    required=True,
    type=click.Path(dir_okay=False),
    help="Labelled intent CSV or dialogues JSONL.",
)
@click.option(
    "--text-column", default="text", show_default=True, help="CSV column with the message."
)
@click.option(
    "--label-column", default="label", show_default=True, help="CSV column with the intent."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@timed
def eval_intent_cmd(model, data, text_column, label_column, as_json) -> None:
    """In-scope accuracy, macro-F1 and out-of-scope recall/precision of an intent model.

    Out-of-scope figures are null when the data has no out-of-scope examples.

    Example:

        assistant eval intent --model models/intent --data test.csv --json
    """
    from assistant.versions import resolve_model
    from training.evaluate import evaluate_intent

    model = resolve_model(model, "intent")  # a models directory: its current version's
    _print_metrics(
        evaluate_intent(model, data, text_column, label_column), as_json, f"intent model {model}"
    )


@eval_group.command("ranker")
@click.option(
    "--model",
    required=True,
    type=click.Path(file_okay=False),
    help="Ranker model directory, or a models directory (its current version).",
)
@click.option("--data", required=True, type=click.Path(dir_okay=False), help="Dialogues JSONL.")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed for drawing distractors."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@timed
def eval_ranker_cmd(model, data, seed, as_json) -> None:
    """Recall@1, Recall@5 and MRR of a ranker under the 1-of-100 protocol.

    For every agent turn that follows a customer turn: the context is up to K previous turns,
    the candidates the true reply plus 99 agent replies drawn (fixed seed) from other dialogues.

    Example:

        assistant eval ranker --model models/ranker --data test_dialogues.jsonl --json
    """
    from assistant.versions import resolve_model
    from training.evaluate import evaluate_ranker

    model = resolve_model(model, "ranker")  # a models directory: its current version's
    _print_metrics(evaluate_ranker(model, data, seed=seed), as_json, f"ranker {model}")
