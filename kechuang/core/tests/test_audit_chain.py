"""Audit tamper evidence: entries are MACed when written, sealed after commit, and verify
names each kind of tampering."""

import contextlib
import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from kechuang.core import audit, auditchain
from kechuang.core.models import AuditAction, AuditEntry, AuditSeal, AuditSealHead
from kechuang.core.services import system_actor
from kechuang.enterprises import services
from kechuang.enterprises.models import Enterprise

TRIGGERS = {
    "core_auditentry": ["core_auditentry_no_update"],
    "core_auditseal": ["core_auditseal_no_change"],
}


@contextlib.contextmanager
def trigger_lifted(table="core_auditentry"):
    """Raw SQL tampering, as someone with database rights could do it."""
    from kechuang.core.migrations import _audit_trigger

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks for ALTER
            for name in TRIGGERS[table]:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
        elif table == "core_auditentry":
            cursor.execute("DROP TRIGGER core_auditentry_no_update")
        else:
            cursor.execute("DROP TRIGGER core_auditseal_no_update")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for name in TRIGGERS[table]:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")
            elif table == "core_auditentry":
                cursor.execute(_audit_trigger.SQLITE)
            else:
                for statement in _audit_trigger.SEAL_SQLITE:
                    cursor.execute(statement)


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def kinds(result):
    return {(p.kind, p.entry_id) for p in result.problems}


@pytest.fixture
def chain(officer, enterprise):
    """Five entries from ordinary service calls, sealed."""
    for n in range(5):
        services.update_enterprise(enterprise, {"legal_rep": f"法人{n}"}, acting_user=officer)
    assert auditchain.seal_pending() == 5
    entries = list(AuditEntry.objects.order_by("id"))
    assert len(entries) == 5
    return entries


def forged_entry(officer, enterprise, **fields):
    """An entry written straight into the table (as raw SQL would), bypassing save()."""
    entry = audit.prepare_entry(enterprise, AuditAction.EVENT, actor=officer, event="forged")
    for name, value in fields.items():
        setattr(entry, name, value)
    AuditEntry.objects.bulk_create([entry])
    return entry


def test_entries_are_signed_and_sealed_in_a_chain(chain):
    assert all(len(e.mac) == 64 and e.mac == auditchain.mac_of(e) for e in chain)
    seals = list(AuditSeal.objects.order_by("seq"))
    assert [s.entry_id for s in seals] == [e.pk for e in chain]
    assert seals[0].prev_hash == auditchain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(seals, seals[1:], strict=False))
    head = AuditSealHead.objects.get()
    assert (head.seq, head.hash, head.count) == (5, seals[-1].hash, 5)
    result = auditchain.verify()
    assert result.ok and result.checked == 5 and result.sealed == 5
    assert auditchain.seal_pending() == 0  # nothing sealed twice


