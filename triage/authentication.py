"""API token authentication (kept apart from the views to avoid an import cycle)."""

from __future__ import annotations

from django.contrib.auth.models import User
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from . import services


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`; keys are stored hashed and can be revoked."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        keyword, _, key = header.partition(" ")
        if keyword != self.keyword or not key.strip():
            raise exceptions.AuthenticationFailed(
                "Use the header 'Authorization: Token <key>'"
            )
        user = services.user_for_api_token(key.strip())
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes the token header in the OpenAPI schema."""

    target_class = "triage.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token-based authentication: `Token <key>`",
        }
