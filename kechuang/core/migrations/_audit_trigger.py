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


# The seal table refuses UPDATE and DELETE (the seal head is the sealer's, and may change).
SEAL_SQLITE = tuple(
    f"CREATE TRIGGER IF NOT EXISTS core_auditseal_no_{op.lower()} BEFORE {op} ON core_auditseal "
    "BEGIN SELECT RAISE(ABORT, 'audit seals are append-only'); END;"
    for op in ("UPDATE", "DELETE")
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
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditseal_no_delete")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditseal_no_change ON core_auditseal")
