"""Case-study matching: rank documents for an enquiry. No Django imports.

Score = half direct similarity, half neighbour similarity:
- direct: TF-IDF cosine between the enquiry and each case study, averaging word
  1-2-grams (the specific technology and question) and character 3-5-grams within
  words (spelling variants, plurals, compounds);
- neighbours: the enquiry's five nearest enquiries in a background pool written in
  enquirers' own words (the project's corpus), and how similar those are to each
  case study. This bridges the gap between how enquirers and editors write.
Chosen by evaluation (docs/decisions/0006). Matrices are term-major (an inverted
index), so scoring touches only the query's terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

WORD_WEIGHT = 0.5
DIRECT_WEIGHT = 0.5
NEIGHBOURS = 5


@dataclass(frozen=True)
class Match:
    key: str
    score: float
    terms: tuple[str, ...]  # the shared words that weighed most: the reason shown


@dataclass(frozen=True)
class Space:
    """Word and character TF-IDF of a set of texts, stored term-major."""

    word_terms: sparse.csr_matrix  # features x texts
    char_terms: sparse.csr_matrix


@dataclass(frozen=True)
class Index:
    keys: tuple[str, ...]
    words: TfidfVectorizer
    chars: TfidfVectorizer
    docs: Space
    background: Space | None
    background_to_docs: np.ndarray | None  # background texts x documents
    word_docs: sparse.csr_matrix  # documents x features, for the reasons
    word_names: np.ndarray


def _space(
    words: TfidfVectorizer, chars: TfidfVectorizer, texts: Sequence[str]
) -> Space:
    return Space(
        word_terms=words.transform(texts).T.tocsr(),
        char_terms=chars.transform(texts).T.tocsr(),
    )


def _similarity(
    word_query: sparse.csr_matrix, char_query: sparse.csr_matrix, space: Space
) -> np.ndarray:
    word = (word_query @ space.word_terms).toarray()
    char = (char_query @ space.char_terms).toarray()
    return np.asarray(WORD_WEIGHT * word + (1 - WORD_WEIGHT) * char)


def build(
    documents: Sequence[tuple[str, str]], *, background: Sequence[str] = ()
) -> Index | None:
    """Index (key, text) pairs, with optional background enquiries; None if empty."""
    if not documents:
        return None
    texts = [t for _, t in documents]
    common = {"sublinear_tf": True, "strip_accents": "unicode", "dtype": np.float32}
    words = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", **common)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), **common)
    words.fit([*texts, *background])
    chars.fit([*texts, *background])
    docs = _space(words, chars, texts)
    bg = _space(words, chars, background) if background else None
    bg_to_docs = None
    if bg is not None:
        bg_to_docs = _similarity(bg.word_terms.T.tocsr(), bg.char_terms.T.tocsr(), docs)
    word_docs = docs.word_terms.T.tocsr()
    return Index(
        keys=tuple(k for k, _ in documents),
        words=words,
        chars=chars,
        docs=docs,
        background=bg,
        background_to_docs=bg_to_docs,
        word_docs=word_docs,
        word_names=words.get_feature_names_out(),
    )


def scores(index: Index, text: str) -> np.ndarray:
    word_query = index.words.transform([text])
    char_query = index.chars.transform([text])
    direct = _similarity(word_query, char_query, index.docs).ravel()
    if index.background is None or index.background_to_docs is None:
        return direct
    to_background = _similarity(word_query, char_query, index.background).ravel()
    k = min(NEIGHBOURS, len(to_background))
    nearest = np.argpartition(-to_background, k - 1)[:k]
    via_neighbours = index.background_to_docs[nearest].mean(axis=0)
    return np.asarray(DIRECT_WEIGHT * direct + (1 - DIRECT_WEIGHT) * via_neighbours)


def search(index: Index | None, text: str, *, limit: int = 5) -> list[Match]:
    if index is None or not text.strip():
        return []
    ranked = scores(index, text)
    if not ranked.any():
        return []
    count = min(limit, len(ranked))
    top = np.argpartition(-ranked, count - 1)[:count]
    top = top[np.argsort(-ranked[top], kind="stable")]
    query = index.words.transform([text])
    matches = []
    for doc in top:
        if ranked[doc] <= 0:
            continue
        shared = query.multiply(index.word_docs[doc]).tocoo()
        order = np.argsort(-shared.data)[:4]
        terms = tuple(str(index.word_names[shared.col[i]]) for i in order)
        matches.append(Match(index.keys[doc], float(ranked[doc]), terms))
    return matches
