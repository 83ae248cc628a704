"""Evaluation metrics for triage (plain Python, no Django)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def ndcg_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 5) -> float:
    dcg = sum(
        (2 ** grades.get(slug, 0) - 1) / math.log2(i + 2)
        for i, slug in enumerate(ranked[:k])
    )
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def product_report(
    gold: Sequence[str], predicted: Sequence[str], classes: Sequence[str]
) -> dict[str, Any]:
    per_class: dict[str, dict[str, float]] = {}
    for cls in classes:
        tp = sum(g == cls and p == cls for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != cls and p == cls for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == cls and p != cls for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = (
            2 * precision * recall / (precision + recall) if precision + recall else 0.0
        )
        per_class[cls] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    present = [c for c in classes if per_class[c]["support"]]
    confusion = {
        g: {
            p: sum(a == g and b == p for a, b in zip(gold, predicted, strict=True))
            for p in classes
        }
        for g in classes
    }
    n = len(gold)
    return {
        "accuracy": round(
            sum(g == p for g, p in zip(gold, predicted, strict=True)) / n, 4
        )
        if n
        else 0.0,
        "macro_f1": round(sum(per_class[c]["f1"] for c in present) / len(present), 4)
        if present
        else 0.0,
        "per_class": per_class,
        "confusion": confusion,
    }


def process_report(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    codes: Sequence[str],
) -> dict[str, Any]:
    tp_all = fp_all = fn_all = 0
    f1s = []
    per_code = {}
    for code in codes:
        tp = sum(code in g and code in p for g, p in zip(gold, predicted, strict=True))
        fp = sum(
            code not in g and code in p for g, p in zip(gold, predicted, strict=True)
        )
        fn = sum(
            code in g and code not in p for g, p in zip(gold, predicted, strict=True)
        )
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        if tp + fn:
            f1s.append(f1)
        per_code[code] = {"f1": round(f1, 4), "support": tp + fn}
    denominator = 2 * tp_all + fp_all + fn_all
    exact = sum(set(g) == set(p) for g, p in zip(gold, predicted, strict=True))
    return {
        "micro_f1": round(2 * tp_all / denominator, 4) if denominator else 1.0,
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        "exact_set_match": round(exact / len(gold), 4) if gold else 0.0,
        "per_code": per_code,
    }


def matching_report(
    ranked: Sequence[Sequence[str]], grades: Sequence[Mapping[str, int]]
) -> dict[str, Any]:
    judged = [
        (r, g)
        for r, g in zip(ranked, grades, strict=True)
        if any(v > 0 for v in g.values())
    ]
    if not judged:
        return {"ndcg_at_5": None, "hit_at_3": None, "judged": 0}
    ndcg = sum(ndcg_at(r, g) for r, g in judged) / len(judged)
    hits = sum(any(g.get(s, 0) > 0 for s in r[:3]) for r, g in judged) / len(judged)
    return {
        "ndcg_at_5": round(ndcg, 4),
        "hit_at_3": round(hits, 4),
        "judged": len(judged),
    }
