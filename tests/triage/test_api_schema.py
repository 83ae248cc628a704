"""Schemathesis over the whole OpenAPI schema: no server errors, no responses that
break the schema, for every operation, with and without a staff token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import Group, User
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from triage import services

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Like Django's test client: don't close the test transaction's connection
    at the end of each request (the WSGI app here is called directly)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token(db: None) -> str:
    user = User.objects.create_user("api-officer", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Triage officer"))
    return services.create_api_token(user=user)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_without_auth(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_with_a_staff_token(case: Any, staff_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Token {staff_token}"}, checks=CHECKS
    )
