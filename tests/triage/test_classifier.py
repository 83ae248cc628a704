"""The classifier module on its own: real training on the project's corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from enquiries import taxonomy
from triage import classifier
from triage import services as triage_services


def load(artefact: tuple[Path, str]) -> classifier.Model:
    classifier.load.cache_clear()
    return classifier.load(str(artefact[0]), artefact[1])


def test_it_predicts_exactly_one_known_product_type_with_probabilities(
    trained_artefact: tuple[Path, str],
) -> None:
    model = load(trained_artefact)
    p = classifier.predict(
        model,
        classifier.Example(
            "Knee implant",
            "A titanium knee implant printed for each patient from CT scans.",
        ),
    )
    assert p.product_type in taxonomy.PRODUCT_TYPES
    assert set(p.product_probabilities) <= set(taxonomy.PRODUCT_TYPES)
    assert sum(p.product_probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert p.product_confidence == max(p.product_probabilities.values())
    assert set(p.process_types) <= set(taxonomy.PROCESS_TYPES)
    assert all(0.0 <= v <= 1.0 for v in p.process_confidences.values())
    assert p.model_version == "vtest"


def test_it_learns_obvious_cases(trained_artefact: tuple[Path, str]) -> None:
    model = load(trained_artefact)
    cases = {
        "Our smartphone app uses a deep learning model to read chest X-ray images and flag possible pneumonia for the radiologist.": "software-ai-device",
        "We make a CBD oil food supplement sold in health food shops and want to know if it is a medicine.": "borderline-product",
        "Autologous CAR-T cells are made from the patient's own T cells, transduced with a lentiviral vector and infused back.": "advanced-therapy",
    }
    predicted = [
        classifier.predict(model, classifier.Example("Question", text)).product_type
        for text in cases
    ]
    assert (
        sum(p == want for p, want in zip(predicted, cases.values(), strict=True)) >= 2
    )


def test_explanations_name_terms_from_the_text(
    trained_artefact: tuple[Path, str],
) -> None:
    model = load(trained_artefact)
    text = "A lateral flow self-test kit that detects antigen in a nasal swab specimen."
    p = classifier.predict(model, classifier.Example("Self-test", text))
    terms = p.explanation[p.product_type]
    assert terms
    assert all(
        any(part in f"self-test {text}".lower() for part in term.split())
        for term in terms
    )


def test_batch_and_single_predictions_agree(trained_artefact: tuple[Path, str]) -> None:
    model = load(trained_artefact)
    examples = [
        classifier.Example(
            "t", f"An enquiry about device number {i} and its sterile packaging."
        )
        for i in range(5)
    ]
    batch = classifier.predict_many(model, examples)
    assert [b.product_confidence for b in batch] == [
        classifier.predict(model, e).product_confidence for e in examples
    ]


def test_review_thresholds_hold_the_precision_target_with_a_margin() -> None:
    # 300 right at high confidence, then 40 below 0.5 of which half are wrong
    conf = np.concatenate([np.linspace(0.99, 0.6, 300), np.linspace(0.5, 0.3, 40)])
    truth = np.array(["a"] * 300 + ["a", "b"] * 20)
    predicted = np.array(["a"] * 340)
    thresholds = classifier.review_thresholds(conf, predicted, truth, ["a", "b"])
    accepted = conf >= thresholds["a"]
    assert 0.3 < thresholds["a"] <= 0.5  # stops inside the noisy tail
    assert np.mean(truth[accepted] == "a") >= 0.98
    assert accepted.sum() >= 300
    assert thresholds["b"] > 1.0  # never predicted: always reviewed


def test_a_few_perfect_predictions_are_not_enough_to_auto_accept() -> None:
    conf = np.array([0.99, 0.98, 0.97])
    labels = np.array(["a", "a", "a"])
    assert classifier.review_thresholds(conf, labels, labels, ["a"])["a"] > 1.0


def test_a_tampered_artefact_is_refused_before_unpickling(
    trained_artefact: tuple[Path, str], tmp_path: Path
) -> None:
    path, digest = trained_artefact
    copy = tmp_path / "model.joblib"
    copy.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(classifier.ModelUnavailable, match="SHA-256"):
        classifier.load(str(copy), digest)
    with pytest.raises(classifier.ModelUnavailable, match="cannot read"):
        classifier.load(str(tmp_path / "missing.joblib"), digest)


def test_training_records_cross_validated_metrics(
    trained_artefact: tuple[Path, str],
) -> None:
    model = load(trained_artefact)
    assert 0.5 < model.metrics["cv_product_accuracy"] <= 1.0
    assert 0.0 < model.metrics["cv_process_micro_f1"] <= 1.0
    assert set(model.process_thresholds) <= set(taxonomy.PROCESS_TYPES)


def test_cached_character_grams_equal_sklearn_char_wb(
    trained_artefact: tuple[Path, str],
) -> None:
    model = load(trained_artefact)
    texts = [
        "Prefilled autoinjector  for adalimumab",
        "Lateral-flow self-test; café",
        "x",
    ]
    ours = model.features.chars.transform(texts).toarray()
    reference = model.features.chars.tfidf.transform(texts).toarray()
    assert np.allclose(ours, reference, atol=1e-6)


def test_cached_character_grams_equal_sklearn_in_batches_too(
    trained_artefact: tuple[Path, str],
) -> None:
    model = load(trained_artefact)
    rows = [
        f"{r['title']} {r['description']}" for r in triage_services.read_corpus()[:200]
    ]
    ours = model.features.chars.transform(rows)
    reference = model.features.chars.tfidf.transform(rows)
    assert abs(ours - reference).max() < 1e-5
