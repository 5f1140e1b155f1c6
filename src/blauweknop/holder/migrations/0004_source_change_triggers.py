"""The demo registry's change feed: its own triggers log every change of a document into holder_bronwijziging.

As an organisation's registry would: whoever changes a row (the holder's correction pages, a clerk's
application, a direct UPDATE), the change is logged in the same transaction, so none is missed. An
UPDATE that moves a document to another citizen, type or organisation logs both; one that changes
nothing logs nothing. The holder's worker reads the log (blauweknop.holder.freshness).
"""

from django.db import migrations

LOG = "INSERT INTO holder_bronwijziging (holder_oin, document_type, bsn, changed_at) VALUES "
# SQLite: the time as Django stores datetimes there (UTC, no zone); IS NOT is its "is distinct from".
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
SQLITE_MOVED = (
    "OLD.holder_oin IS NOT NEW.holder_oin OR OLD.document_type IS NOT NEW.document_type OR OLD.bsn IS NOT NEW.bsn"
)
PG_MOVED = (
    "OLD.holder_oin IS DISTINCT FROM NEW.holder_oin OR OLD.document_type IS DISTINCT FROM NEW.document_type "
    "OR OLD.bsn IS DISTINCT FROM NEW.bsn"
)

TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER holder_bronregistratie_insert_logged AFTER INSERT ON holder_bronregistratie "
        f"BEGIN {LOG}(NEW.holder_oin, NEW.document_type, NEW.bsn, {SQLITE_NOW}); END",
        "CREATE TRIGGER holder_bronregistratie_delete_logged AFTER DELETE ON holder_bronregistratie "
        f"BEGIN {LOG}(OLD.holder_oin, OLD.document_type, OLD.bsn, {SQLITE_NOW}); END",
        "CREATE TRIGGER holder_bronregistratie_update_logged AFTER UPDATE ON holder_bronregistratie "
        f"WHEN {SQLITE_MOVED} OR OLD.data IS NOT NEW.data "
        f"BEGIN {LOG}(NEW.holder_oin, NEW.document_type, NEW.bsn, {SQLITE_NOW}); END",
        "CREATE TRIGGER holder_bronregistratie_move_logged AFTER UPDATE ON holder_bronregistratie "
        f"WHEN {SQLITE_MOVED} BEGIN {LOG}(OLD.holder_oin, OLD.document_type, OLD.bsn, {SQLITE_NOW}); END",
    ],
    # PostgreSQL: one function for the three events.
    "postgresql": [
        "CREATE FUNCTION holder_bronregistratie_logged() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({PG_MOVED})) THEN "
        f"{LOG}(OLD.holder_oin, OLD.document_type, OLD.bsn, now()); END IF; "
        f"IF TG_OP <> 'DELETE' THEN {LOG}(NEW.holder_oin, NEW.document_type, NEW.bsn, now()); END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER holder_bronregistratie_logged AFTER INSERT OR DELETE ON holder_bronregistratie "
        "FOR EACH ROW EXECUTE FUNCTION holder_bronregistratie_logged()",
        "CREATE TRIGGER holder_bronregistratie_update_logged AFTER UPDATE ON holder_bronregistratie "
        "FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION holder_bronregistratie_logged()",
    ],
}
DROP = {
    "sqlite": [
        f"DROP TRIGGER IF EXISTS holder_bronregistratie_{name}_logged"
        for name in ("insert", "delete", "update", "move")
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS holder_bronregistratie_logged ON holder_bronregistratie",
        "DROP TRIGGER IF EXISTS holder_bronregistratie_update_logged ON holder_bronregistratie",
        "DROP FUNCTION IF EXISTS holder_bronregistratie_logged()",
    ],
}


def _run(statements, schema_editor):
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)  # no parameters: the % in SQLite's strftime stays as it is


def log_changes(apps, schema_editor):
    _run(TRIGGERS, schema_editor)


def stop_logging(apps, schema_editor):
    _run(DROP, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("holder", "0003_corrections")]

    operations = [migrations.RunPython(log_changes, stop_logging)]
