"""Back-office access: sign-in, second factor and permission, checked on every view."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

View = Callable[..., HttpResponse | FileResponse]


def staff_required(perm: str | None = None) -> Callable[[View], View]:
    """Signed in, staff, second factor verified (when required) and holding `perm`."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponse | FileResponse:
            user: Any = request.user
            if not user.is_authenticated:
                return redirect_to_login(
                    request.get_full_path(), reverse("triage:login")
                )
            if not user.is_staff:
                raise PermissionDenied("Staff only")
            if settings.STAFF_TWO_FACTOR and not user.is_verified():
                return redirect("triage:two_factor")
            if perm and not user.has_perm(perm):
                raise PermissionDenied(f"Needs {perm}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def session_limits(get_response: View) -> View:
    """Staff sessions: idle expiry (SESSION_COOKIE_AGE) slides with every request,
    and there is an absolute lifetime whatever the activity."""

    def middleware(request: HttpRequest) -> HttpResponse | FileResponse:
        if request.user.is_authenticated:
            request.session.modified = True  # saved again: the idle clock restarts
            started = request.session.setdefault("signed_in_at", time.time())
            if time.time() - float(started) > settings.STAFF_SESSION_MAX_SECONDS:
                logout(request)
                return redirect_to_login(
                    request.get_full_path(), reverse("triage:login")
                )
        return get_response(request)

    return middleware
