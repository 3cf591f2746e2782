"""Backup and restore: one tar.gz with the database, the uploaded files and a manifest.

The database goes in the engine's own lossless format (docs/decisions/0008-backup-format.md):
PostgreSQL as a `pg_dump -Fc` archive, SQLite as a page copy by the sqlite3 backup API.
The manifest records the row count of every table and the audit seal head; a restore
checks both, and re-verifies every audit entry's MAC and the seal chain, before it says
it succeeded.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connections

FORMAT = 1
MANIFEST = "manifest.json"
DB_MEMBER = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}


class BackupError(Exception):
    """Why a backup or restore was refused or failed, in words an operator can act on."""


def _tables() -> list[str]:
    """Every table of an installed model (auto-created m2m tables included), sorted."""
    names = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            names.add(model._meta.db_table)
    return sorted(names)


def _counts(alias: str, tables: list[str]) -> dict[str, int | None]:
    connection = connections[alias]
    present = set(connection.introspection.table_names())
    out: dict[str, int | None] = {}
    with connection.cursor() as cursor:
        for table in tables:
            if table not in present:
                out[table] = None
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            out[table] = cursor.fetchone()[0]
    return out


def _seal_head(alias: str) -> dict:
    from kechuang.core.models import AuditSealHead

    head = AuditSealHead.objects.using(alias).filter(pk=1).first()
    if head is None:
        return {"seq": 0, "hash": "0" * 64, "count": 0}
    return {"seq": head.seq, "hash": head.hash, "count": head.count}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kechuang")
    except PackageNotFoundError:
        return "unknown"


def _pg_env(db: dict) -> tuple[list[str], dict]:
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _run(cmd: list[str], env: dict) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed; install the PostgreSQL client tools.")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {proc.stderr.strip()[:2000]}")


def _dump_database(alias: str, target: Path) -> None:
    connection = connections[alias]
    if connection.vendor == "postgresql":
        args, env = _pg_env(connection.settings_dict)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args], env)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        dest = sqlite3.connect(target)
        try:
            connection.connection.backup(dest)
        finally:
            dest.close()
    else:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def backup(destination: str | Path, *, alias: str = "default") -> tuple[Path, dict]:
    """Write the archive; `destination` is a file name or a directory (a dated name is chosen)."""
    destination = Path(destination)
    now = dt.datetime.now(dt.UTC)
    if destination.is_dir() or not destination.name.endswith((".tar.gz", ".tgz")):
        destination.mkdir(parents=True, exist_ok=True)
        destination = destination / f"kechuang-backup-{now:%Y%m%d-%H%M%S}.tar.gz"
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose another name.")
    from kechuang.core.auditchain import seal_pending

    vendor = connections[alias].vendor
    tables = _tables()
    seal_pending(using=alias)  # so that the recorded head covers every committed entry
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / DB_MEMBER.get(vendor, "database")
        # Counts and head are read in the same transaction as (SQLite) or just before (pg_dump
        # takes its own snapshot) the dump; a restore compares against these.
        manifest = {
            "format": FORMAT,
            "app_version": _version(),
            "created_at": now.isoformat(),
            "engine": vendor,
            "database_file": db_file.name,
            "counts": _counts(alias, tables),
            "audit_seal_head": _seal_head(alias),
            "media_files": 0,
        }
        _dump_database(alias, db_file)
        partial = destination.with_suffix(destination.suffix + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(db_file, arcname=db_file.name)
            media = _media_root()
            if media.is_dir():
                for path in sorted(media.rglob("*")):
                    if path.is_file():
                        tar.add(path, arcname=f"media/{path.relative_to(media).as_posix()}")
                        manifest["media_files"] += 1
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
        partial.rename(destination)
    return destination, manifest


# ---------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------


@dataclass
class RestoreReport:
    manifest: dict
    media_files: int = 0
    count_mismatches: dict[str, tuple] = field(default_factory=dict)
    chain_problems: list[str] = field(default_factory=list)
    head_matches: bool = True

    @property
    def ok(self) -> bool:
        return not self.count_mismatches and not self.chain_problems and self.head_matches


def _holds_data(alias: str, tables: list[str]) -> bool:
    counts = _counts(alias, tables)
    ignore = {"django_migrations", "django_content_type", "auth_permission", "core_auditsealhead"}
    return any(n for t, n in counts.items() if t not in ignore and n)


def _restore_database(alias: str, db_file: Path, engine: str, had_tables: bool) -> None:
    connection = connections[alias]
    if connection.vendor != engine:
        raise BackupError(
            f"The archive holds a {engine} database; the target is {connection.vendor}. "
            "Restore onto the same engine."
        )
    connection.close()
    if engine == "postgresql":
        args, env = _pg_env(connection.settings_dict)
        clean = ["--clean", "--if-exists"] if had_tables else []
        cmd = ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", *clean]
        _run([*cmd, *args, str(db_file)], env)
    else:
        source = sqlite3.connect(db_file)
        connection.ensure_connection()
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        connection.close()


def _extract_media(tar: tarfile.TarFile, media: Path) -> int:
    n = 0
    for member in tar.getmembers():
        if not member.name.startswith("media/") or not member.isfile():
            continue
        member.name = member.name[len("media/") :]
        tar.extract(member, media, filter="data")  # refuses absolute paths and ".."
        n += 1
    return n


def restore(
    archive: str | Path, *, alias: str = "default", force: bool = False, media_root=None
) -> RestoreReport:
    """Restore an archive onto an empty database (or any, with force), then verify it."""
    from kechuang.core.auditchain import verify

    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist.")
    tables = _tables()
    present = set(connections[alias].introspection.table_names())
    if not force and present and _holds_data(alias, [t for t in tables if t in present]):
        raise BackupError(
            "The target database already holds data; restore onto an empty database "
            "or pass --force to replace it."
        )
    media = Path(media_root) if media_root is not None else _media_root()
    with tarfile.open(archive, "r:gz") as tar, tempfile.TemporaryDirectory() as tmp:
        try:
            manifest = json.load(tar.extractfile(MANIFEST))
        except KeyError:
            raise BackupError(
                f"{archive} has no {MANIFEST}; it is not a kechuang backup."
            ) from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
        db_member = tar.getmember(manifest["database_file"])
        tar.extract(db_member, tmp, filter="data")
        _restore_database(alias, Path(tmp) / db_member.name, manifest["engine"], bool(present))
        report = RestoreReport(manifest=manifest, media_files=_extract_media(tar, media))
    counts = _counts(alias, list(manifest["counts"]))
    for table, expected in manifest["counts"].items():
        if counts.get(table) != expected:
            report.count_mismatches[table] = (expected, counts.get(table))
    result = verify(limit=20, using=alias)
    report.chain_problems = [p.message for p in result.problems]
    head = manifest["audit_seal_head"]
    report.head_matches = (result.head_seq, result.head_hash) == (head["seq"], head["hash"])
    return report
