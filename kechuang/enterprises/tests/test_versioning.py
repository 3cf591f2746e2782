"""The register's data versions move when a write commits, and never make writers wait."""

import threading

import pytest
from django.db import connection, connections, transaction

from kechuang.core.models import Role
from kechuang.core.tests.factories import JurisdictionFactory, UserFactory
from kechuang.enterprises import services
from kechuang.enterprises.models import DataVersion, Enterprise
from kechuang.enterprises.tests.factories import EnterpriseFactory
from kechuang.enterprises.versioning import data_changed, register_version, table_versions
from kechuang.plans.aggregates import data_versions


def _counter(name: str) -> int:
    # 0 when absent: a transactional test's flush removes the migration's seed rows.
    return DataVersion.objects.filter(name=name).values_list("value", flat=True).first() or 0


@pytest.mark.django_db
def test_counter_moves_once_when_the_transaction_commits(django_capture_on_commit_callbacks):
    before = _counter("qual")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        data_changed("qual")
        data_changed("qual", "report")
        assert _counter("qual") == before  # nothing is written (or locked) before commit
    assert _counter("qual") == before + 1
    assert table_versions(["qual"])["qual"] == str(before + 1)


@pytest.mark.django_db
def test_the_writing_transaction_reads_its_own_change_at_once():
    """Inside its open transaction the writer keys its caches by a private version."""
    register, plans = register_version(), data_versions()
    with transaction.atomic():
        data_changed("report")
        assert register_version() != register
        changed = data_versions()
        assert changed["report"] != plans["report"]
        assert changed["qual"] == plans["qual"]
        data_changed("report")
        assert data_versions()["report"] != changed["report"]  # every write, a new version


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_the_version_alone():
    before = register_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        data_changed("enterprise")
        raise RuntimeError
    assert register_version() == before


def test_unknown_tables_are_refused():
    with pytest.raises(ValueError, match="nope"):
        data_changed("nope")


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two concurrent write transactions (PostgreSQL); SQLite has one writer",
)
@pytest.mark.django_db(transaction=True)
def test_a_writer_holds_no_version_lock_while_its_transaction_is_open():
    """While one transaction that wrote an enterprise is still open, another connection
    edits another enterprise, bumps and reads the versions without waiting."""
    town = JurisdictionFactory(code="310199105", name="莘庄镇")
    first, second = EnterpriseFactory(jurisdiction=town), EnterpriseFactory(jurisdiction=town)
    officer = UserFactory(username="officer", role=Role.COMMISSION)
    wrote, release, errors = threading.Event(), threading.Event(), []

    def long_writer():
        try:
            with transaction.atomic():
                services.update_enterprise(first, {"contact_name": "甲"}, acting_user=officer)
                wrote.set()
                release.wait(timeout=30)
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            wrote.set()
            connections.close_all()

    thread = threading.Thread(target=long_writer)
    thread.start()
    try:
        assert wrote.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # a wait would fail, not hang
        before = register_version()
        services.update_enterprise(second, {"contact_name": "乙"}, acting_user=officer)
        data_changed("enterprise")
        during = register_version()
        assert during != before
        assert Enterprise.objects.get(pk=first.pk).contact_name == ""  # still uncommitted
    finally:
        release.set()
        thread.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert errors == []
    assert Enterprise.objects.get(pk=first.pk).contact_name == "甲"
    assert register_version() != during  # the long writer's commit moved it again
