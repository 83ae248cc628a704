"""A real Redis broker, a real Celery worker process and a real PostgreSQL database.

These tests run wherever DATABASE_URL points at PostgreSQL and REDIS_URL at Redis;
.ci/run sets both (and REQUIRE_SERVICES=1, which turns a skip into a failure).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import signal
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from enquiries.models import Enquiry, Event
from tests.helpers import VALID, submit
from tests.services import (
    Worker,
    classified,
    redis_client,
    restart_redis,
    start_redis,
    wait_for,
)
from triage import classifier, services, tasks
from triage.models import ClassifierVersion, Triage

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]


def test_a_form_submission_is_classified_by_a_real_worker(worker: Worker) -> None:
    client = Client()
    assert client.post("/enquiry/", VALID).status_code == 302
    assert client.post("/enquiry/check/").status_code == 302
    enquiry = Enquiry.objects.get()
    wait_for(classified(enquiry.pk), 30, "classification")
    triage = Triage.objects.get(enquiry=enquiry)
    assert triage.model_version == "vtest"
    assert Event.objects.filter(enquiry=enquiry, action="classified").count() == 1


def test_task_messages_carry_ids_only(worker_env: dict[str, str]) -> None:
    enquiry, _ = submit()  # no worker running: the message waits in Redis
    raw: list[bytes] = redis_client().lrange("celery", 0, -1)  # type: ignore[assignment]
    assert len(raw) == 1
    envelope = json.loads(raw[0])
    body = json.loads(base64.b64decode(envelope["body"]))
    assert body[0] == [enquiry.pk] and body[1] == {}
    text = raw[0].decode() + json.dumps(body)
    for personal in (
        VALID["email"],
        VALID["contact_name"],
        VALID["organisation_name"],
        "lactate",
    ):
        assert personal not in text


def test_a_duplicate_delivery_gives_one_classification_and_one_audit_entry(
    worker: Worker,
) -> None:
    enquiry, _ = submit()
    tasks.classify_enquiry.delay(enquiry.pk)
    tasks.classify_enquiry.delay(enquiry.pk)
    wait_for(classified(enquiry.pk), 30, "classification")
    wait_for(lambda: redis_client().llen("celery") == 0, 30, "the queue to drain")
    time.sleep(0.5)
    assert Triage.objects.filter(enquiry=enquiry).count() == 1
    assert Event.objects.filter(enquiry=enquiry, action="classified").count() == 1


def test_a_worker_child_killed_mid_task_still_classifies_once(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "enqueue_classification", lambda pk: None)
    enquiry, _ = submit()
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
    ) as blocker:
        blocker.execute(
            "SELECT id FROM enquiries_enquiry WHERE id = %s FOR UPDATE", [enquiry.pk]
        )
        tasks.classify_enquiry.delay(enquiry.pk)
        waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted"
        wait_for(
            lambda: (blocker.execute(waiting).fetchone() or (0,))[0] > 0,
            30,
            "the task to block on the row",
        )
        victims = worker.child_pids()
        assert victims
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        blocker.rollback()  # release the row for the redelivered task
    wait_for(classified(enquiry.pk), 60, "classification after redelivery")
    time.sleep(0.5)
    assert Triage.objects.filter(enquiry=enquiry).count() == 1
    assert Event.objects.filter(enquiry=enquiry, action="classified").count() == 1


def test_with_the_broker_down_the_form_succeeds_and_the_sweeper_classifies(
    worker_env: dict[str, str],
) -> None:
    restart_redis(stay_down=True)
    try:
        client = Client()
        client.post("/enquiry/", VALID)
        started = time.monotonic()
        response = client.post("/enquiry/check/")
        assert time.monotonic() - started < 10  # a dead broker never hangs the request
        assert response.status_code == 302
        enquiry = Enquiry.objects.get()
        assert enquiry.classify_enqueued_at is None  # handed to the sweeper
    finally:
        start_redis()
    w = Worker(worker_env).start()
    try:
        assert tasks.sweep()["requeued"] == 1
        wait_for(classified(enquiry.pk), 30, "classification after the sweep")
    finally:
        w.stop()


def test_redis_restarted_with_tasks_queued_loses_nothing(
    worker_env: dict[str, str],
) -> None:
    enquiries = [submit()[0] for _ in range(5)]
    assert redis_client().llen("celery") == 5
    restart_redis()  # the queued messages are gone with it (no persistence)
    assert redis_client().llen("celery") == 0
    w = Worker(worker_env).start()
    try:
        time.sleep(1.1)  # past CLASSIFY_SWEEP_AFTER_SECONDS
        assert tasks.sweep()["requeued"] == 5
        for enquiry in enquiries:
            wait_for(classified(enquiry.pk), 30, "classification after the sweep")
    finally:
        w.stop()
    assert Event.objects.filter(action="classified").count() == 5


def test_a_new_model_is_picked_up_without_a_restart(
    worker: Worker, active_model: ClassifierVersion
) -> None:
    first, _ = submit()
    wait_for(classified(first.pk), 30, "first classification")
    model = services.active_model()
    path, digest = classifier.save(
        dataclasses.replace(model, version="vtest2"), Path(settings.CLASSIFIER_DIR)
    )
    newer = ClassifierVersion.objects.create(
        version="vtest2", path=path.name, sha256=digest
    )
    services.activate_classifier(version=newer)
    second, _ = submit()
    wait_for(classified(second.pk), 30, "second classification")
    assert Triage.objects.get(enquiry=first).model_version == "vtest"
    assert Triage.objects.get(enquiry=second).model_version == "vtest2"
