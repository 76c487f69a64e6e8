"""What the log says about each model version, and what the team should write next.

`build_report(log, since)` reads the conversation log (one read snapshot) and returns, per
model version (the `version` each assistant turn recorded in `model_versions`; turns logged
before versions existed are "unversioned"):

    conversations   conversations it answered at least one turn of
    turns           customer turns it answered
    containment     share of those conversations finished without a person (no ticket, no
                    agent turn)
    handoff_rate    share of those conversations handed to a person (a ticket was opened)
    ratings         good and bad ratings of its replies (the latest rating of each)
    top_intents     the most frequent predicted intents
    gaps            knowledge gaps: clusters of customer questions that got no good answer (a
                    fallback, out of scope, a reply rated bad, a handoff), with counts, why,
                    and examples

and the gaps of all versions together. Clusters are groups of questions whose word and
character TF-IDF vectors are close (cosine >= `similarity`; short questions about one thing
score about 0.25-0.45, unrelated ones under 0.1), greedy, largest first: no torch,
milliseconds for thousands of questions.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

UNVERSIONED = "unversioned"
GAP_WHY = ("fallback", "oos", "rated_bad", "handoff")

_SQL = """
SELECT t.id, t.conversation_id, t.seq, t.role, t.text, t.intent, t.confidence, t.source,
       t.reason, t.time, t.model_versions,
       (SELECT f.rating FROM feedback f WHERE f.turn_id = t.id
        ORDER BY f.time DESC, f.rowid DESC LIMIT 1) AS rating
FROM turns t
WHERE t.conversation_id IN (SELECT DISTINCT conversation_id FROM turns WHERE time >= ?)
ORDER BY t.conversation_id, t.seq
"""


@dataclass
class VersionStats:
    version: str
    conversations: set = field(default_factory=set)
    turns: int = 0
    handed_off: set = field(default_factory=set)
    with_people: set = field(default_factory=set)
    good: int = 0
    bad: int = 0
    intents: Counter = field(default_factory=Counter)
    gaps: list = field(default_factory=list)  # (text, why)


def _version(model_versions: str | None) -> str:
    try:
        v = json.loads(model_versions or "{}").get("version")
    except (ValueError, AttributeError):
        v = None
    return str(v) if v else UNVERSIONED


def _why(reply: dict) -> str | None:
    """Why an answered customer turn got no good answer (None: it did)."""
    if reply["rating"] == -1:
        return "rated_bad"
    source = reply["source"]
    if source == "handoff":
        return "handoff"
    if source == "oos":
        return "oos"
    if source == "clarify" and str(reply.get("reason") or "").startswith("low confidence"):
        return "fallback"
    return None


def build_report(log, since: str | None = None, similarity: float = 0.25, top: int = 10) -> dict:
    """The report as a JSON-ready dict (see the module doc); `since`: an ISO date or time."""
    with log.snapshot() as conn:
        cursor = conn.execute(_SQL, (since or "",))
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor]
        tickets = {r[0] for r in conn.execute("SELECT DISTINCT conversation_id FROM tickets")}
    stats: dict[str, VersionStats] = {}
    by_conv: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_conv[r["conversation_id"]].append(r)
    for cid, turns in by_conv.items():
        has_agent = any(t["role"] == "agent" for t in turns)
        for i, t in enumerate(turns):
            if t["role"] != "customer" or (since and t["time"] < since):
                continue
            reply = turns[i + 1] if i + 1 < len(turns) else None
            if reply is None or reply["role"] != "assistant":
                continue  # muted (with a person) or unanswered: no version answered it
            s = stats.setdefault(_version(reply["model_versions"]), VersionStats(""))
            s.conversations.add(cid)
            s.turns += 1
            if cid in tickets:
                s.handed_off.add(cid)
            if cid in tickets or has_agent:
                s.with_people.add(cid)
            s.good += reply["rating"] == 1
            s.bad += reply["rating"] == -1
            if t["intent"]:
                s.intents[t["intent"]] += 1
            why = _why(reply)
            if why:
                s.gaps.append((t["text"], why))
    versions = []
    for vid in sorted(stats, key=lambda v: (v == UNVERSIONED, int(v) if v.isdigit() else 0, v)):
        s = stats[vid]
        n = len(s.conversations)
        versions.append(
            {
                "version": vid,
                "conversations": n,
                "turns": s.turns,
                "containment": (n - len(s.with_people)) / n if n else None,
                "handoff_rate": len(s.handed_off) / n if n else None,
                "ratings": {"good": s.good, "bad": s.bad},
                "top_intents": [{"intent": k, "count": c} for k, c in s.intents.most_common(top)],
                "gaps": cluster_gaps(s.gaps, similarity, top),
            }
        )
    all_gaps = [g for s in stats.values() for g in s.gaps]
    return {
        "since": since,
        "versions": versions,
        "gaps": cluster_gaps(all_gaps, similarity, top),
    }


def cluster_gaps(
    items: list[tuple[str, str]], similarity: float = 0.25, top: int = 10, limit: int = 4000
) -> list:
    """Clusters of (question, why): [{"count", "terms", "why": {...}, "examples": [...]}],
    largest first. Only the latest `limit` questions are clustered (the similarity matrix
    grows with the square).

    >>> c = cluster_gaps([("where is my refund", "oos"), ("refund where is it", "fallback"),
    ...                   ("cancel my plan", "oos")])
    >>> [x["count"] for x in c]
    [2, 1]
    """
    if not items:
        return []
    items = items[-limit:]
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    texts = [t for t, _ in items]
    words = TfidfVectorizer(sublinear_tf=True, stop_words="english", token_pattern=r"(?u)\b\w+\b")
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True)
    try:
        w = words.fit_transform(texts)
    except ValueError:  # only stop words: characters alone
        w = None
    c = chars.fit_transform(texts)
    x = normalize(hstack([w, c]).tocsr() if w is not None else c)
    sims = (x @ x.T).toarray()
    unassigned = set(range(len(texts)))
    clusters = []
    # Greedy: the question with the most close neighbours seeds the next cluster.
    close = sims >= similarity
    while unassigned:
        idx = sorted(unassigned)
        seed = max(idx, key=lambda i: (int(close[i, idx].sum()), -i))
        members = [j for j in idx if close[seed, j]]
        unassigned -= set(members)
        clusters.append(members)
    clusters.sort(key=lambda m: -len(m))
    out = []
    vocab = np.array(words.get_feature_names_out()) if w is not None else None
    for members in clusters[:top]:
        terms: list[str] = []
        if vocab is not None:
            weights = np.asarray(w[members].sum(axis=0)).ravel()
            terms = [str(vocab[k]) for k in np.argsort(-weights)[:4] if weights[k] > 0]
        out.append(
            {
                "count": len(members),
                "terms": terms,
                "why": dict(Counter(items[m][1] for m in members).most_common()),
                "examples": list(dict.fromkeys(texts[m] for m in members))[:3],
            }
        )
    return out


__all__ = ["build_report", "cluster_gaps"]
