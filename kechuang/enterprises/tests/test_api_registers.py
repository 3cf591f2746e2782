"""Reference registers through the API: written by services, audited, never deleted."""

from kechuang.core.models import AuditAction, AuditEntry
from kechuang.enterprises.models import QualificationType, WatchList


def test_watch_list_is_created_and_renamed_through_the_service(api_for, officer):
    api = api_for(officer)
    created = api.post(
        "/api/watch-lists/", {"code": "IPO", "name": "拟上市企业后备库(测试)"}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    renamed = api.patch(f"/api/watch-lists/{pk}/", {"purpose": "科创板储备"}, format="json")
    assert renamed.status_code == 200
    assert WatchList.objects.get(pk=pk).purpose == "科创板储备"
    actions = list(
        AuditEntry.objects.filter(object_id=str(pk), content_type__model="watchlist")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE]


def test_watch_lists_and_qualification_types_are_not_deleted(api_for, officer):
    api = api_for(officer)
    watch_list = WatchList.objects.create(code="T1", name="测试名单")
    qtype = QualificationType.objects.create(code="T_QUAL", name="测试资质", level="district")
    refused = api.delete(f"/api/watch-lists/{watch_list.pk}/")
    assert refused.status_code == 403
    assert "history" in refused.json()["error"]["message"]
    assert api.delete(f"/api/qualification-types/{qtype.pk}/").status_code == 403
    assert WatchList.objects.filter(pk=watch_list.pk).exists()
    assert QualificationType.objects.filter(pk=qtype.pk).exists()


def test_station_staff_cannot_define_watch_lists(api_for, town_officer):
    response = api_for(town_officer).post(
        "/api/watch-lists/", {"code": "X", "name": "不应创建"}, format="json"
    )
    assert response.status_code == 403
    assert not WatchList.objects.filter(code="X").exists()
