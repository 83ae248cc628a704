"""Walk every URL pattern anonymously: only public pages may answer 200."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC = {
    "",
    "enquiry/",
    "enquiry/check/",
    "enquiry/submitted/",
    "status/<str:token>/",
    "privacy/",
    "accessibility/",
    "case-studies/",
    "case-studies/feed/",
    "case-studies/<slug:slug>/",
    "staff/login/",  # the sign-in page itself
    "healthz",  # for load balancers: counts and ages only, no personal data
    "api/v1/status/<str:token>/",
    "api/v1/case-studies/",
    "api/v1/case-studies/<slug:slug>/",
    "api/schema/",  # the API is documented in the open
    "api/docs/",
}


def walk(patterns: list[Any], prefix: str = "") -> list[str]:
    found = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            found += walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            found.append(route)
    return found


def concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    route = re.sub(r"<[^>]+>", "demo-1", route)
    route = re.sub(r"\(\?P<[^>]+>[^)]*\)", "1", route)
    return "/" + re.sub(r"[\^$?*+()\[\]]", "", route)


def test_only_public_pages_answer_200_to_anonymous_visitors() -> None:
    client = Client()
    leaks = []
    routes = walk(get_resolver().url_patterns)
    assert len(routes) > 20  # admin included
    for route in routes:
        if route in PUBLIC:
            continue
        response = client.get(concrete(route))
        if response.status_code == 200:
            leaks.append(route)
    assert leaks == []


def test_the_staff_queue_redirects_anonymous_visitors_to_sign_in() -> None:
    response = Client().get("/staff/")
    assert response.status_code == 302
    assert "/staff/login/" in response["Location"]


def test_the_staff_queue_is_refused_to_non_staff(outsider: Any) -> None:
    client = Client()
    client.force_login(outsider)
    assert client.get("/staff/").status_code == 403


def test_frontend_css_assets_are_sent_to_the_static_files() -> None:
    """GOV.UK Frontend's CSS asks for /assets/fonts/...; those must not 404."""
    client = Client()
    response = client.get("/assets/fonts/bold-b542beb274-v2.woff2")
    assert response.status_code == 301
    target = response["Location"]
    assert target == "/static/govuk/assets/fonts/bold-b542beb274-v2.woff2"
    assert client.get(target).status_code == 200
    for bad in ("/assets/../config/settings.py", "/assets/fonts/%2e%2e/x", "/assets/x"):
        assert client.get(bad).status_code == 404, bad
