"""On PostgreSQL, refuse UPDATE and DELETE of audit events in the database
itself, so that not even raw SQL from the application rewrites history."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION secrets_app_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER secrets_app_auditevent_append_only
    BEFORE UPDATE OR DELETE ON secrets_app_auditevent
    FOR EACH ROW EXECUTE FUNCTION secrets_app_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS secrets_app_auditevent_append_only ON secrets_app_auditevent;
DROP FUNCTION IF EXISTS secrets_app_audit_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("secrets_app", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
