"""Staff sign-in: second factor, lockout after repeated failures, session limits."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def two_factor(settings: Any) -> None:
    settings.STAFF_TWO_FACTOR = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # retry a wrong code at once in tests


def test_first_sign_in_sets_up_an_authenticator(
    officer: User, two_factor: None
) -> None:
    client = Client()
    response = client.post("/staff/login/", {"username": "officer", "password": "pw"})
    assert response["Location"] == "/staff/two-factor/"
    assert client.get("/staff/")["Location"] == "/staff/two-factor/"  # not verified yet
    page = client.get("/staff/two-factor/")
    assert "Key:" in page.content.decode()
    device = TOTPDevice.objects.get(user=officer)
    assert client.post("/staff/two-factor/", {"token": "000000"}).status_code == 400
    client.post("/staff/two-factor/", {"token": code(device)})
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/staff/").status_code == 200


def test_sign_in_needs_the_code_once_set_up(officer: User, two_factor: None) -> None:
    device = TOTPDevice.objects.create(user=officer, name="app", confirmed=True)
    client = Client()
    refused = client.post(
        "/staff/login/", {"username": "officer", "password": "pw", "token": "123456"}
    )
    assert refused.status_code == 400
    assert "not right" in refused.content.decode()
    assert client.get("/staff/").status_code == 302
    ok = client.post(
        "/staff/login/",
        {"username": "officer", "password": "pw", "token": code(device)},
    )
    assert ok.status_code == 302 and ok["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_the_admin_also_needs_a_verified_second_factor(
    administrator: User, two_factor: None
) -> None:
    administrator.is_superuser = True
    administrator.save()
    client = Client()
    client.force_login(administrator)  # password only
    assert client.get("/staff/").status_code == 302


def test_repeated_failures_lock_the_account(officer: User) -> None:
    client = Client()
    for _ in range(5):
        client.post("/staff/login/", {"username": "officer", "password": "wrong"})
    locked = client.post("/staff/login/", {"username": "officer", "password": "pw"})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert client.get("/staff/").status_code == 302  # still signed out


def test_next_only_goes_to_this_site(officer: User) -> None:
    response = Client().post(
        "/staff/login/?next=https://evil.example/",
        {"username": "officer", "password": "pw"},
    )
    assert response["Location"] == "/staff/"


def test_sessions_end_after_the_absolute_limit(officer: User, settings: Any) -> None:
    client = Client()
    client.post("/staff/login/", {"username": "officer", "password": "pw"})
    assert client.get("/staff/").status_code == 200
    session = client.session
    session["signed_in_at"] = time.time() - settings.STAFF_SESSION_MAX_SECONDS - 1
    session.save()
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login/" in response["Location"]
    assert client.get("/staff/").status_code == 302


def _expiry(client: Client) -> Any:
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(session_key=key).expire_date


def test_idle_sessions_expire_and_staff_activity_extends_them(
    settings: Any, officer: User
) -> None:
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    client = Client()
    client.force_login(officer)
    before = _expiry(client)
    assert client.get("/staff/").status_code == 200
    assert _expiry(client) > before  # each staff request restarts the idle clock


def test_a_request_that_does_not_change_a_visitors_session_leaves_it_alone() -> None:
    """A font or a second tab must not write back an older copy of the session over
    the visitor's draft enquiry (the draft went missing in a browser test)."""
    client = Client()
    client.get("/enquiry/")
    client.session.save()
    session = client.session
    session["enquiry_draft"] = {"title": "kept"}
    session.save()
    before = _expiry(client)
    client.get("/assets/fonts/bold-b542beb274-v2.woff2")
    client.get("/case-studies/")
    assert _expiry(client) == before
    assert client.session["enquiry_draft"] == {"title": "kept"}


def test_sign_out_is_a_post(officer: User) -> None:
    client = Client()
    client.force_login(officer)
    assert client.get("/staff/logout/").status_code == 405
    client.post("/staff/logout/")
    assert client.get("/staff/").status_code == 302


def test_a_refused_sign_in_never_sends_the_password_back(officer: User) -> None:
    client = Client()
    page = client.post(
        "/staff/login/", {"username": "officer", "password": "MySecretPw123"}
    )
    assert page.status_code == 400
    assert "MySecretPw123" not in page.content.decode()
    assert 'value="officer"' in page.content.decode()  # the username is kept


def test_a_new_authenticator_app_replaces_the_old_one(
    officer: User, two_factor: None
) -> None:
    old = TOTPDevice.objects.create(user=officer, name="old phone", confirmed=True)
    client = Client()
    client.post(
        "/staff/login/", {"username": "officer", "password": "pw", "token": code(old)}
    )
    client.get("/staff/two-factor/")  # set up a new phone while signed in
    new = TOTPDevice.objects.get(user=officer, confirmed=False)
    assert client.post("/staff/two-factor/", {"token": code(new)}).status_code == 302
    assert list(TOTPDevice.objects.filter(user=officer)) == [new]
    client.post("/staff/logout/")
    TOTPDevice.objects.filter(pk=new.pk).update(last_t=-1)  # as in a later 30 s step

    fresh = Client()
    signed_in = fresh.post(
        "/staff/login/", {"username": "officer", "password": "pw", "token": code(new)}
    )
    assert signed_in.status_code == 302
    assert fresh.get("/staff/").status_code == 200


def test_an_editor_starts_in_the_case_study_editor(
    editor: User, two_factor: None
) -> None:
    device = TOTPDevice.objects.create(user=editor, name="app", confirmed=True)
    client = Client()
    response = client.post(
        "/staff/login/", {"username": "editor", "password": "pw", "token": code(device)}
    )
    assert response["Location"] == "/staff/case-studies/"
    denied = client.get("/staff/")  # the queue is not for editors
    assert denied.status_code == 403
    body = denied.content.decode()
    assert "You do not have permission to see this page" in body
    assert 'href="/staff/case-studies/"' in body  # a way on, in the service's own page
    assert "Sign out" in body


def test_a_visitor_sees_the_services_own_403_page(outsider: User) -> None:
    client = Client()
    client.force_login(outsider)
    page = client.get("/staff/")
    assert page.status_code == 403
    assert "for regulator staff only" in page.content.decode()
