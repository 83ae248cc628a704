"""Staff sign-in with a second factor (TOTP), its set-up, and sign-out."""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .forms import SignInForm, TokenForm


def staff_home(user: Any) -> str:
    """The first page a staff member can use: the queue, else the case-study editor."""
    if not user.has_perm("enquiries.view_enquiry") and user.has_perm(
        "casestudies.change_casestudy"
    ):
        return reverse("casestudies:editor")
    return reverse("triage:queue")


def _asked_next(request: HttpRequest) -> str:
    """The page to go to after signing in, if one was asked for on this site."""
    asked = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(asked, allowed_hosts={request.get_host()})
    return asked if safe else ""


@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "next": _asked_next(request)}
    if request.method != "POST" or not form.is_valid():
        return render(
            request, "triage/sign_in.html", context, status=400 if form.errors else 200
        )
    data = form.cleaned_data
    user = authenticate(request, username=data["username"], password=data["password"])
    if user is None or not user.is_staff:
        form.add_error(None, "The username, password or code is not right")
        return render(request, "triage/sign_in.html", context, status=400)
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    device = next(
        (d for d in devices if data["token"] and d.verify_token(data["token"])), None
    )
    token_ok = not devices or device is not None
    if settings.STAFF_TWO_FACTOR and not token_ok:
        # a wrong code counts towards the lockout like a wrong password
        user_login_failed.send(
            sender=__name__,
            credentials={"username": data["username"]},
            request=request,
        )
        form.add_error("token", "The username, password or code is not right")
        return render(request, "triage/sign_in.html", context, status=400)
    login(request, user)
    if device is not None and settings.STAFF_TWO_FACTOR:
        otp_login(request, device)
    if settings.STAFF_TWO_FACTOR and not devices:
        return redirect("triage:two_factor")
    return redirect(_asked_next(request) or staff_home(user))


@require_http_methods(["GET", "HEAD", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app on first sign-in (confirmed with one code)."""
    user: Any = request.user
    if not user.is_authenticated:
        return redirect("triage:login")
    if (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        and not user.is_verified()
    ):
        logout(request)  # a device exists: the code belongs on the sign-in page
        return redirect("triage:login")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or (
        TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            # a new app replaces the old one: codes from a lost phone stop working
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            otp_login(request, device)
            return redirect(staff_home(user))
        form.add_error("token", "That code is not right; check the time on your phone")
    secret = base64.b32encode(device.bin_key).decode()
    context = {"form": form, "secret": secret, "config_url": device.config_url}
    return render(
        request, "triage/two_factor.html", context, status=400 if form.errors else 200
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("enquiries:start")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: say so in the service's own page, with a way to somewhere useful."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "You do not have permission"}, status=403)
    user: Any = request.user
    staff = user.is_authenticated and user.is_staff
    context = {"home": staff_home(user) if staff else "/", "staff": staff}
    return render(request, "403.html", context, status=403)
