"""The matching engine on its own (no database): direct, neighbour, expansion."""

from __future__ import annotations

import numpy as np

from casestudies import matching

STUDIES = [
    ("flow", "Continuous flow chemistry for an active substance, batch definition"),
    ("ai", "Software as a medical device using machine learning to read scans"),
]
BACKGROUND = [
    "we want to move our synthesis into tubular reactors, is it a major change?",
    "our app uses an algorithm to flag skin cancer from phone photos",
    "kitchen balm sold at craft fairs",
]


def test_background_smaller_than_the_expansion_uses_all_of_it() -> None:
    index = matching.build(STUDIES, background=BACKGROUND)
    assert index is not None and index.background is not None
    assert index.background.expansion.shape == (2, len(BACKGROUND))
    assert index.background.expansion_weights is not None
    assert np.allclose(index.background.expansion_weights.sum(axis=1), 1)


def test_a_query_sharing_nothing_with_the_background_still_ranks() -> None:
    index = matching.build(STUDIES, background=["zzz qqq"])
    assert index is not None
    assert [m.key for m in matching.search(index, "machine learning scans")] == ["ai"]
    scores = matching.scores(index, "machine learning scans")
    assert np.isfinite(scores).all()


def test_no_background_is_direct_similarity_only() -> None:
    index = matching.build(STUDIES)
    assert index is not None and index.background is None
    assert matching.search(index, "machine learning")[0].key == "ai"
