"""FAISS indexes over normalised embeddings: exact inner product or HNSW.

faiss is imported inside the functions so `import kb` stays light.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.errors import KBIndexError


def choose_index_type(requested: str, count: int, threshold: int) -> str:
    """ "flat" or "hnsw": `requested` unless it is "auto", then by collection size.

    >>> choose_index_type("auto", 100, 20_000), choose_index_type("auto", 20_000, 20_000)
    ('flat', 'hnsw')
    """
    if requested != "auto":
        return requested
    return "hnsw" if count >= threshold else "flat"


def build_faiss_index(
    embeddings: np.ndarray,
    index_type: str,
    m: int = 32,
    ef_construction: int = 128,
    ef_search: int = 128,
):
    """An inner-product index holding `embeddings` (n, d) float32, row i = passage id i."""
    import faiss

    dim = embeddings.shape[1]
    if index_type == "flat":
        index = faiss.IndexFlatIP(dim)
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
    else:
        raise ValueError(f"unknown index type {index_type!r}")
    index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    return index


def recall_at_10(index, embeddings: np.ndarray, sample: int, seed: int = 0) -> float:
    """Recall@10 of `index` against exact search, with `sample` stored passages as queries.

    For each query, the share of its exact top-10 neighbours that `index` also returns in its
    top 10, averaged over the queries.
    """
    import faiss

    n = embeddings.shape[0]
    k = min(10, n)
    rng = np.random.default_rng(seed)
    rows = rng.choice(n, size=min(sample, n), replace=False)
    queries = np.ascontiguousarray(embeddings[rows], dtype=np.float32)
    exact = faiss.IndexFlatIP(embeddings.shape[1])
    exact.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    _, truth = exact.search(queries, k)
    _, found = index.search(queries, k)
    hits = sum(len(set(t) & set(f)) for t, f in zip(truth.tolist(), found.tolist(), strict=True))
    return hits / (len(rows) * k)


def write_faiss_index(index, path: Path) -> None:
    """Write an index to `path` (a fresh file name: the build never overwrites a live one)."""
    import faiss

    faiss.write_index(index, str(path))


def read_faiss_index(path: Path):
    """Read an index file; KBIndexError naming the file when it is missing or corrupted."""
    import faiss

    if not path.is_file():
        raise KBIndexError(f"FAISS index {path} is missing: rebuild the index")
    try:
        return faiss.read_index(str(path))
    except RuntimeError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise KBIndexError(
            f"FAISS index {path} is corrupted ({first_line}): rebuild the index"
        ) from exc


def set_ef_search(index, ef_search: int) -> None:
    """Set the HNSW beam width of `index` (no effect on a flat index)."""
    hnsw = getattr(index, "hnsw", None)
    if hnsw is not None:
        hnsw.efSearch = ef_search


__all__ = [
    "choose_index_type",
    "build_faiss_index",
    "recall_at_10",
    "write_faiss_index",
    "read_faiss_index",
    "set_ef_search",
]
