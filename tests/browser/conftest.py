"""Playwright driving Debian's Chromium (/usr/bin/chromium, headless; never a downloaded
browser) against pytest-django's live server.

Without Chromium the browser tests skip with the reason; with REQUIRE_SERVICES=1 (CI,
where .ci/run installs the package) they fail instead. Screenshots go to
var/artefacts/browser/ (BROWSER_ARTEFACTS overrides), kept as test artefacts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import REQUIRE_SERVICES, ROOT

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTEFACTS = Path(os.environ.get("BROWSER_ARTEFACTS", ROOT / "var/artefacts/browser"))
# The flags Chromium needs on a closed network as root, headless.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def need_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = (
        f"{CHROMIUM} is not installed: the browser tests use Debian's chromium "
        "(apt-get install chromium; .ci/run installs it)"
    )
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    need_chromium()
    # Django refuses ORM calls while an event loop runs in the thread; Playwright's
    # sync API keeps one. The test's own ORM calls are plain synchronous code.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=FLAGS
            )
            yield chromium
            chromium.close()


def new_context(browser: Browser) -> BrowserContext:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile: its own cookies and session."""
    ctx = new_context(browser)
    yield ctx
    ctx.close()


@pytest.fixture
def other_context(browser: Browser) -> Iterator[BrowserContext]:
    """A second person's browser, beside `context`."""
    ctx = new_context(browser)
    yield ctx
    ctx.close()


def signed_in(context: BrowserContext, user: User, base_url: str) -> None:
    """Give a browser context the session of a signed-in member of staff."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": base_url}])


def screenshot(page: Page, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fill_enquiry_form(page: Page, **overrides: Any) -> None:
    """Fill in the public form as a person would, by the fields' ids."""
    data = form_fields(**overrides)
    page.fill("#id_organisation_name", data["organisation_name"])
    page.check(f"input[name=organisation_type][value={data['organisation_type']}]")
    page.fill("#id_contact_name", data["contact_name"])
    page.fill("#id_email", data["email"])
    page.fill("#id_phone", data["phone"])
    page.check(f"input[name=development_stage][value={data['development_stage']}]")
    page.fill("#id_title", data["title"])
    page.fill("#id_description", data["description"])
    page.check("#id_consent")


def form_fields(**overrides: Any) -> dict[str, str]:
    from tests.helpers import VALID

    fields = {k: str(v) for k, v in VALID.items()}
    fields.update({k: str(v) for k, v in overrides.items()})
    return fields
