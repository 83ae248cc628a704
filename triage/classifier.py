"""The enquiry classifier: scikit-learn only, no Django.

One TF-IDF representation (word 1-2 grams plus character 3-5 grams) feeds two heads:
- product type: multinomial logistic regression, probabilities calibrated by
  temperature scaling fitted on out-of-fold scores (exactly one of 8 codes);
- process types: one logistic regression per code, each with its own decision
  threshold tuned by cross-validation (any subset of 9 codes, the empty set included).

`needs_review` compares the product confidence with a per-class threshold chosen on
out-of-fold predictions so that auto-accepted predictions are at least 98% correct.

Artefacts are written with joblib and recorded with their SHA-256; `load` refuses a
file whose digest does not match, so a tampered or corrupt file is never unpickled.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.preprocessing import normalize

ACCEPT_PRECISION = 0.99  # on cross-validation, for >= 98% on new styles of text
LARGE_CORPUS = 5000
JOBS = 2  # cross-validation folds and process heads in parallel on both cores
CONFIDENCE_Z = 1.28  # one-sided 90% bound on the precision of what is auto-accepted
FORMAT = 2


class ModelUnavailable(Exception):
    """No usable model: missing, unreadable, or failing its integrity check."""


@dataclass(frozen=True)
class Example:
    title: str
    description: str
    organisation_type: str = ""
    development_stage: str = ""


@dataclass(frozen=True)
class Prediction:
    product_type: str
    product_confidence: float
    product_probabilities: dict[str, float]
    process_types: tuple[str, ...]
    process_confidences: dict[str, float]
    needs_review: bool
    explanation: dict[str, list[str]]
    model_version: str


@dataclass
class Model:
    version: str
    features: Features
    product: LogisticRegression
    temperature: float  # calibration: softmax(decision / temperature)
    product_classes: tuple[str, ...]
    process_codes: tuple[str, ...]
    process_coef: np.ndarray  # features x codes, C order: one sparse product scores all
    process_intercept: np.ndarray
    process_thresholds: dict[str, float]
    review_thresholds: dict[str, float]
    metrics: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT


def text_of(example: Example) -> str:
    return f"{example.title}\n{example.title}\n{example.description}"


class CharGrams:
    """char_wb 3-5-gram TF-IDF, computed once per distinct word and cached.

    Gives the same features as TfidfVectorizer(analyzer="char_wb", sublinear_tf=True)
    but several times faster: char_wb n-grams never cross a word boundary, so a
    document's counts are the sum of its words' counts.
    """

    CACHE_LIMIT = 300_000

    def __init__(self, *, min_df: int = 2, max_features: int = 60_000) -> None:
        self.tfidf = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(3, 5),
            sublinear_tf=True,
            min_df=min_df,
            max_features=max_features,
            strip_accents="unicode",
            dtype=np.float32,
        )
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": {}}

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        matrix = self.tfidf.fit_transform(texts)
        self._preprocess = self.tfidf.build_preprocessor()
        self._analyse = self.tfidf.build_analyzer()
        self._cache = {}
        return matrix.tocsr()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._preprocess = self.tfidf.build_preprocessor()
        self._analyse = self.tfidf.build_analyzer()

    def _word(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        found = self._cache.get(word)
        if found is None:
            vocabulary = self.tfidf.vocabulary_
            counts: dict[int, int] = {}
            for gram in self._analyse(word):
                index = vocabulary.get(gram)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            found = (
                np.fromiter(counts.keys(), dtype=np.int32, count=len(counts)),
                np.fromiter(counts.values(), dtype=np.float32, count=len(counts)),
            )
            if len(self._cache) >= self.CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = found
        return found

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        # documents x distinct words (counts), then distinct words x n-grams (cached)
        ids: dict[str, int] = {}
        tokens: list[int] = []
        indptr = [0]
        for text in texts:
            for word in self._preprocess(text).split():
                index = ids.get(word)
                if index is None:
                    index = ids[word] = len(ids)
                tokens.append(index)
            indptr.append(len(tokens))
        n = len(self.tfidf.vocabulary_)
        if not ids:
            return sparse.csr_matrix((len(texts), n), dtype=np.float32)
        documents = sparse.csr_matrix(
            (np.ones(len(tokens), np.float32), np.asarray(tokens), np.asarray(indptr)),
            shape=(len(texts), len(ids)),
        )
        parts = [self._word(word) for word in ids]  # dicts keep insertion order
        grams = sparse.csr_matrix(
            (
                np.concatenate([p[1] for p in parts]),
                np.concatenate([p[0] for p in parts]),
                np.concatenate([[0], np.cumsum([len(p[0]) for p in parts])]),
            ),
            shape=(len(ids), n),
        )
        matrix = (documents @ grams).tocsr()
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
        matrix = matrix @ sparse.diags(self.tfidf.idf_.astype(np.float32))
        return normalize(matrix, copy=False).tocsr()


class Features:
    """Word 1-2-gram TF-IDF beside character 3-5-gram TF-IDF, in one matrix."""

    def __init__(self) -> None:
        self.words = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=2,
            strip_accents="unicode",
            dtype=np.float32,
        )
        self.chars = CharGrams()

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        chars = self.chars.fit_transform(texts)
        words = self.words.fit_transform(texts)
        self.word_names = self.words.get_feature_names_out()
        return sparse.hstack([words, chars], format="csr")

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack(
            [self.words.transform(texts), self.chars.transform(texts)], format="csr"
        )


def _product_lr() -> LogisticRegression:
    return LogisticRegression(C=20.0, max_iter=2000)


def _process_lr() -> LogisticRegression:
    return LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")


def _folds(labels: Sequence[str] | np.ndarray) -> StratifiedKFold:
    """Five folds, or three on large corpora (training time, not accuracy, matters)."""
    counts = np.unique(np.asarray(labels), return_counts=True)[1]
    wanted = 3 if len(labels) >= LARGE_CORPUS else 5
    return StratifiedKFold(
        n_splits=max(2, min(wanted, int(min(counts)))), shuffle=True, random_state=7
    )


def _best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The decision threshold that maximises F1 on out-of-fold scores."""
    best, best_f1 = 0.5, -1.0
    for t in np.arange(0.15, 0.86, 0.025):
        pred = scores >= t
        tp = float(np.sum(pred & truth))
        f1 = 2 * tp / max(1.0, float(pred.sum() + truth.sum()))
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(t), f1
    return round(best, 3)


