"""The whole journey in a real browser, with a real worker, Redis and PostgreSQL.

An enquirer submits an enquiry with an attachment; the worker classifies it; a triage
officer signs in with a password and an authenticator code, corrects the labels,
routes it and replies with a case study; the enquirer sees the reply on the status
page. A screenshot of each step is saved (tests/browser/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, FilePayload, expect
from pytest_django.live_server_helper import LiveServer

from casestudies.models import CaseStudy
from enquiries.models import Attachment, Enquiry
from tests.browser.conftest import fill_enquiry_form, screenshot
from tests.helpers import pdf_bytes
from tests.services import Worker, classified, wait_for
from triage.models import RelevanceFeedback, Triage

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]


def test_submit_classify_triage_reply_and_read_the_reply(
    worker: Worker,
    live_server: LiveServer,
    context: BrowserContext,
    other_context: BrowserContext,
    officer: User,
    settings: Any,
) -> None:
    settings.SITE_URL = live_server.url
    settings.STAFF_TWO_FACTOR = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    study = CaseStudy.objects.create(
        slug="sweat-sensing-patch",
        title="A wearable sweat-sensing patch for cardiac rehabilitation",
        summary="A start-up asked whether an adhesive patch that measures lactate "
        "in sweat and sends readings to nurses is a medical device.",
        body="The office explained intended purpose, classification rules for "
        "active devices and what clinical evidence a wearable sensor needs.",
        product_type="medical-device",
        status="published",
    )
    enquirer = context.new_page()

    # 1. The enquirer fills in the form, with a PDF, and checks the answers.
    enquirer.goto(f"{live_server.url}/enquiry/")
    fill_enquiry_form(enquirer)
    enquirer.set_input_files(
        "#id_attachments",
        files=[
            FilePayload(
                name="protocol.pdf", mimeType="application/pdf", buffer=pdf_bytes()
            )
        ],
    )
    screenshot(enquirer, "01-enquiry-form")
    enquirer.get_by_role("button", name="Continue").click()
    expect(enquirer.get_by_role("heading", level=1)).to_contain_text("Check")
    expect(enquirer.get_by_text("protocol.pdf")).to_be_visible()
    expect(enquirer.get_by_role("link", name=study.title)).to_be_visible()
    screenshot(enquirer, "02-check-answers")
    enquirer.get_by_role("button", name="Accept and send").click()
    expect(enquirer.locator(".govuk-panel__title")).to_have_text("Enquiry sent")
    reference = enquirer.locator(".govuk-panel__body strong").inner_text()
    status_url = enquirer.locator("a[href*='/status/']").get_attribute("href")
    assert status_url
    screenshot(enquirer, "03-submitted")

    # 2. The worker classifies it.
    enquiry = Enquiry.objects.get(reference=reference)
    assert Attachment.objects.filter(enquiry=enquiry).count() == 1
    wait_for(classified(enquiry.pk), 60, "the worker to classify the enquiry")
    predicted = Triage.objects.get(enquiry=enquiry).product_type
    corrected = (
        "drug-device-combination"
        if predicted != "drug-device-combination"
        else "medical-device"
    )

    # 3. A triage officer signs in with a password and an authenticator code.
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    staff = other_context.new_page()
    staff.goto(f"{live_server.url}/staff/")
    staff.fill("#id_username", "officer")
    staff.fill("#id_password", "pw")
    staff.fill("#id_token", f"{code:06d}")
    screenshot(staff, "04-sign-in")
    staff.get_by_role("button", name="Sign in").click()
    expect(staff.get_by_role("link", name=reference, exact=False)).to_be_visible()
    screenshot(staff, "05-queue")
    staff.get_by_role("link", name=reference, exact=False).first.click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(enquiry.title)

    # 4. Corrects the labels, routes it and replies with the case study.
    staff.get_by_text("Correct the labels").click()
    staff.select_option("#id_product_type", corrected)
    staff.get_by_role("button", name="Save labels").click()
    expect(staff.get_by_text("Confirmed by officer")).to_be_visible()
    staff.check("input[name=teams] + label:text-is('Medical devices')")
    staff.check("input[name=teams] + label:text-is('Clinical development')")
    staff.get_by_role("button", name="Route", exact=True).click()
    expect(staff.locator(".govuk-summary-list")).to_contain_text(
        "Medical devices, Clinical development"
    )
    screenshot(staff, "06-corrected-and-routed")
    staff.fill("#reply-body", "Thank you. This reads as a medical device; see below.")
    staff.get_by_label(study.title).check()
    staff.get_by_role("button", name="Send reply").click()
    expect(staff.get_by_role("status")).to_have_text("Reply sent.")
    expect(staff.locator(".app-pre-wrap", has_text=study.title)).to_be_visible()
    screenshot(staff, "07-replied")

    # 5. The enquirer reads the reply, with the case-study link, on the status page.
    enquirer.goto(status_url)
    expect(enquirer.get_by_text("This reads as a medical device")).to_be_visible()
    enquirer.get_by_role(
        "link", name=f"{live_server.url}/case-studies/{study.slug}/"
    ).click()
    expect(enquirer.get_by_role("heading", level=1)).to_have_text(study.title)
    enquirer.go_back()
    screenshot(enquirer, "08-status-with-reply")

    triage = Triage.objects.get(enquiry=enquiry)
    assert triage.final_product_type == corrected
    assert triage.labels_confirmed_by == officer
    enquiry.refresh_from_db()
    assert enquiry.status == Enquiry.Status.RESPONDED
    assert {r.team.slug for r in enquiry.routings.all()} == {
        "devices",
        "clinical-development",
    }
    assert RelevanceFeedback.objects.filter(enquiry=enquiry, case_study=study).exists()
