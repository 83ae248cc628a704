"""axe-core over every public and staff page, error states included, at WCAG 2.2 AA;
and the public journey completed with the keyboard alone.

Runs on SQLite or PostgreSQL (no worker needed: classification runs in-process here).
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import BrowserContext, FilePayload, Page, expect
from pytest_django.live_server_helper import LiveServer

from casestudies.models import CaseStudy
from enquiries.models import Enquiry
from tests.browser.conftest import (
    fill_enquiry_form,
    form_fields,
    screenshot,
    signed_in,
)
from tests.conftest import _staff
from tests.helpers import submit
from triage import services as triage_services
from triage.models import ClassifierVersion

pytestmark = pytest.mark.django_db(transaction=True)

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE = Axe()


def violations(page: Page) -> list[str]:
    """axe's WCAG 2.2 A/AA violations on the page, one readable line each."""
    result = AXE.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_22_AA},
            "resultTypes": ["violations"],
        },
    )
    found = []
    for v in result.response["violations"]:
        targets = [", ".join(node["target"]) for node in v["nodes"]][:3]
        found.append(f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at {targets}")
    return found


@pytest.fixture
def site(
    live_server: LiveServer, active_model: ClassifierVersion, settings: Any
) -> dict[str, Any]:
    """A small working office: case studies, classified and answered enquiries."""
    settings.SITE_URL = live_server.url
    study = CaseStudy.objects.create(
        slug="closed-loop-insulin",
        title="A closed-loop insulin pump and its dosing algorithm",
        summary="A manufacturer asked how the pump and its software are regulated.",
        body="## What we advised\n\nThe pump is a **medical device**; the dosing "
        "algorithm is part of it. See [our guidance](https://example.org/guidance).",
        product_type="drug-device-combination",
        process_types=["digital-design-and-manufacture"],
        status="published",
    )
    CaseStudy.objects.create(
        slug="draft-study",
        title="A draft",
        summary="Draft",
        body="Draft",
        product_type="medical-device",
        status="draft",
    )
    answered, token = submit()
    triage_services.reply_to_enquiry(
        enquiry=answered,
        author=None,
        body="Thank you: see the case study.",
        case_study_slugs=[study.slug],
    )
    waiting, _ = submit(
        title="Home test for a urinary infection", email="b@example.org"
    )
    chief = _staff("chief", "Administrator", "Case-study editor")
    return {"study": study, "answered": answered, "token": token,
            "waiting": waiting, "chief": chief}  # fmt: skip


def test_public_pages_and_their_error_states_have_no_violations(
    context: BrowserContext, live_server: LiveServer, site: dict[str, Any]
) -> None:
    page = context.new_page()
    base = live_server.url
    found: list[str] = []

    def check(path: str, status: int = 200) -> None:
        response = page.goto(base + path)
        assert response is not None and response.status == status, path
        assert page.url == base + path, f"{path} went to {page.url}"
        found.extend(violations(page))

    check("/")
    check("/enquiry/")
    check(f"/status/{site['token']}/")
    check("/status/not-a-real-token/", 404)
    check("/privacy/")
    check("/accessibility/")
    check("/case-studies/")
    check("/case-studies/?product_type=drug-device-combination&q=insulin")
    check("/case-studies/?q=nothing-matches-this")
    check(f"/case-studies/{site['study'].slug}/")
    check("/case-studies/draft-study/", 404)
    check("/no-such-page/", 404)
    check("/staff/login/")

    # The form's error state: nothing filled in.
    page.goto(base + "/enquiry/")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    found.extend(violations(page))
    screenshot(page, "a11y-form-errors")
    # ... an upload of the wrong kind.
    page.goto(base + "/enquiry/")
    fill_enquiry_form(page)
    page.set_input_files(
        "#id_attachments",
        files=[
            FilePayload(
                name="run.exe",
                mimeType="application/octet-stream",
                buffer=b"MZ\x90\x00" * 8,
            )
        ],
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("run.exe")
    found.extend(violations(page))
    # The check-your-answers page with suggestions, then the confirmation.
    page.goto(base + "/enquiry/")
    fill_enquiry_form(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Accept and send")).to_be_visible()
    found.extend(violations(page))
    page.get_by_role("button", name="Accept and send").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("Enquiry sent")
    found.extend(violations(page))
    # Sign-in with wrong details.
    page.goto(base + "/staff/login/")
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    found.extend(violations(page))

    assert not found, "\n".join(found)


def test_staff_pages_have_no_violations(
    context: BrowserContext, live_server: LiveServer, site: dict[str, Any]
) -> None:
    chief: User = site["chief"]
    signed_in(context, chief, live_server.url)
    page = context.new_page()
    found: list[str] = []
    answered: Enquiry = site["answered"]
    waiting: Enquiry = site["waiting"]
    study: CaseStudy = site["study"]
    paths = [
        "/staff/",
        "/staff/?tab=needs-review",
        "/staff/?tab=overdue",
        "/staff/?q=insulin&product_type=medical-device",
        f"/staff/enquiries/{answered.reference}/",
        f"/staff/enquiries/{waiting.reference}/",
        "/staff/model/",
        "/staff/insight/",
        "/staff/insight/?section=model",
        "/staff/insight/?section=horizon",
        "/staff/data-requests/",
        f"/staff/data-requests/?email={answered.email}",
        "/staff/case-studies/",
        "/staff/case-studies/new/",
        f"/staff/case-studies/{study.pk}/",
        f"/staff/case-studies/{study.pk}/preview/",
    ]
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        assert page.url == live_server.url + path, f"{path} went to {page.url}"
        found.extend(violations(page))
    # Open every disclosure on the enquiry page and check again.
    page.goto(f"{live_server.url}/staff/enquiries/{waiting.reference}/")
    for summary in page.locator("summary").all():
        summary.click()
    found.extend(violations(page))
    # An editor's error state: an empty case study.
    page.goto(live_server.url + "/staff/case-studies/new/")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    found.extend(violations(page))
    screenshot(page, "a11y-editor-errors")
    # A data request that cannot be done, and a threshold that is not a number.
    page.goto(live_server.url + "/staff/data-requests/")
    page.fill("#id_email", "not-an-email")
    page.get_by_role("button", name="Erase").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    found.extend(violations(page))
    page.goto(live_server.url + "/staff/model/")
    page.locator("input[inputmode=decimal]").first.fill("high")
    page.get_by_role("button", name="Save thresholds").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    found.extend(violations(page))
    assert not found, "\n".join(found)


def test_the_checker_reports_violations(context: BrowserContext) -> None:
    """The check above can fail: a page with known faults gives their rule ids."""
    page = context.new_page()
    page.set_content(
        "<html><head><title>Faulty</title></head><body><main>"
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<input type="text" name="unlabelled">'
        '<p style="color:#bbb;background:#fff">Faint text</p>'
        "</main></body></html>"
    )
    rules = {line.split(": ")[1].split(" ")[0] for line in violations(page)}
    assert {"image-alt", "label", "color-contrast", "html-has-lang"} <= rules


def test_the_public_journey_with_the_keyboard_alone(
    context: BrowserContext, live_server: LiveServer, site: dict[str, Any]
) -> None:
    """Tab, type, arrow keys, space and enter only: no clicks, no direct filling."""
    page = context.new_page()
    keys = page.keyboard
    data = form_fields()
    page.goto(live_server.url + "/")

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            keys.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    # The skip link is the first thing the keyboard reaches.
    keys.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('govuk-skip-link')")
    tab_to("a[href='/enquiry/']")
    keys.press("Enter")
    page.wait_for_url("**/enquiry/")
    tab_to("#id_organisation_name")
    keys.type(data["organisation_name"])
    tab_to("input[name=organisation_type]")
    keys.press("Space")  # the first radio: choose it
    tab_to("#id_contact_name")
    keys.type(data["contact_name"])
    tab_to("#id_email")
    keys.type(data["email"])
    tab_to("input[name=development_stage]")
    keys.press("ArrowDown")  # arrow keys move through a radio group
    tab_to("#id_title")
    keys.type(data["title"])
    tab_to("#id_description")
    keys.type(data["description"])
    tab_to("#id_consent")
    keys.press("Space")
    tab_to("button[type=submit]")
    screenshot(page, "keyboard-form")
    keys.press("Enter")
    expect(page.get_by_role("button", name="Accept and send")).to_be_visible()
    tab_to("button[type=submit]")
    keys.press("Enter")
    expect(page.locator(".govuk-panel__title")).to_have_text("Enquiry sent")
    tab_to("a[href*='/status/']")
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "keyboard-status")
    enquiry = Enquiry.objects.order_by("-pk").first()
    assert enquiry is not None and enquiry.title == data["title"]
    assert enquiry.development_stage != ""
    # Every focusable element shows where the focus is (GOV.UK's yellow focus state).
    tab_to("a")
    outline = page.evaluate("getComputedStyle(document.activeElement).backgroundColor")
    assert outline in {"rgb(255, 221, 0)", "rgba(255, 221, 0, 1)"}, outline