def wilson_lower(correct: int, total: int, z: float = CONFIDENCE_Z) -> float:
    """Lower bound of the Wilson score interval for a proportion."""
    if total == 0:
        return 0.0
    p = correct / total
    centre = p + z * z / (2 * total)
    margin = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return float((centre - margin) / (1 + z * z / total))


def review_thresholds(
    confidence: np.ndarray,
    predicted: np.ndarray,
    truth: np.ndarray,
    classes: Sequence[str],
) -> dict[str, float]:
    """Per class, the lowest confidence above which predictions are >= 98% correct.

    Chosen on out-of-fold predictions, and cautiously: the Wilson lower bound of the
    accepted predictions' precision (not the raw share) must reach the target, so a
    class with few examples needs a clean record. A class that never reaches it gets
    a threshold above 1, so every prediction of it is reviewed.
    """
    thresholds: dict[str, float] = {}
    for cls in classes:
        mask = predicted == cls
        conf, right = confidence[mask], (truth[mask] == cls)
        order = np.argsort(-conf, kind="stable")
        conf, right = conf[order], right[order]
        best = 1.01
        correct = 0
        for i in range(len(conf)):
            correct += int(right[i])
            # accept the top i+1; keep the lowest cut that holds the target
            if wilson_lower(correct, i + 1) >= ACCEPT_PRECISION and (
                i + 1 == len(conf) or conf[i] > conf[i + 1]
            ):
                best = float(conf[i])
        thresholds[cls] = round(best, 4)
    return thresholds


def train(
    examples: Sequence[Example],
    products: Sequence[str],
    processes: Sequence[Sequence[str]],
    *,
    product_codes: Sequence[str],
    process_codes: Sequence[str],
    version: str | None = None,
) -> Model:
    """Fit both heads and tune thresholds on out-of-fold predictions."""
    started = time.perf_counter()
    texts = [text_of(e) for e in examples]
    y = np.asarray(products)
    features = Features()
    X = features.fit_transform(texts)
    folds = _folds(products)

    oof_scores = cross_val_predict(
        _product_lr(), X, y, cv=folds, method="decision_function", n_jobs=JOBS
    )
    classes = np.unique(y)
    temperature = _fit_temperature(oof_scores, np.searchsorted(classes, y))
    cal_oof = _softmax(oof_scores / temperature)
    cal_pred = classes[cal_oof.argmax(axis=1)]
    cal_conf = cal_oof.max(axis=1)
    review = review_thresholds(cal_conf, cal_pred, y, list(classes))
    product = _product_lr().fit(X, y)
    product.coef_ = np.asfortranarray(product.coef_)

    process_models: dict[str, LogisticRegression] = {}  # code -> fitted head
    process_thresholds: dict[str, float] = {}
    process_oof: dict[str, np.ndarray] = {}
    for code in process_codes:
        truth = np.asarray([code in p for p in processes])
        if truth.sum() < 3:
            continue
        lr = _process_lr()
        scores = cross_val_predict(
            lr,
            X,
            truth,
            cv=_folds(truth.astype(str)),
            method="predict_proba",
            n_jobs=JOBS,
        )[:, 1]
        process_oof[code] = scores
        process_thresholds[code] = _best_threshold(scores, truth)
        process_models[code] = lr.fit(X, truth)

    metrics = _cv_metrics(
        y, cal_pred, cal_conf, review, processes, process_oof, process_thresholds
    )
    metrics["train_seconds"] = round(time.perf_counter() - started, 2)
    metrics["n_examples"] = len(examples)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid() % 1000:03d}"
    return Model(
        version=version or f"v{stamp}",
        features=features,
        product=product,
        temperature=temperature,
        product_classes=tuple(str(c) for c in product.classes_),
        process_codes=tuple(process_models),
        process_coef=np.ascontiguousarray(
            np.column_stack([m.coef_[0] for m in process_models.values()])
            if process_models
            else np.zeros((X.shape[1], 0))  # a corpus with no process labels
        ),
        process_intercept=np.asarray(
            [m.intercept_[0] for m in process_models.values()]
        ),
        process_thresholds=process_thresholds,
        review_thresholds=review,
        metrics=metrics,
    )


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """Temperature scaling: the T that minimises log loss of softmax(scores / T)."""

    def nll(t: float) -> float:
        proba = _softmax(scores / t)
        return float(-np.mean(np.log(proba[np.arange(len(truth)), truth] + 1e-12)))

    result = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded")
    return round(float(result.x), 4)


