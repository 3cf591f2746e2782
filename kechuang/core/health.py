"""Health of a deployment for the load balancer: the database and the background workers.

`kechuang worker` runs django-tasks-db's worker with a thread that records a heartbeat
(`WorkerHeartbeat`) every HEARTBEAT_SECONDS; `/healthz` reads the newest one. The heartbeat
is operational telemetry, not a business record: no acting user, no audit entry.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from kechuang.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15
# Four missed beats: a worker busy with a long task still beats (the beat is a thread).
STALE_AFTER = timedelta(seconds=60)
# A worker that died without cleaning up is reported stale for a day, then forgotten.
FORGET_AFTER = timedelta(days=1)


def database_status() -> str:
    """ "ok" when a trivial query answers, "error" otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("health check: the database does not answer", exc_info=True)
        return "error"
    return "ok"


def worker_status(now=None) -> str:
    """ "ok" if some worker beat within STALE_AFTER, "stale" if only older beats, else "absent"."""
    now = now or timezone.now()
    newest = WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True)
    last_seen = newest.first()
    if last_seen is None:
        return "absent"
    return "ok" if now - last_seen <= STALE_AFTER else "stale"


def record_heartbeat(worker_id: str, *, started_at=None) -> None:
    """Write this process's beat and forget workers silent for more than FORGET_AFTER."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"last_seen": now, "hostname": socket.gethostname()[:255], "pid": os.getpid()},
        create_defaults={
            "last_seen": now,
            "started_at": started_at or now,
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
        },
    )
    WorkerHeartbeat.objects.filter(last_seen__lt=now - FORGET_AFTER).delete()


def forget_worker(worker_id: str) -> None:
    """Remove a cleanly stopped worker, so that "absent" means no worker is running."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


class HeartbeatThread(threading.Thread):
    """Beats every `interval` seconds, with its own database connection, until stopped.

    Each beat also seals pending audit entries (core.auditchain.seal_pending).
    """

    def __init__(self, worker_id: str, interval: float = HEARTBEAT_SECONDS):
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.started_at = timezone.now()
        self._stopped = threading.Event()

    def run(self) -> None:
        while True:
            self.beat()
            if self._stopped.wait(self.interval):
                break
        connection.close()

    def beat(self) -> None:
        close_old_connections()
        try:
            record_heartbeat(self.worker_id, started_at=self.started_at)
        except DatabaseError:
            # The database may be briefly away (restart, lock); the next beat retries.
            logger.warning("worker heartbeat not recorded", exc_info=True)
            connection.close()
            return
        # Seal audit entries whose own after-commit seal was skipped (another sealer held the
        # head) or lost (the process ended first); verify reports any left unsealed too long.
        from kechuang.core import auditchain

        try:
            auditchain.seal_pending()
        except DatabaseError:
            logger.warning("audit entries not sealed by the worker", exc_info=True)
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
