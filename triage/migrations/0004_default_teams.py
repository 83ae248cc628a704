from django.db import migrations

TEAMS = [
    ("medicines", "Medicines"),
    ("biologicals", "Biologicals and vaccines"),
    ("advanced-therapies", "Advanced therapies"),
    ("devices", "Medical devices"),
    ("diagnostics", "In vitro diagnostics"),
    ("software-ai", "Software and AI"),
    ("borderline", "Borderline products"),
    ("manufacturing", "Manufacturing innovation"),
    ("clinical-development", "Clinical development"),
]
RULES = [
    ("chemical-medicine", "", "medicines", 100),
    ("biological-medicine", "", "biologicals", 100),
    ("advanced-therapy", "", "advanced-therapies", 100),
    ("medical-device", "", "devices", 100),
    ("drug-device-combination", "", "devices", 100),
    ("in-vitro-diagnostic", "", "diagnostics", 100),
    ("software-ai-device", "", "software-ai", 100),
    ("borderline-product", "", "borderline", 100),
    ("", "novel-clinical-development", "clinical-development", 200),
    ("", "continuous-manufacturing", "manufacturing", 200),
    ("", "process-analytics", "manufacturing", 200),
    ("", "advanced-therapy-manufacturing", "manufacturing", 200),
]


def load(apps, schema_editor):
    Team = apps.get_model("triage", "Team")
    Rule = apps.get_model("triage", "RoutingRule")
    teams = {}
    for slug, name in TEAMS:
        teams[slug], _ = Team.objects.get_or_create(slug=slug, defaults={"name": name})
    if not Rule.objects.exists():
        for product, process, team, precedence in RULES:
            Rule.objects.create(
                product_type=product,
                process_type=process,
                team=teams[team],
                precedence=precedence,
            )


class Migration(migrations.Migration):
    dependencies = [("triage", "0003_staff_triage")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
