"""`kechuang worker`: django-tasks-db's `db_worker` (same options) plus a heartbeat for /healthz."""

import contextlib
import os

from django.db import DatabaseError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from kechuang.core.health import HeartbeatThread, forget_worker


class Command(db_worker.Command):
    help = (
        "Run the background-task worker (django-tasks-db's db_worker) and record a heartbeat "
        "every 15 s, which /healthz reports."
    )

    def handle(self, *args, worker_id: str, reload: bool, **options):
        # With --reload the parent process only restarts the child; the child beats.
        if reload and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, worker_id=worker_id, reload=reload, **options)
        heartbeat = HeartbeatThread(worker_id)
        heartbeat.start()
        try:
            return super().handle(*args, worker_id=worker_id, reload=reload, **options)
        finally:
            heartbeat.stop()
            heartbeat.join(timeout=5)
            # If the database is away, the row goes stale and is forgotten after a day.
            with contextlib.suppress(DatabaseError):
                forget_worker(worker_id)
