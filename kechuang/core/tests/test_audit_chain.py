"""The audit hash chain: every write is chained, and `audit verify` finds each kind of tampering."""

import contextlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kechuang.core import audit, auditchain
from kechuang.core.models import AuditAction, AuditChainHead, AuditEntry
from kechuang.core.services import system_actor
from kechuang.enterprises import services
from kechuang.enterprises.models import Enterprise


@contextlib.contextmanager
def trigger_lifted():
    """Raw SQL tampering, as someone with database rights could do it."""
    if connection.vendor == "postgresql":
        off = "ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_no_update"
        on = "ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_no_update"
    else:
        off = "DROP TRIGGER core_auditentry_no_update"
        from kechuang.core.migrations._audit_trigger import SQLITE as on
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks for ALTER
        cursor.execute(off)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(on)


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def chain(officer, enterprise):
    """Five chained entries from ordinary service calls."""
    for n in range(5):
        services.update_enterprise(enterprise, {"legal_rep": f"法人{n}"}, acting_user=officer)
    entries = list(AuditEntry.objects.order_by("seq"))
    assert len(entries) == 5
    return entries


def test_entries_are_chained_in_order(chain):
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == auditchain.GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(chain, chain[1:], strict=False))
    head = AuditChainHead.objects.get()
    assert (head.seq, head.entry_hash, head.count) == (5, chain[-1].entry_hash, 5)
    result = auditchain.verify()
    assert result.ok and result.checked == 5


def test_bulk_record_chains_after_single_writes(chain, enterprise):
    actor = system_actor("imports")
    entries = [
        audit.prepare_entry(enterprise, AuditAction.EVENT, actor=actor, event=f"bulk{n}")
        for n in range(3)
    ]
    audit.bulk_record(entries)
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 9)
    )
    assert auditchain.verify().ok


def test_changed_entry_is_reported_with_its_id(chain):
    target = chain[2]
    with trigger_lifted():
        sql("UPDATE core_auditentry SET actor_name = %s WHERE id = %s", ["某人", target.pk])
    result = auditchain.verify()
    assert result.first.kind == "changed" and result.first.entry_id == target.pk


def test_changed_changes_payload_is_reported(chain):
    target = chain[1]
    with trigger_lifted():
        sql(
            "UPDATE core_auditentry SET changes = %s WHERE id = %s",
            [json.dumps({"legal_rep": ["x", "y"]}), target.pk],
        )
    assert auditchain.verify().first.entry_id == target.pk


def test_changed_and_rehashed_entry_breaks_the_next_link(chain):
    target, after = chain[1], chain[2]
    values = list(AuditEntry.objects.filter(pk=target.pk).values_list(*auditchain.HASHED).get())
    values[2] = "某人"
    forged = auditchain.digest(target.seq, target.prev_hash, values, {})
    with trigger_lifted():
        sql(
            "UPDATE core_auditentry SET actor_name = %s, entry_hash = %s WHERE id = %s",
            ["某人", forged, target.pk],
        )
    result = auditchain.verify()
    assert result.first.kind == "broken" and result.first.entry_id == after.pk


def test_deleted_entry_is_reported(chain):
    sql("DELETE FROM core_auditentry WHERE id = %s", [chain[2].pk])
    result = auditchain.verify()
    assert result.first.kind == "deleted" and result.first.entry_id == chain[3].pk
    assert "position 3" in result.first.message


def test_deleted_last_entry_is_reported_by_the_head(chain):
    sql("DELETE FROM core_auditentry WHERE id = %s", [chain[-1].pk])
    result = auditchain.verify()
    assert result.first.kind == "deleted" and result.first.seq == 5


def test_entry_inserted_outside_the_chain_is_reported(chain, officer, enterprise):
    entry = audit.prepare_entry(enterprise, AuditAction.EVENT, actor=officer, event="forged")
    # Written past the chain, as a raw INSERT would.
    AuditEntry.objects.bulk_create([entry])
    result = auditchain.verify()
    assert result.first.kind == "inserted" and result.first.entry_id == entry.pk


def test_entry_appended_without_the_head_is_reported(chain, officer, enterprise):
    last = chain[-1]
    values = [
        last.at,
        officer.pk,
        "伪造",
        "",
        last.content_type_id,
        str(enterprise.pk),
        "x",
        "event",
        "",
        {},
    ]
    forged = auditchain.digest(6, last.entry_hash, values, {})
    entry = AuditEntry(
        at=last.at,
        actor=officer,
        actor_name="伪造",
        content_type_id=last.content_type_id,
        object_id=str(enterprise.pk),
        object_repr="x",
        action="event",
        seq=6,
        prev_hash=last.entry_hash,
        entry_hash=forged,
    )
    AuditEntry.objects.bulk_create([entry])
    result = auditchain.verify()
    assert result.first.kind == "head"


def test_verify_command_passes_then_names_the_broken_entry(chain, capsys):
    call_command("audit", "verify")
    assert "audit chain intact: 5 entries" in capsys.readouterr().out
    with trigger_lifted():
        sql("UPDATE core_auditentry SET object_repr = 'x' WHERE id = %s", [chain[0].pk])
    with pytest.raises(CommandError, match=f"entry #{chain[0].pk}"):
        call_command("audit", "verify")


def test_import_creates_and_updates_are_chained(officer, town, settings, tmp_path):
    from kechuang.core.imports import services as imports
    from kechuang.core.imports.testing import upload, xlsx_bytes
    from kechuang.enterprises.tests.factories import make_uscc

    settings.MEDIA_ROOT = tmp_path
    headers = ["统一社会信用代码", "企业名称", "所属街镇", "注册资本(万元)", "成立日期"]
    for names in (["甲公司", "乙公司"], ["甲公司改", "乙公司改"]):  # creates, then updates
        rows = [[make_uscc(800_000 + n), name, "莘庄镇", 1, None] for n, name in enumerate(names)]
        job = imports.create_import_job(
            "enterprises", upload("企业.xlsx", xlsx_bytes(headers, rows)), acting_user=officer
        )
        imports.dry_run_and_apply(job, acting_user=officer)
    assert Enterprise.objects.filter(name__endswith="改").count() == 2
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, via="import").count() == 2
    result = auditchain.verify()
    assert result.ok, result.problems
    assert result.checked == AuditEntry.objects.count()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_writers_do_not_fork_the_chain(officer, enterprise):
    """Writers in parallel transactions queue on the head; the chain stays one line."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; the race needs PostgreSQL")
    import threading

    from django.db import connections, transaction

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
    result = auditchain.verify()
    assert result.ok, result.problems
    assert result.checked == AuditEntry.objects.count() == 40
