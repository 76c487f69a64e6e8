"""`assistant kb build|search` and `assistant eval kb`: thin wrappers over the `kb` package.

The `kb` modules that load torch and faiss are imported inside the commands, so `--help`
stays fast.
"""

from __future__ import annotations

import json

import click

from assistant.cli import cli, echo, eval_group, timed

_SNIPPET_CHARS = 240


@cli.group(name="kb")
def kb_group() -> None:
    """Build and search the knowledge base (FAISS retrieval with citations).

    Example:

    \b
        assistant kb build --docs help-centre/ --out kb-index/
        assistant kb search --index kb-index/ "How long does a refund take?"
    """


@kb_group.command("build")
@click.option(
    "--docs",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder of articles: Markdown, text, HTML, JSON/JSONL (searched recursively).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Index directory; an index already there is updated incrementally.",
)
@click.option(
    "--model",
    type=click.Path(file_okay=False),
    default=None,
    help="Sentence-transformers model directory (default: the bundled MiniLM).",
)
@click.option(
    "--index-type",
    type=click.Choice(["auto", "flat", "hnsw"]),
    default="auto",
    show_default=True,
    help="flat = exact search; hnsw = approximate; auto = hnsw from --hnsw-threshold.",
)
@click.option(
    "--hnsw-threshold",
    type=int,
    default=20_000,
    show_default=True,
    help="With --index-type auto, passages from which HNSW is used.",
)
@click.option(
    "--max-words",
    type=int,
    default=None,
    help="Passage size limit in words (default: kb.BuildConfig's, see docs/benchmarks.md).",
)
@click.option(
    "--overlap-words",
    type=int,
    default=None,
    help="Words of whole trailing sentences repeated in the next passage (default: a fifth "
    "of --max-words).",
)
@click.option(
    "--max-seq-length",
    type=click.IntRange(min=8),
    default=None,
    help="Tokens of a passage the model reads (default: the model's own limit, at least 256, "
    "at most what the model can read).",
)
@click.option(
    "--questions",
    type=click.Path(dir_okay=False),
    default=None,
    help='Tune the index on these questions ({"question", "article"} JSONL): try a small '
    "grid of passage sizes, keyword weights and floors, build the best, record it in the "
    "manifest.",
)
@click.option(
    "--precision",
    type=click.Choice(["auto", "fp32", "autocast", "bf16"]),
    default="auto",
    show_default=True,
    help="Encoding precision for the build (auto: bf16 on CPUs with native bf16).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Embedding processes, one core each (default: every core).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@timed
def build_cmd(
    docs,
    out,
    model,
    index_type,
    hnsw_threshold,
    max_words,
    overlap_words,
    max_seq_length,
    precision,
    workers,
    questions,
    as_json,
) -> None:
    """Ingest a docs folder into a searchable index.

    Articles are split into passages along headings and paragraphs, embedded and stored in
    a FAISS index with a passage store and manifest.json. Rebuilding into the same --out
    re-embeds only new and changed files; deleted files leave the index. Unreadable files
    are skipped and listed.

    With --questions, the settings are chosen on your own labelled questions first (a few
    builds; the manifest records what was measured).

    Example:

    \b
        assistant kb build --docs assistant/demo_data/kb --out kb-index
        assistant kb build --docs help/ --out kb-index --questions questions.jsonl
    """
    from assistant.versions import resolve_model
    from kb import BuildConfig, build_index

    sizes = {}
    if max_words is not None:
        sizes["max_words"] = max_words
        sizes["overlap_words"] = max_words // 5
    if overlap_words is not None:
        sizes["overlap_words"] = overlap_words
    config = BuildConfig(
        # a models directory (versions or intent/ + ranker/): its current ranker's encoder
        model_path=str(resolve_model(model, "ranker")) if model else None,
        index_type=index_type,
        hnsw_threshold=hnsw_threshold,
        precision=precision,
        workers=workers,
        max_seq_length=max_seq_length,
        **sizes,
    )
    tuning = None
    if questions is None:
        report = build_index(docs, out, config)
    else:
        from kb.tune import tune_build

        report, tuning = tune_build(docs, out, questions, config)
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "tuning": tuning}, indent=2))
        return
    echo(report.summary())  # names files from the docs folder
    if tuning is not None:
        chosen = tuning["chosen"]
        best = next(p for p in tuning["points"] if all(p[k] == v for k, v in chosen.items()))
        echo(
            f"tuned on {tuning['n']} questions ({len(tuning['points'])} settings tried): "
            f"{chosen['max_words']}-word passages"
            f"{'' if chosen['pack_blocks'] else ', one block each'}, "
            f"template {chosen['embed_template']}, keyword weight {chosen['keyword_weight']:g}"
            f" (floor {chosen.get('keyword_floor', 0.0):g}): "
            f"Recall@1 {best['recall_at_1']:.3f}, Recall@5 {best['recall_at_5']:.3f}, "
            f"MRR {best['mrr']:.3f}"
        )


@kb_group.command("search")
@click.option(
    "--index",
    "index_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Index directory written by `assistant kb build`.",
)
@click.argument("question")
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Number of passages to show.",
)
@click.option(
    "--model",
    type=click.Path(file_okay=False),
    default=None,
    help="Model directory, if it moved since the build (must be the same model).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"results": [{"score", "article_id", "title", "section", "source", "text"}]}.',
)
@timed
def search_cmd(index_dir, question, k, model, as_json) -> None:
    """Print the passages that best answer QUESTION, with their sources.

    Example:

    \b
        assistant kb search --index kb-index "How long does a refund take?" -k 3
    """
    from assistant.untrusted import clean, json_dumps
    from assistant.versions import resolve_model
    from kb import KnowledgeBase

    question = clean(question)  # undecodable bytes in argv become U+FFFD
    model = resolve_model(model, "ranker") if model else None  # a models directory: its ranker
    passages = KnowledgeBase.load(index_dir, model_path=model).search(question, k=k)
    if as_json:
        results = [p.to_dict() for p in passages]
        click.echo(json_dumps({"results": results}, indent=2))
        return
    for rank, p in enumerate(passages, start=1):
        snippet = " ".join(p.text.split())
        if len(snippet) > _SNIPPET_CHARS:
            snippet = snippet[: _SNIPPET_CHARS - 3].rsplit(" ", 1)[0] + "..."
        echo(f"{rank}. [{p.score:.3f}] {p.heading}  ({p.source})")
        echo(f"   {snippet}")


@eval_group.command("kb")
@click.option(
    "--index",
    "index_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Index directory written by `assistant kb build`.",
)
@click.option(
    "--data",
    required=True,
    type=click.Path(dir_okay=False),
    help='Questions JSONL, one {"question": ..., "article": ...} a line.',
)
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Passages retrieved per question to rank articles.",
)
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"recall_at_1", "recall_at_5", "mrr", "n"}.'
)
@timed
def eval_kb_cmd(index_dir, data, k, as_json) -> None:
    """Article-level Recall@1, Recall@5 and MRR of an index on labelled questions.

    Example:

    \b
        assistant eval kb --index kb-index --data assistant/demo_data/kb_questions.jsonl
    """
    from kb import KnowledgeBase, evaluate

    metrics = evaluate(KnowledgeBase.load(index_dir), data, k=k)
    if as_json:
        click.echo(json.dumps(metrics))
    else:
        click.echo(
            f"questions: {metrics['n']}  Recall@1: {metrics['recall_at_1']:.3f}  "
            f"Recall@5: {metrics['recall_at_5']:.3f}  MRR: {metrics['mrr']:.3f}"
        )
