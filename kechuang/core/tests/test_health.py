"""/healthz for the load balancer, and the worker heartbeat it reads."""

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone

from kechuang.core import health
from kechuang.core.models import WorkerHeartbeat


def _beat(seconds_ago: float, worker_id: str = "w1") -> None:
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        hostname="host",
        pid=1,
        last_seen=timezone.now() - timedelta(seconds=seconds_ago),
    )


@pytest.mark.django_db
def test_healthz_is_public_and_reports_a_live_worker(client):
    _beat(5)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "worker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_sets_no_cookie_and_creates_no_session(client):
    response = client.get("/healthz")
    assert not response.cookies
    assert Session.objects.count() == 0


@pytest.mark.django_db
def test_healthz_without_worker_is_degraded_but_serving(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "worker": "absent"}


@pytest.mark.django_db
def test_healthz_with_silent_worker_reports_stale(client):
    _beat(health.STALE_AFTER.total_seconds() + 5)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"] == "stale"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "worker": "unknown"}


@pytest.mark.django_db
def test_healthz_answers_plain_http_probes_while_pages_redirect_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


@pytest.mark.django_db
def test_healthz_answers_head_probes_and_refuses_writes(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_worker_status_boundaries():
    now = timezone.now()
    assert health.worker_status(now) == "absent"
    WorkerHeartbeat.objects.create(worker_id="w", hostname="h", pid=1, last_seen=now)
    assert health.worker_status(now + health.STALE_AFTER) == "ok"
    assert health.worker_status(now + health.STALE_AFTER + timedelta(seconds=1)) == "stale"


@pytest.mark.django_db
def test_a_beat_updates_its_row_and_forgets_long_dead_workers():
    _beat(health.FORGET_AFTER.total_seconds() + 60, worker_id="dead")
    health.record_heartbeat("alive")
    first = WorkerHeartbeat.objects.get(worker_id="alive")
    health.record_heartbeat("alive")
    second = WorkerHeartbeat.objects.get(worker_id="alive")
    assert second.last_seen >= first.last_seen
    assert second.started_at == first.started_at
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["alive"]


@pytest.mark.django_db(transaction=True)
def test_heartbeat_thread_beats_in_the_background_until_stopped():
    thread = health.HeartbeatThread("threaded", interval=0.05)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not WorkerHeartbeat.objects.filter(worker_id="threaded").exists():
            assert time.monotonic() < deadline, "no heartbeat recorded"
            time.sleep(0.05)
    finally:
        thread.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert health.worker_status() == "ok"


@pytest.mark.django_db(transaction=True)
def test_worker_command_removes_its_heartbeat_when_it_stops(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    call_command("worker", "--batch", "--no-startup-delay", "--worker-id", "batch-1", verbosity=0)
    assert not WorkerHeartbeat.objects.filter(worker_id="batch-1").exists()


@pytest.mark.django_db(transaction=True)
def test_a_beat_seals_audit_entries_left_pending(monkeypatch):
    """An entry whose after-commit seal never ran is sealed by the worker's next beat."""
    from kechuang.core import audit, auditchain
    from kechuang.core.models import AuditSeal
    from kechuang.core.tests.factories import UserFactory

    officer = UserFactory(username="beat_officer")
    with monkeypatch.context() as patched:  # the process "ends" before its seal runs
        patched.setattr(auditchain, "seal_after_commit", lambda *a, **k: None)
        entry = audit.record_event(officer, "probe", actor=officer)
    assert not AuditSeal.objects.filter(entry_id=entry.pk).exists()
    health.HeartbeatThread("sealer").beat()
    assert AuditSeal.objects.filter(entry_id=entry.pk).exists()
    assert auditchain.verify().ok
