"""The audit log records who changed what (before -> after) and cannot be altered."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from kechuang.core.audit import audit_via
from kechuang.core.models import AuditAction, AuditEntry
from kechuang.enterprises import services
from kechuang.enterprises.tests.factories import make_uscc


def test_api_change_leaves_entry_with_before_and_after(api_for, officer, enterprise):
    old_name = enterprise.name
    response = api_for(officer).patch(
        f"/api/enterprises/{enterprise.pk}/", {"name": "上海莘庄新名称科技有限公司"}, format="json"
    )
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.for_object(enterprise).get(action=AuditAction.UPDATE)
    assert entry.actor == officer
    assert entry.via == "api"
    assert entry.changes == {"name": [old_name, "上海莘庄新名称科技有限公司"]}


def test_service_create_and_delete_are_recorded(officer, town):
    uscc = make_uscc(7)
    with audit_via("command"):
        enterprise = services.create_enterprise(
            {"uscc": uscc, "name": "上海审计测试有限公司", "jurisdiction": town},
            acting_user=officer,
        )
    created = AuditEntry.objects.for_object(enterprise).get()
    assert created.action == AuditAction.CREATE
    assert created.via == "command"
    assert created.changes["name"] == [None, "上海审计测试有限公司"]
    pk = enterprise.pk
    services.delete_enterprise(enterprise, acting_user=officer)
    deleted = AuditEntry.objects.filter(object_id=str(pk), action=AuditAction.DELETE).get()
    assert deleted.changes["uscc"] == [uscc, None]


def test_unchanged_save_writes_no_entry(officer, enterprise):
    services.update_enterprise(enterprise, {"name": enterprise.name}, acting_user=officer)
    assert not AuditEntry.objects.for_object(enterprise).exists()


def test_entries_cannot_be_changed_or_deleted_through_the_orm(officer, enterprise):
    services.update_enterprise(enterprise, {"legal_rep": "张三"}, acting_user=officer)
    entry = AuditEntry.objects.for_object(enterprise).get()
    entry.actor_name = "someone else"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.filter(pk=entry.pk).update(actor_name="x")
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).actor_name == str(officer)


def test_database_refuses_update_of_an_entry(officer, enterprise):
    services.update_enterprise(enterprise, {"legal_rep": "李四"}, acting_user=officer)
    entry = AuditEntry.objects.for_object(enterprise).get()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET actor_name = %s WHERE id = %s", ["forged", entry.pk]
        )
    assert AuditEntry.objects.get(pk=entry.pk).actor_name == str(officer)


def test_audit_api_is_read_only(api_for, officer, enterprise):
    services.update_enterprise(enterprise, {"legal_rep": "王五"}, acting_user=officer)
    entry = AuditEntry.objects.for_object(enterprise).get()
    api = api_for(officer)
    assert api.get("/api/audit/").json()["count"] == 1
    assert api.patch(f"/api/audit/{entry.pk}/", {"actor_name": "x"}).status_code == 405
    assert api.delete(f"/api/audit/{entry.pk}/").status_code == 405
    assert api.post("/api/audit/", {}).status_code == 405


def test_station_staff_cannot_read_global_log(client_for, api_for, town_officer):
    assert client_for(town_officer).get("/core/audit/").status_code == 403
    assert api_for(town_officer).get("/api/audit/").status_code == 403


def test_object_history_is_shown_only_to_who_may_see_the_object(
    client, officer, town_officer, other_town_officer, enterprise
):
    services.update_enterprise(enterprise, {"legal_rep": "赵六"}, acting_user=officer)
    url = f"/core/audit/enterprises/enterprise/{enterprise.pk}/"
    client.force_login(town_officer)
    page = client.get(url)
    assert page.status_code == 200
    assert "赵六" in page.content.decode()
    client.force_login(other_town_officer)
    assert client.get(url).status_code == 404


def test_global_log_filters_by_actor(client_for, officer, town_officer, enterprise):
    services.update_enterprise(enterprise, {"legal_rep": "甲"}, acting_user=officer)
    services.update_enterprise(enterprise, {"legal_rep": "乙"}, acting_user=town_officer)
    page = client_for(officer).get("/core/audit/", {"actor_name": "town_officer"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "甲 → 乙" in body
    assert [e.actor for e in page.context["page"].object_list] == [town_officer]
