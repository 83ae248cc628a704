from django.db import migrations


def load(apps, schema_editor):
    from enquiries import taxonomy

    Term = apps.get_model("enquiries", "TaxonomyTerm")
    for kind in taxonomy.KINDS:
        for position, term in enumerate(taxonomy.load()[kind]):
            Term.objects.update_or_create(
                kind=kind,
                code=term["code"],
                defaults={
                    "label": term["label"],
                    "definition": term.get("definition", ""),
                    "position": position,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("enquiries", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
