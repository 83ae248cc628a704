"""Shared fixtures: personas, settings overrides, a small trained model, helpers."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import connection

from config.celery import app as celery_app
from enquiries.models import Enquiry
from tests.helpers import VALID, submit
from tests.services import Worker, need_services, redis_client
from triage import classifier
from triage import services as triage_services
from triage.models import ClassifierVersion, Team

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"  # skips become failures


def shared_file(*parts: str) -> Path:
    """A file from ../shared, or a skip with the reason (a user's clone has none)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is not here: ../shared exists only beside the project in CI"
        )
    return path


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    settings.SITE_URL = "http://testserver"
    settings.STAFF_TWO_FACTOR = False  # tests of the second factor switch it on
    cache.clear()
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests start after a flush, which empties the tables that data
    migrations filled (taxonomy terms, teams, routing rules): fill them again."""
    if "transactional_db" not in request.fixturenames and not any(
        m.kwargs.get("transaction") for m in request.node.iter_markers("django_db")
    ):
        return
    request.getfixturevalue("transactional_db")
    for module in ("enquiries.migrations.0002_load_taxonomy",
                   "triage.migrations.0004_default_teams"):  # fmt: skip
        importlib.import_module(module).load(apps, None)


@pytest.fixture(scope="session")
def trained_artefact(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A real model trained once per test session on a slice of the corpus."""
    rows = triage_services.read_corpus()
    rows = rows[::3]  # every third row: enough for every class, quick to train
    model = classifier.train(
        [classifier.Example(r["title"], r["description"]) for r in rows],  # type: ignore[arg-type]
        [str(r["product_type"]) for r in rows],
        [list(r["process_types"]) for r in rows],  # type: ignore[call-overload]
        product_codes=sorted({str(r["product_type"]) for r in rows}),
        process_codes=sorted({p for r in rows for p in r["process_types"]}),  # type: ignore[attr-defined]
        version="vtest",
    )
    directory = tmp_path_factory.mktemp("models")
    return classifier.save(model, directory)


@pytest.fixture
def active_model(
    settings: Any, trained_artefact: tuple[Path, str], tmp_path: Path
) -> ClassifierVersion:
    path, digest = trained_artefact
    settings.CLASSIFIER_DIR = tmp_path / "models"
    settings.CLASSIFIER_DIR.mkdir()
    shutil.copy(path, settings.CLASSIFIER_DIR / path.name)
    return ClassifierVersion.objects.create(
        version="vtest", path=path.name, sha256=digest, is_active=True
    )


# Personas
def _staff(username: str, *groups: str) -> User:
    user = User.objects.create_user(
        username, f"{username}@example.org", "pw", is_staff=True
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def officer(db: None) -> User:
    """A triage officer: sees and works every enquiry."""
    return _staff("officer", "Triage officer")


@pytest.fixture
def specialist(db: None) -> User:
    """A specialist in the Medical devices team only."""
    user = _staff("specialist", "Specialist")
    Team.objects.get(slug="devices").members.add(user)
    return user


@pytest.fixture
def administrator(db: None) -> User:
    return _staff("administrator", "Administrator")


@pytest.fixture
def editor(db: None) -> User:
    return _staff("editor", "Case-study editor")


@pytest.fixture
def outsider(db: None) -> User:
    return User.objects.create_user("outsider", "outsider@example.org", "pw")


@pytest.fixture
def routed(db: None) -> tuple[Enquiry, Enquiry]:
    """One enquiry routed to Medical devices, one to Medicines."""
    device, _ = submit(title="Knee brace with a sensor")
    medicine, _ = submit(title="Flow synthesis of an API")
    triage_services.route_enquiry(
        enquiry=device, actor=None, teams=[Team.objects.get(slug="devices")]
    )
    triage_services.route_enquiry(
        enquiry=medicine, actor=None, teams=[Team.objects.get(slug="medicines")]
    )
    return device, medicine


@pytest.fixture
def form_data() -> dict[str, Any]:
    return dict(VALID)


# A real Celery worker process on Redis and PostgreSQL (tests/services.py)
@pytest.fixture
def worker_env(active_model: ClassifierVersion, settings: Any) -> dict[str, str]:
    need_services()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    redis_client().flushdb()
    celery_app.conf.task_always_eager = False
    settings.CLASSIFY_SWEEP_AFTER_SECONDS = 1
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CLASSIFIER_DIR": str(settings.CLASSIFIER_DIR),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def worker(worker_env: dict[str, str]) -> Iterator[Worker]:
    w = Worker(worker_env).start()
    yield w
    w.stop()
