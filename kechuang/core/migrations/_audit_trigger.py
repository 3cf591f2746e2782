"""The audit table's UPDATE-refusing trigger, for migrations that must lift it briefly."""

SQLITE = """
CREATE TRIGGER IF NOT EXISTS core_auditentry_no_update BEFORE UPDATE ON core_auditentry
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
"""
POSTGRES = """
CREATE OR REPLACE FUNCTION core_auditentry_block_update() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditentry_no_update ON core_auditentry;
CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry
FOR EACH ROW EXECUTE FUNCTION core_auditentry_block_update();
"""


def create(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES)


def drop(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_update")
    elif vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_update ON core_auditentry")


# The seal table refuses UPDATE, and on PostgreSQL row DELETE too (TRUNCATE, which needs the
# table's owner, stays for test flushes and restores). SQLite refuses UPDATE only, as for the
# entries: Django's flush deletes row by row there. The seal head is the sealer's and changes.
SEAL_SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS core_auditseal_no_update BEFORE UPDATE ON core_auditseal "
    "BEGIN SELECT RAISE(ABORT, 'audit seals are append-only'); END;",
)
SEAL_POSTGRES = """
CREATE OR REPLACE FUNCTION core_auditseal_block_change() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit seals are append-only'; END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditseal_no_change ON core_auditseal;
CREATE TRIGGER core_auditseal_no_change BEFORE UPDATE OR DELETE ON core_auditseal
FOR EACH ROW EXECUTE FUNCTION core_auditseal_block_change();
"""


def create_seal(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SEAL_SQLITE:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute(SEAL_POSTGRES)


def drop_seal(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditseal_no_update")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditseal_no_change ON core_auditseal")
