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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion

ACCEPT_PRECISION = 0.98
FORMAT = 1


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
    vectorizer: FeatureUnion
    product: LogisticRegression
    temperature: float  # calibration: softmax(decision / temperature)
    product_classes: tuple[str, ...]
    process: dict[str, LogisticRegression]
    process_thresholds: dict[str, float]
    review_thresholds: dict[str, float]
    metrics: dict[str, Any] = field(default_factory=dict)
    feature_names: np.ndarray = field(default_factory=lambda: np.array([]))
    format: int = FORMAT


def text_of(example: Example) -> str:
    return f"{example.title}\n{example.title}\n{example.description}"


def _vectorizer() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=2,
                    strip_accents="unicode",
                    lowercase=True,
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    sublinear_tf=True,
                    min_df=2,
                    max_features=60_000,
                    strip_accents="unicode",
                ),
            ),
        ]
    )


def _product_lr() -> LogisticRegression:
    return LogisticRegression(C=20.0, max_iter=2000)


def _process_lr() -> LogisticRegression:
    return LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")


def _folds(labels: Sequence[str] | np.ndarray) -> StratifiedKFold:
    smallest = min(np.unique(np.asarray(labels), return_counts=True)[1])
    return StratifiedKFold(
        n_splits=max(2, min(5, smallest)), shuffle=True, random_state=7
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


def review_thresholds(
    confidence: np.ndarray,
    predicted: np.ndarray,
    truth: np.ndarray,
    classes: Sequence[str],
) -> dict[str, float]:
    """Per class, the lowest confidence above which predictions are >= 98% correct.

    Chosen on out-of-fold predictions; a class that never reaches the target gets a
    threshold above 1, so every prediction of it is reviewed.
    """
    thresholds: dict[str, float] = {}
    for cls in classes:
        mask = predicted == cls
        conf, right = confidence[mask], (truth[mask] == cls)
        order = np.argsort(-conf)
        conf, right = conf[order], right[order]
        best = 1.01
        correct = 0
        for i in range(len(conf)):
            correct += int(right[i])
            # accept the top i+1; keep the lowest cut that holds the target
            if correct / (i + 1) >= ACCEPT_PRECISION and (
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
    vectorizer = _vectorizer()
    X = vectorizer.fit_transform(texts).tocsr()
    folds = _folds(products)

    oof_scores = cross_val_predict(
        _product_lr(), X, y, cv=folds, method="decision_function"
    )
    classes = np.unique(y)
    temperature = _fit_temperature(oof_scores, np.searchsorted(classes, y))
    cal_oof = _softmax(oof_scores / temperature)
    cal_pred = classes[cal_oof.argmax(axis=1)]
    cal_conf = cal_oof.max(axis=1)
    review = review_thresholds(cal_conf, cal_pred, y, list(classes))
    product = _product_lr().fit(X, y)
    product.coef_ = np.asfortranarray(product.coef_)

    process_models: dict[str, LogisticRegression] = {}
    process_thresholds: dict[str, float] = {}
    process_oof: dict[str, np.ndarray] = {}
    for code in process_codes:
        truth = np.asarray([code in p for p in processes])
        if truth.sum() < 3:
            continue
        lr = _process_lr()
        scores = cross_val_predict(
            lr, X, truth, cv=_folds(truth.astype(str)), method="predict_proba"
        )[:, 1]
        process_oof[code] = scores
        process_thresholds[code] = _best_threshold(scores, truth)
        lr.fit(X, truth)
        lr.coef_ = np.asfortranarray(lr.coef_)
        process_models[code] = lr

    metrics = _cv_metrics(
        y, cal_pred, cal_conf, review, processes, process_oof, process_thresholds
    )
    metrics["train_seconds"] = round(time.perf_counter() - started, 2)
    metrics["n_examples"] = len(examples)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid() % 1000:03d}"
    return Model(
        version=version or f"v{stamp}",
        vectorizer=vectorizer,
        product=product,
        temperature=temperature,
        product_classes=tuple(str(c) for c in product.classes_),
        process=process_models,
        process_thresholds=process_thresholds,
        review_thresholds=review,
        metrics=metrics,
        feature_names=vectorizer.get_feature_names_out(),
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
    X = model.vectorizer.transform([text_of(e) for e in examples]).tocsr()
    proba = _softmax(model.product.decision_function(X) / model.temperature)
    process_scores = {
        code: lr.predict_proba(X)[:, 1] for code, lr in model.process.items()
    }
    results = []
    for row in range(X.shape[0]):
        best = int(np.argmax(proba[row]))
        product = model.product_classes[best]
        confidence = float(proba[row, best])
        scores = {code: round(float(s[row]), 4) for code, s in process_scores.items()}
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
    contrib = row.data * weights[row.indices]
    order = np.argsort(-contrib)
    terms: list[str] = []
    for i in order:
        if contrib[i] <= 0 or len(terms) >= n:
            break
        term = str(names[row.indices[i]]).split("__", 1)[-1].strip()
        if len(term) > 2 and not any(term in t or t in term for t in terms):
            terms.append(term)
    return terms


def _explain(
    model: Model, row: sparse.csr_matrix, best: int, chosen: tuple[str, ...]
) -> dict[str, list[str]]:
    names = model.feature_names
    explanation = {
        model.product_classes[best]: _top_terms(row, model.product.coef_[best], names)
    }
    for code in chosen:
        explanation[code] = _top_terms(row, model.process[code].coef_[0], names, n=3)
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
