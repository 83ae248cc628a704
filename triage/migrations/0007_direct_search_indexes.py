from django.db import migrations

# Queue search also matches the start of an organisation name (istartswith) and a
# whole email address (iexact). Django compares UPPER(column::text) for both, so
# these expression indexes answer them; text_pattern_ops lets LIKE 'ABC%' use the
# index whatever the database's collation.
INDEXES = {
    "enquiry_org_prefix_idx": "(UPPER(organisation_name::text) text_pattern_ops)",
    "enquiry_email_upper_idx": "(UPPER(email::text))",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, expression in INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON enquiries_enquiry {expression}"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("triage", "0006_api_token")]
    operations = [migrations.RunPython(create, drop)]
