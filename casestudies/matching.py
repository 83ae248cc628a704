"""Case-study matching: rank documents for an enquiry. No Django imports.

Score = equal thirds of direct, neighbour and expansion similarity:
- direct: TF-IDF cosine between the enquiry and each case study, averaging word
  1-2-grams (the specific technology and question) and character 3-5-grams within
  words (spelling variants, plurals, compounds);
- neighbours: the enquiry's ten nearest enquiries in a background pool written in
  enquirers' own words (the project's corpus), and how similar those are to each
  case study, weighted by their similarity to the enquiry;
- expansion: each case study's twenty nearest background enquiries (found once, at
  build time), and how similar the enquiry is to those, weighted by their
  similarity to the study (document expansion, done in score space).
The last two bridge the gap between how enquirers and editors write, from both
sides. Chosen by evaluation (docs/decisions/0006). Matrices are term-major (an
inverted index), so scoring touches only the query's terms; the expansion costs a
gather of studies x 20 numbers per query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

WORD_WEIGHT = 0.5
NEIGHBOURS = 10  # the enquiry's nearest background enquiries
EXPANSION = 20  # each study's nearest background enquiries


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
class Background:
    """The background enquiries and what is derived from them at build time."""

    space: Space
    to_docs: np.ndarray  # background texts x documents
    expansion: np.ndarray  # documents x EXPANSION background indices
    expansion_weights: np.ndarray  # documents x EXPANSION, rows sum to 1


@dataclass(frozen=True)
class Index:
    keys: tuple[str, ...]
    words: TfidfVectorizer
    chars: TfidfVectorizer
    docs: Space
    background: Background | None
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


def _weights(similarity: np.ndarray) -> np.ndarray:
    """Normalise similarities along the last axis; a flat mean where all are 0."""
    weights = np.clip(similarity, 0, None).astype(np.float64)
    totals = weights.sum(axis=-1, keepdims=True)
    flat = np.full_like(weights, 1 / weights.shape[-1])
    return np.where(totals > 0, weights / np.where(totals > 0, totals, 1), flat)


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
    bg = None
    if background:
        space = _space(words, chars, background)
        to_docs = _similarity(
            space.word_terms.T.tocsr(), space.char_terms.T.tocsr(), docs
        )
        m = min(EXPANSION, len(background))
        expansion = np.argpartition(-to_docs.T, m - 1, axis=1)[:, :m]
        weights = _weights(np.take_along_axis(to_docs.T, expansion, axis=1))
        bg = Background(space, to_docs, expansion, weights)
    word_docs = docs.word_terms.T.tocsr()
    return Index(
        keys=tuple(k for k, _ in documents),
        words=words,
        chars=chars,
        docs=docs,
        background=bg,
        word_docs=word_docs,
        word_names=words.get_feature_names_out(),
    )


def scores(index: Index, text: str) -> np.ndarray:
    word_query = index.words.transform([text])
    char_query = index.chars.transform([text])
    direct = _similarity(word_query, char_query, index.docs).ravel()
    bg = index.background
    if bg is None:
        return direct
    to_background = _similarity(word_query, char_query, bg.space).ravel()
    k = min(NEIGHBOURS, len(to_background))
    nearest = np.argpartition(-to_background, k - 1)[:k]
    weights = _weights(to_background[nearest])
    via_neighbours = weights @ bg.to_docs[nearest]
    via_expansion = (to_background[bg.expansion] * bg.expansion_weights).sum(1)
    return np.asarray((direct + via_neighbours + via_expansion) / 3)


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
