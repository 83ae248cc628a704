"""Case-study matching: rank documents by TF-IDF cosine similarity to an enquiry.

No Django imports. The index keeps the document matrix term-major (an inverted
index), so scoring touches only the postings of the query's terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer


@dataclass(frozen=True)
class Match:
    key: str
    score: float
    terms: tuple[str, ...]  # the shared terms that weighed most: the reason shown


@dataclass(frozen=True)
class Index:
    keys: tuple[str, ...]
    vectorizer: TfidfVectorizer
    term_major: sparse.csr_matrix  # features x documents
    doc_major: sparse.csr_matrix  # documents x features


def build(documents: Sequence[tuple[str, str]]) -> Index | None:
    """Index (key, text) pairs; None when there is nothing to index."""
    if not documents:
        return None
    keys = tuple(k for k, _ in documents)
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        stop_words="english",
        strip_accents="unicode",
        min_df=1,
    )
    matrix = vectorizer.fit_transform([t for _, t in documents]).tocsr()
    return Index(keys, vectorizer, matrix.T.tocsr(), matrix)


def search(index: Index | None, text: str, *, limit: int = 5) -> list[Match]:
    if index is None or not text.strip():
        return []
    query = index.vectorizer.transform([text])
    scores = np.asarray((query @ index.term_major).todense()).ravel()
    if not scores.any():
        return []
    count = min(limit, len(scores))
    top = np.argpartition(-scores, count - 1)[:count]
    top = top[np.argsort(-scores[top], kind="stable")]
    names = index.vectorizer.get_feature_names_out()
    matches = []
    for doc in top:
        if scores[doc] <= 0:
            continue
        shared = query.multiply(index.doc_major[doc]).tocoo()
        order = np.argsort(-shared.data)[:4]
        terms = tuple(str(names[shared.col[i]]) for i in order)
        matches.append(Match(index.keys[doc], float(scores[doc]), terms))
    return matches