def _cv_metrics(
    y: np.ndarray,
    cal_pred: np.ndarray,
    cal_conf: np.ndarray,
    review: dict[str, float],
    processes: Sequence[Sequence[str]],
    process_oof: dict[str, np.ndarray],
    thresholds: dict[str, float],
) -> dict[str, Any]:
    accepted = np.asarray(
        [c >= review[p] for p, c in zip(cal_pred, cal_conf, strict=True)]
    )
    tp = fp = fn = 0
    for code, scores in process_oof.items():
        truth = np.asarray([code in p for p in processes], dtype=bool)
        pred = np.asarray(scores >= thresholds[code], dtype=bool)
        tp += int(np.sum(pred & truth))
        fp += int(np.sum(pred & ~truth))
        fn += int(np.sum(~pred & truth))
    return {
        "cv_product_accuracy": round(float(np.mean(cal_pred == y)), 4),
        "cv_accepted_share": round(float(accepted.mean()), 4),
        "cv_accepted_accuracy": round(
            float(np.mean(cal_pred[accepted] == y[accepted])), 4
        )
        if accepted.any()
        else None,
        "cv_process_micro_f1": round(2 * tp / max(1, 2 * tp + fp + fn), 4),
    }


def predict(model: Model, example: Example) -> Prediction:
    return predict_many(model, [example])[0]


def predict_many(model: Model, examples: Sequence[Example]) -> list[Prediction]:
    if not examples:
        return []
    X = model.features.transform([text_of(e) for e in examples])
    proba = _softmax(model.product.decision_function(X) / model.temperature)
    process_proba = expit(X @ model.process_coef + model.process_intercept)
    results = []
    for row in range(X.shape[0]):
        best = int(np.argmax(proba[row]))
        product = model.product_classes[best]
        confidence = float(proba[row, best])
        scores = {
            code: round(float(process_proba[row, j]), 4)
            for j, code in enumerate(model.process_codes)
        }
        chosen = tuple(c for c, s in scores.items() if s >= model.process_thresholds[c])
        results.append(
            Prediction(
                product_type=product,
                product_confidence=round(confidence, 4),
                product_probabilities={
                    c: round(float(p), 4)
                    for c, p in zip(model.product_classes, proba[row], strict=True)
                },
                process_types=chosen,
                process_confidences=scores,
                needs_review=confidence < model.review_thresholds.get(product, 1.01),
                explanation=_explain(model, X[row], best, chosen),
                model_version=model.version,
            )
        )
    return results


def _top_terms(
    row: sparse.csr_matrix, weights: np.ndarray, names: np.ndarray, n: int = 5
) -> list[str]:
    """The word features that pushed this class most (characters are not shown)."""
    words = row.indices < len(names)
    indices, values = row.indices[words], row.data[words]
    contrib = values * weights[indices]
    terms: list[str] = []
    for i in np.argsort(-contrib):
        if contrib[i] <= 0 or len(terms) >= n:
            break
        term = str(names[indices[i]])
        if len(term) > 2 and not any(term in t or t in term for t in terms):
            terms.append(term)
    return terms


def _explain(
    model: Model, row: sparse.csr_matrix, best: int, chosen: tuple[str, ...]
) -> dict[str, list[str]]:
    names = model.features.word_names
    explanation = {
        model.product_classes[best]: _top_terms(row, model.product.coef_[best], names)
    }
    for code in chosen:
        column = model.process_coef[:, model.process_codes.index(code)]
        explanation[code] = _top_terms(row, column, names, n=3)
    return explanation


def save(model: Model, directory: Path) -> tuple[Path, str]:
    """Write the artefact; return its path and SHA-256."""
    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    data = buffer.getvalue()
    path = directory / f"{model.version}.joblib"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path, hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=2)
def load(path: str, sha256: str) -> Model:
    """Load an artefact this project built, after checking its digest (cached)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelUnavailable(f"cannot read model file {path}: {exc}") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelUnavailable(f"model file {path} failed its SHA-256 check")
    try:
        model = joblib.load(io.BytesIO(data))
    except Exception as exc:
        raise ModelUnavailable(f"model file {path} could not be loaded: {exc}") from exc
    if not isinstance(model, Model) or model.format != FORMAT:
        raise ModelUnavailable(f"model file {path} is not a model of this version")
    return model
