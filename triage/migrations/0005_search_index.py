from django.db import migrations

# The same expression Django builds for SearchVector("title", "description",
# config="english"), so PostgreSQL can answer queue searches from the index.
EXPRESSION = (
    "to_tsvector('english'::regconfig, (((COALESCE(title, ''::character varying))::text"
    " || ' '::text) || COALESCE(description, ''::text)))"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS enquiry_search_idx ON enquiries_enquiry USING gin ({EXPRESSION})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS enquiry_search_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("triage", "0004_default_teams"),
        ("enquiries", "0003_staff_triage"),
    ]
    operations = [migrations.RunPython(create, drop)]
