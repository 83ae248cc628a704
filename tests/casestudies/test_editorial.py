"""Editorial workflow: permissions, guarded transitions, history, anonymisation flags."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from casestudies import services
from casestudies.models import CaseStudy, Revision
from enquiries.models import Enquiry
from tests.helpers import submit

pytestmark = pytest.mark.django_db

DATA: dict[str, Any] = {
    "title": "A printed splint",
    "slug": "a-printed-splint",
    "summary": "How a hospital printed splints.",
    "body": "The office advised on **custom-made** devices.",
    "product_type": "medical-device",
    "process_types": ["additive-manufacturing"],
    "organisation_type": "nhs-public-sector",
    "published": "",
}


def user_with(*codenames: str) -> User:
    user = User.objects.create_user(
        f"u-{'-'.join(codenames) or 'none'}", password="pw", is_staff=True
    )
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def editor_client() -> Client:
    client = Client()
    client.force_login(user_with("change_casestudy"))
    return client


@pytest.fixture
def publisher_client() -> Client:
    client = Client()
    client.force_login(user_with("change_casestudy", "publish_casestudy"))
    return client


def test_an_editor_creates_a_draft_and_history_is_kept(editor_client: Client) -> None:
    response = editor_client.post("/staff/case-studies/new/", DATA)
    study = CaseStudy.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == f"/staff/case-studies/{study.pk}/"
    )
    assert study.status == CaseStudy.Status.DRAFT
    editor_client.post(
        f"/staff/case-studies/{study.pk}/", {**DATA, "title": "A printed wrist splint"}
    )
    assert [r.action for r in Revision.objects.order_by("at", "id")] == [
        "created",
        "edited",
    ]
    assert Client().get("/case-studies/a-printed-splint/").status_code == 404  # draft


def test_people_without_the_editor_permission_are_refused(outsider: Any) -> None:
    client = Client()
    client.force_login(user_with())
    assert client.get("/staff/case-studies/").status_code == 403
    assert client.post("/staff/case-studies/new/", DATA).status_code == 403
    assert CaseStudy.objects.count() == 0


def test_publishing_needs_the_publish_permission(
    editor_client: Client, publisher_client: Client
) -> None:
    study = services.save_case_study(
        case_study=None, editor=None, data={**DATA, "published": None}
    )
    editor_client.post(f"/staff/case-studies/{study.pk}/move/", {"to": "in-review"})
    assert (
        editor_client.post(
            f"/staff/case-studies/{study.pk}/move/", {"to": "published"}
        ).status_code
        == 403
    )
    publisher_client.post(f"/staff/case-studies/{study.pk}/move/", {"to": "published"})
    study.refresh_from_db()
    assert study.status == CaseStudy.Status.PUBLISHED and study.published is not None
    assert Client().get("/case-studies/a-printed-splint/").status_code == 200
    publisher_client.post(f"/staff/case-studies/{study.pk}/move/", {"to": "withdrawn"})
    assert Client().get("/case-studies/a-printed-splint/").status_code == 404


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        ("draft", "in-review", True),
        ("draft", "published", False),
        ("draft", "withdrawn", False),
        ("in-review", "published", True),
        ("in-review", "draft", True),
        ("published", "withdrawn", True),
        ("published", "draft", False),
        ("withdrawn", "draft", True),
        ("withdrawn", "published", False),
        ("draft", "nonsense", False),
    ],
)
def test_every_transition_is_allowed_or_refused(
    start: str, to: str, allowed: bool
) -> None:
    study = CaseStudy.objects.create(
        slug="s",
        title="t",
        summary="s",
        body="b",
        product_type="medical-device",
        status=start,
    )
    if allowed:
        assert (
            services.move_case_study(case_study=study, editor=None, to=to).status == to
        )
    else:
        with pytest.raises(services.TransitionError):
            services.move_case_study(case_study=study, editor=None, to=to)
        study.refresh_from_db()
        assert study.status == start


def test_starting_from_an_enquiry_copies_nothing_and_flags_leaks() -> None:
    editor_client = Client()
    editor_client.force_login(user_with("change_casestudy", "view_all_enquiries"))
    enquiry, _ = submit(
        contact_name="Priya Ramaswamy",
        organisation_name="Quillon Medical Ltd",
        email="priya@quillon.example",
    )
    assert (
        editor_client.post(
            f"/staff/case-studies/from-enquiry/{enquiry.reference}/"
        ).status_code
        == 302
    )
    assert CaseStudy.objects.count() == 0  # an open enquiry cannot be used
    Enquiry.objects.filter(pk=enquiry.pk).update(status=Enquiry.Status.CLOSED)
    editor_client.post(f"/staff/case-studies/from-enquiry/{enquiry.reference}/")
    study = CaseStudy.objects.get()
    assert study.source_enquiry_id == enquiry.pk
    for text in (study.title, study.summary, study.body):
        assert "Priya" not in text and "Quillon" not in text and "lactate" not in text
    assert services.anonymisation_flags(study) == []
    study.body = (
        "Dr Ramaswamy of Quillon wrote from priya@quillon.example about a patch."
    )
    study.save()
    flags = services.anonymisation_flags(study)
    assert {"Ramaswamy", "Quillon", "priya@quillon.example"} <= set(flags)
    assert "Ltd" not in flags
    page = editor_client.get(f"/staff/case-studies/{study.pk}/").content.decode()
    assert "Anonymise them before publishing" in page and "Ramaswamy" in page


def test_preview_shows_an_unpublished_study_to_editors_only(
    editor_client: Client,
) -> None:
    study = services.save_case_study(
        case_study=None, editor=None, data={**DATA, "published": None}
    )
    assert (
        "Preview"
        in editor_client.get(
            f"/staff/case-studies/{study.pk}/preview/"
        ).content.decode()
    )
    assert Client().get(f"/staff/case-studies/{study.pk}/preview/").status_code == 302


def test_a_published_studys_address_cannot_change(editor_client: Client) -> None:
    editor_client.post("/staff/case-studies/new/", DATA)
    study = CaseStudy.objects.get()
    edit = f"/staff/case-studies/{study.pk}/"
    assert editor_client.post(edit, {**DATA, "slug": "a-3d-printed-splint"})
    study.refresh_from_db()
    assert study.slug == "a-3d-printed-splint"  # a draft may still change it
    CaseStudy.objects.filter(pk=study.pk).update(status=CaseStudy.Status.PUBLISHED)

    refused = editor_client.post(edit, {**DATA, "slug": "renamed"})
    assert refused.status_code == 200  # the form again, with its error
    assert "cannot change once a case study has been published" in (
        refused.content.decode()
    )
    study.refresh_from_db()
    assert study.slug == "a-3d-printed-splint"
    assert Client().get("/case-studies/a-3d-printed-splint/").status_code == 200


def test_a_publication_date_cannot_be_in_the_future(editor_client: Client) -> None:
    refused = editor_client.post(
        "/staff/case-studies/new/", {**DATA, "published": "2099-01-01"}
    )
    assert "Publication date must be today or in the past" in refused.content.decode()
    assert not CaseStudy.objects.exists()


def test_the_editor_shows_the_publication_date_as_the_date_input_needs(
    editor_client: Client,
) -> None:
    editor_client.post("/staff/case-studies/new/", {**DATA, "published": "2025-04-08"})
    study = CaseStudy.objects.get()
    page = editor_client.get(f"/staff/case-studies/{study.pk}/").content.decode()
    assert 'type="date" value="2025-04-08"' in page  # else the browser shows it empty
    refused = editor_client.post(
        f"/staff/case-studies/{study.pk}/", {**DATA, "published": "8th of April"}
    )
    assert 'value="8th of April"' in refused.content.decode()  # what was typed stays
