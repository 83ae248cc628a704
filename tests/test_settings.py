"""Bad configuration stops start-up with a message that names the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "notadb://x"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("SECRET_KEY", "short"),
        ("RESPONSE_TARGET_WORKING_DAYS", "-3"),
        ("SUBMIT_RATE_LIMIT_PER_HOUR", "lots"),
    ],
)
def test_a_bad_value_fails_loudly_naming_the_variable(name: str, value: str) -> None:
    result = start(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr.splitlines()[-1]


def test_defaults_start_cleanly() -> None:
    result = start()
    assert result.returncode == 0, result.stderr