def test_a_transaction_is_sealed_once_after_commit(
    officer, enterprise, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            for n in range(3):
                audit.record_event(enterprise, f"step{n}", actor=officer)
        assert AuditSeal.objects.count() == 0  # not before commit
    assert len(callbacks) == 1
    assert AuditSeal.objects.count() == 3
    assert auditchain.verify().ok


def test_the_mac_depends_on_the_key(chain, settings):
    settings.AUDIT_KEY = "another key"
    result = auditchain.verify()
    assert {p.entry_id for p in result.problems if p.kind == "changed"} == {e.pk for e in chain}


def test_without_a_real_key_audit_writes_stop_with_a_clear_message(officer, enterprise, settings):
    """A command run without SECRET_KEY (the offline placeholder) must not sign entries."""
    from django.core.exceptions import ImproperlyConfigured

    from kechuang.core import audit

    settings.AUDIT_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        audit.record_event(enterprise, "probe", actor=officer)
    assert not AuditEntry.objects.filter(event="probe").exists()


def test_bulk_record_signs_in_one_pass_and_seals_after_commit(
    enterprise, django_capture_on_commit_callbacks
):
    actor = system_actor("imports")
    entries = [
        audit.prepare_entry(enterprise, AuditAction.EVENT, actor=actor, event=f"bulk{n}")
        for n in range(3)
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert audit.bulk_record(entries) == 3
    assert len(callbacks) == 1
    assert all(e.mac == auditchain.mac_of(e) for e in entries)
    assert list(AuditSeal.objects.order_by("seq").values_list("entry_id", flat=True)) == [
        e.pk for e in entries
    ]
    assert auditchain.verify().ok


def test_changed_entry_is_reported_with_its_id(chain):
    target = chain[2]
    with trigger_lifted():
        sql("UPDATE core_auditentry SET actor_name = %s WHERE id = %s", ["某人", target.pk])
    assert kinds(auditchain.verify()) == {("changed", target.pk)}


def test_changed_changes_payload_is_reported(chain):
    target = chain[1]
    with trigger_lifted():
        sql(
            "UPDATE core_auditentry SET changes = %s WHERE id = %s",
            [json.dumps({"legal_rep": ["x", "y"]}), target.pk],
        )
    assert kinds(auditchain.verify()) == {("changed", target.pk)}


def test_entry_changed_and_resigned_with_the_key_is_reported_by_its_seal(chain):
    """Even with the key, a sealed entry cannot be rewritten: its seal holds the old MAC."""
    target = chain[3]
    values = list(AuditEntry.objects.filter(pk=target.pk).values_list(*auditchain.HASHED).get())
    values[2] = "某人"
    with trigger_lifted():
        sql(
            "UPDATE core_auditentry SET actor_name = %s, mac = %s WHERE id = %s",
            ["某人", auditchain.mac(values, {}), target.pk],
        )
    assert kinds(auditchain.verify()) == {("changed", target.pk)}


def test_deleted_middle_entry_is_reported(chain):
    sql("DELETE FROM core_auditentry WHERE id = %s", [chain[2].pk])
    result = auditchain.verify()
    assert kinds(result) == {("deleted", chain[2].pk)}
    assert "sealed at position 3" in result.first.message


def test_deleted_last_entry_is_reported(chain):
    sql("DELETE FROM core_auditentry WHERE id = %s", [chain[-1].pk])
    assert kinds(auditchain.verify()) == {("deleted", chain[-1].pk)}


def test_deleted_last_entry_and_its_seal_are_reported_by_the_head(chain):
    sql("DELETE FROM core_auditentry WHERE id = %s", [chain[-1].pk])
    with trigger_lifted("core_auditseal"):
        sql("DELETE FROM core_auditseal WHERE entry_id = %s", [chain[-1].pk])
    result = auditchain.verify()
    assert [(p.kind, p.seq) for p in result.problems] == [("deleted", 5)]


def test_entry_inserted_without_a_mac_is_reported_and_never_sealed(chain, officer, enterprise):
    entry = forged_entry(officer, enterprise)
    assert entry.mac == ""
    assert auditchain.seal_pending() == 0
    assert kinds(auditchain.verify()) == {("forged", entry.pk)}


def test_entry_inserted_with_a_wrong_key_is_reported_and_never_sealed(chain, officer, enterprise):
    entry = audit.prepare_entry(enterprise, AuditAction.EVENT, actor=officer, event="forged")
    values = [getattr(entry, name) for name in auditchain.HASHED]
    entry = forged_entry(
        officer, enterprise, mac=auditchain.mac(values, {}, auditchain.keyed("guessed key"))
    )
    assert auditchain.seal_pending() == 0
    assert not AuditSeal.objects.filter(entry_id=entry.pk).exists()
    assert kinds(auditchain.verify()) == {("changed", entry.pk)}


def test_verify_does_not_seal_an_unsealed_entry(chain, officer, enterprise):
    entry = forged_entry(officer, enterprise)
    before = AuditSeal.objects.count()
    auditchain.verify()
    assert AuditSeal.objects.count() == before and not AuditSeal.objects.filter(entry_id=entry.pk)


def test_entry_unsealed_past_the_grace_period_is_reported(chain, officer, enterprise):
    recent = audit.record_event(enterprise, "recent", actor=officer)  # not committed: no seal
    old = audit.prepare_entry(enterprise, AuditAction.EVENT, actor=officer, event="old")
    old.at = timezone.now() - auditchain.GRACE - dt.timedelta(minutes=1)
    audit.bulk_record([old])
    result = auditchain.verify()
    assert kinds(result) == {("unsealed", old.pk)}
    assert recent.pk not in {p.entry_id for p in result.problems}


def test_changed_seal_is_reported(chain):
    target = chain[1]
    with trigger_lifted("core_auditseal"):
        sql("UPDATE core_auditseal SET entry_id = entry_id WHERE entry_id = %s", [target.pk])
        sql("UPDATE core_auditseal SET hash = %s WHERE entry_id = %s", ["f" * 64, target.pk])
    result = auditchain.verify()
    # The seal itself no longer hashes, and the next one no longer follows it.
    assert ("seal", target.pk) in kinds(result) and ("seal", chain[2].pk) in kinds(result)


def test_removed_middle_seal_is_reported(chain):
    with trigger_lifted("core_auditseal"):
        sql("DELETE FROM core_auditseal WHERE entry_id = %s", [chain[2].pk])
    result = auditchain.verify()
    assert ("seal", chain[3].pk) in kinds(result)
    assert "position 3 removed" in result.first.message


def test_seals_are_append_only_in_the_model_and_the_database(chain):
    seal = AuditSeal.objects.first()
    with pytest.raises(PermissionDenied):
        seal.save()
    with pytest.raises(PermissionDenied):
        seal.delete()
    with pytest.raises(PermissionDenied):
        AuditSeal.objects.all().delete()
    refused = ["UPDATE core_auditseal SET hash = 'x'"]
    if connection.vendor == "postgresql":  # SQLite: Django's flush deletes row by row
        refused.append("DELETE FROM core_auditseal")
    for statement in refused:
        with pytest.raises(DatabaseError), transaction.atomic():
            sql(statement)
    assert AuditSeal.objects.count() == 5


def test_verify_command_passes_then_names_the_broken_entry(chain, capsys):
    call_command("audit", "verify")
    assert "audit log intact: 5 entries, 5 seals" in capsys.readouterr().out
    with trigger_lifted():
        sql("UPDATE core_auditentry SET object_repr = 'x' WHERE id = %s", [chain[0].pk])
    with pytest.raises(CommandError, match=f"entries #{chain[0].pk}"):
        call_command("audit", "verify")


def test_seal_command_seals_pending_entries(officer, enterprise, capsys):
    audit.record_event(enterprise, "e", actor=officer)
    call_command("audit", "seal")
    assert "sealed 1 audit entries" in capsys.readouterr().out
    assert AuditSeal.objects.count() == 1


def test_import_creates_and_updates_are_signed_and_sealed(
    officer, town, settings, tmp_path, django_capture_on_commit_callbacks
):
    from kechuang.core.imports import services as imports
    from kechuang.core.imports.testing import upload, xlsx_bytes
    from kechuang.enterprises.tests.factories import make_uscc

    settings.MEDIA_ROOT = tmp_path
    headers = ["统一社会信用代码", "企业名称", "所属街镇", "注册资本(万元)", "成立日期"]
    for names in (["甲公司", "乙公司"], ["甲公司改", "乙公司改"]):  # creates, then updates
        rows = [[make_uscc(800_000 + n), name, "莘庄镇", 1, None] for n, name in enumerate(names)]
        with django_capture_on_commit_callbacks(execute=True):
            job = imports.create_import_job(
                "enterprises", upload("企业.xlsx", xlsx_bytes(headers, rows)), acting_user=officer
            )
            imports.dry_run_and_apply(job, acting_user=officer)
        assert AuditSeal.objects.count() > 0
        # (This test is one transaction: the second import's after-commit seal is the first's.)
        auditchain.seal_pending()
    assert Enterprise.objects.filter(name__endswith="改").count() == 2
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, via="import").count() == 2
    assert AuditSeal.objects.count() == AuditEntry.objects.count()
    result = auditchain.verify()
    assert result.ok, result.problems
    assert result.checked == AuditEntry.objects.count()


def _pg_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; this needs PostgreSQL")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audited_writers_do_not_wait_for_each_other(officer, enterprise):
    """One transaction has written audit entries and is still open; another commits at once."""
    _pg_only()
    import threading

    from django.db import connections

    written, release, errors = threading.Event(), threading.Event(), []

    def long_import():
        try:
            with transaction.atomic():
                for n in range(3):
                    audit.record_event(enterprise, f"long-{n}", actor=officer)
                written.set()
                release.wait(30)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            written.set()
            connections.close_all()

    thread = threading.Thread(target=long_import)
    thread.start()
    try:
        assert written.wait(30)
        with transaction.atomic():
            # Any wait for a lock fails at once instead of queueing behind the open transaction.
            sql("SET LOCAL lock_timeout = '500ms'")
            sql("SET LOCAL statement_timeout = '5s'")
            services.update_enterprise(enterprise, {"legal_rep": "并行"}, acting_user=officer)
        # Committed, and sealed after commit while the other transaction is still open.
        assert AuditSeal.objects.count() == 1
        assert AuditEntry.objects.count() == 1  # the open transaction's entries are not visible
    finally:
        release.set()
        thread.join()
    assert errors == []
    assert auditchain.seal_pending() == 0  # the late committer sealed its own after commit
    result = auditchain.verify()
    assert result.ok, result.problems
    assert result.checked == result.sealed == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_writers_and_sealers_keep_one_chain(officer, enterprise):
    """Writers in parallel seal after their commits; sealers skip a busy head; one chain."""
    _pg_only()
    import threading

    from django.db import connections

    errors = []

    def writer(n):
        try:
            for i in range(10):
                with transaction.atomic():
                    audit.record_event(enterprise, f"parallel-{n}-{i}", actor=officer)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    auditchain.seal_pending()  # whatever a skipped sealer left
    result = auditchain.verify()
    assert result.ok, result.problems
    assert result.checked == result.sealed == AuditEntry.objects.count() == 40


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sealer_does_not_queue_behind_another(officer, enterprise):
    """While another sealer holds the head, seal_pending returns at once; the next run seals."""
    _pg_only()
    import threading

    from django.db import connections

    audit.record_event(enterprise, "first", actor=officer)  # sealed after its commit
    locked, release = threading.Event(), threading.Event()

    def other_sealer():
        try:
            with transaction.atomic():
                sql("SELECT 1 FROM core_auditsealhead WHERE id = 1 FOR UPDATE")
                locked.set()
                release.wait(30)
        finally:
            locked.set()
            connections.close_all()

    thread = threading.Thread(target=other_sealer)
    thread.start()
    try:
        assert locked.wait(30)
        with transaction.atomic():
            sql("SET LOCAL lock_timeout = '500ms'")
            audit.record_event(enterprise, "second", actor=officer)
        assert AuditSeal.objects.count() == 1  # its after-commit seal stepped aside
        assert auditchain.seal_pending() == 0
    finally:
        release.set()
        thread.join()
    assert auditchain.seal_pending() == 1
    assert auditchain.verify().ok
