"""Deployment: production settings, security headers, logs, compose file."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.test import Client

from enquiries.logs import JsonFormatter, redact
from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parent.parent
PROD = {
    "PRODUCTION": "true",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/triage",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "triage.example.org,127.0.0.1",
    "EMAIL_URL": "smtp+tls://user:pass@smtp.example.org:587",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in PROD}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(
    not hasattr(__import__("django"), "VERSION")
    or __import__("django").VERSION < (6, 0),
    reason="CSP and MAILERS need Django 6",
)
def test_production_settings_pass_the_deploy_check() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PROD)
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_to_start_without_its_secrets() -> None:
    result = manage("check", PRODUCTION="true")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "DATABASE_URL" in result.stderr


@pytest.mark.django_db
def test_pages_carry_a_csp_with_a_nonce_and_no_inline_code(client: Client) -> None:
    response = client.get("/enquiry/")
    policy = response.headers.get("Content-Security-Policy", "")
    if not policy:
        pytest.skip("Django's built-in CSP needs Django 6")
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None
    assert f'nonce="{nonce.group(1)}"' in response.content.decode()
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_templates_have_no_inline_scripts_styles_or_handlers() -> None:
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        text = path.read_text()
        assert 'style="' not in text, path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\son[a-z]+=", text), path


def test_logs_are_json_with_request_ids_and_no_secrets(client: Client) -> None:
    record = logging.LogRecord(
        "x",
        logging.WARNING,
        "f",
        1,
        "Not Found: /status/abcDEF1234567890xyz/ for ada@example.com",
        None,
        None,
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING" and line["request_id"]
    assert "abcDEF" not in line["message"] and "ada@example.com" not in line["message"]
    assert (
        redact("Authorization: Token abcdefghijklmnopqrstuvwxyz")
        == "Authorization: Token [redacted]"
    )


@pytest.mark.django_db
def test_every_response_has_a_request_id(client: Client) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/").headers["X-Request-ID"])
    echoed = client.get("/", HTTP_X_REQUEST_ID="abc-123-def-456")
    assert echoed.headers["X-Request-ID"] == "abc-123-def-456"


def test_the_compose_file_describes_a_complete_stack() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    assert services["flower"]["profiles"] == ["monitoring"]
    for name, service in services.items():
        assert "healthcheck" in service, name
    assert set(compose["volumes"]) >= {"pgdata", "redisdata", "appdata"}
    assert (
        "--appendonly yes" in services["redis"]["command"]
        and "noeviction" in services["redis"]["command"]
    )
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(
        r"(PASSWORD|SECRET_KEY):\s*['\"]?[A-Za-z0-9]{6,}", text
    )  # no literal secrets
    assert "${POSTGRES_PASSWORD" in text
    assert "gunicorn" in services["web"]["command"]


def test_every_setting_is_documented_in_env_example() -> None:
    documented = {
        line.split("=")[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    source = (ROOT / "config" / "settings.py").read_text()
    used = set(re.findall(r'_(?:get|bool|positive_int)\(\s*"([A-Z_]+)"', source)) | {
        "SECRET_KEY",
        "PRODUCTION",
    }
    assert used - documented == set()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.services
def test_gunicorn_serves_the_production_configuration(tmp_path: Path) -> None:
    if (
        not settings.REDIS_URL
        or "postgresql" not in settings.DATABASES["default"]["ENGINE"]
    ):
        reason = "needs PostgreSQL and Redis (run .ci/run)"
        pytest.fail(reason) if REQUIRE_SERVICES else pytest.skip(reason)
    db = settings.DATABASES["default"]
    env = {**PROD, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME'].removeprefix('test_')}",
           "REDIS_URL": settings.REDIS_URL, "STATIC_ROOT": str(tmp_path / "static")}  # fmt: skip
    assert manage("collectstatic", "--noinput", **env).returncode == 0
    port = free_port()
    base = {k: v for k, v in os.environ.items() if k not in PROD}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT, env={**base, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        plain = _get(f"{url}/enquiry/", {})
        assert plain.status in (301, 302) and plain.headers["Location"].startswith(
            "https://"
        )
        secure = _get(f"{url}/enquiry/", {"X-Forwarded-Proto": "https"})
        assert secure.status == 200
        assert "max-age=31536000" in secure.headers["Strict-Transport-Security"]
        assert "nonce-" in secure.headers["Content-Security-Policy"]
        assert secure.headers["X-Content-Type-Options"] == "nosniff"
        cookie = secure.headers.get("Set-Cookie", "")
        assert "csrftoken" in cookie and "Secure" in cookie
        css = _get(f"{url}/static/app/app.css", {"X-Forwarded-Proto": "https"})
        assert css.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _get(url: str, headers: dict[str, str]) -> Any:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Host": "127.0.0.1", **headers})
    try:
        return opener.open(request, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc
