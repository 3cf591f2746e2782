"""Backup and restore: a restore onto a fresh database has the same rows, files and audit chain."""

import io
import json
import tarfile
import uuid

import pytest
from django.db import connections
from django.db.utils import load_backend

from kechuang.core import auditchain
from kechuang.core.backup import BackupError, backup, restore
from kechuang.core.imports import services as imports
from kechuang.core.imports.testing import upload, xlsx_bytes
from kechuang.core.models import AuditEntry, ImportJob
from kechuang.enterprises import services
from kechuang.enterprises.models import Enterprise
from kechuang.enterprises.tests.factories import make_uscc

# pg_dump reads committed data only; serialized_rollback leaves the database as the browser
# tests (also transactional) expect it: flushed without re-created content types.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def fresh_database(tmp_path):
    """A second, empty database of the same engine, reachable as the alias "restored"."""
    default = connections["default"]
    settings_dict = dict(default.settings_dict)
    name = None
    if default.vendor == "postgresql":
        name = f"kc_restore_{uuid.uuid4().hex[:8]}"
        with default._nodb_cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        settings_dict["NAME"] = name
    else:
        settings_dict["NAME"] = str(tmp_path / "restored.sqlite3")
    # A connection made here, not declared in settings, which the test case allows.
    connections["restored"] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(
        settings_dict, "restored"
    )
    yield "restored"
    connections["restored"].close()
    del connections["restored"]
    if name:
        with default._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def data(officer, town, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    for n in range(3):
        enterprise = services.create_enterprise(
            {"uscc": make_uscc(700_000 + n), "name": f"备份测试公司{n}", "jurisdiction": town},
            acting_user=officer,
        )
        services.update_enterprise(enterprise, {"legal_rep": f"法人{n}"}, acting_user=officer)
    rows = [[make_uscc(710_000), "导入公司", "莘庄镇", 1, None]]
    headers = ["统一社会信用代码", "企业名称", "所属街镇", "注册资本(万元)", "成立日期"]
    job = imports.create_import_job(
        "enterprises", upload("企业.xlsx", xlsx_bytes(headers, rows)), acting_user=officer
    )
    imports.dry_run_and_apply(job, acting_user=officer)
    return job


def test_restore_onto_a_fresh_database_has_same_counts_files_and_chain(
    data, fresh_database, tmp_path
):
    archive, manifest = backup(tmp_path / "out")
    assert archive.name.endswith(".tar.gz")
    assert manifest["counts"]["enterprises_enterprise"] == 4
    assert manifest["media_files"] == 1
    # Every committed entry is sealed by the time of the backup, and the head records it.
    assert manifest["audit_seal_head"]["seq"] == AuditEntry.objects.count()
    assert manifest["audit_seal_head"]["count"] == AuditEntry.objects.count()

    report = restore(archive, alias=fresh_database, media_root=tmp_path / "media2")
    assert report.ok, (report.count_mismatches, report.chain_problems)
    assert Enterprise.objects.using(fresh_database).count() == 4
    assert AuditEntry.objects.using(fresh_database).count() == AuditEntry.objects.count()
    assert auditchain.verify(using=fresh_database).ok
    job = ImportJob.objects.using(fresh_database).get()
    restored_file = tmp_path / "media2" / job.file.name
    assert restored_file.read_bytes() == (tmp_path / "media" / data.file.name).read_bytes()


def test_restore_refuses_a_database_that_holds_data(data, tmp_path):
    archive, _ = backup(tmp_path / "b.tar.gz")
    with pytest.raises(BackupError, match="--force"):
        restore(archive, media_root=tmp_path / "m")


def test_restore_reports_counts_that_differ_from_the_manifest(data, fresh_database, tmp_path):
    archive, _ = backup(tmp_path / "b.tar.gz")
    # Rewrite the manifest as if the backup had one more enterprise than its database.
    edited = tmp_path / "edited.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(edited, "w:gz") as dst:
        for member in src.getmembers():
            content = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(content)
                manifest["counts"]["enterprises_enterprise"] += 1
                content = json.dumps(manifest).encode()
                member.size = len(content)
            dst.addfile(member, io.BytesIO(content))
    report = restore(edited, alias=fresh_database, media_root=tmp_path / "m")
    assert not report.ok
    assert report.count_mismatches == {"enterprises_enterprise": (5, 4)}


def test_restore_reports_a_seal_head_that_differs_from_the_manifest(data, fresh_database, tmp_path):
    archive, _ = backup(tmp_path / "b.tar.gz")
    # As if the last seals had been cut off after the backup was taken.
    edited = tmp_path / "edited.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(edited, "w:gz") as dst:
        for member in src.getmembers():
            content = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(content)
                manifest["audit_seal_head"]["seq"] += 1
                content = json.dumps(manifest).encode()
                member.size = len(content)
            dst.addfile(member, io.BytesIO(content))
    report = restore(edited, alias=fresh_database, media_root=tmp_path / "m")
    assert not report.ok
    assert not report.head_matches and report.chain_problems == []
