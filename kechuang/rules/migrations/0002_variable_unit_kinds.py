"""Variables get a kind of quantity: count and duration join number/money/ratio.

Existing plain-number variables are given the kind their unit implies (人/件… are
counts, 年 is a duration), the shipped ones by code; anything else stays a plain
number. Stored rule versions are not touched: see docs/rule-language.md ("Units",
rules stored before unit checks).
"""

from django.db import migrations, models

LIBRARY_KINDS = {
    "staff": "count",
    "tech_staff": "count",
    "invention_patents_valid": "count",
    "ip_count": "count",
    "years_registered": "duration",
}
COUNT_UNITS = {"人", "名", "件", "个", "项", "家", "次", "篇", "天", "日"}
DURATION_UNITS = {"年"}


def kind_for(code: str, unit: str) -> str:
    if code in LIBRARY_KINDS:
        return LIBRARY_KINDS[code]
    unit = (unit or "").strip()
    if unit in COUNT_UNITS:
        return "count"
    if unit in DURATION_UNITS:
        return "duration"
    return "number"


def forwards(apps, schema_editor):
    Variable = apps.get_model("rules", "Variable")
    for var in Variable.objects.filter(type="number").only("pk", "code", "unit"):
        kind = kind_for(var.code, var.unit)
        if kind != "number":
            Variable.objects.filter(pk=var.pk).update(type=kind)


def backwards(apps, schema_editor):
    Variable = apps.get_model("rules", "Variable")
    Variable.objects.filter(type__in=["count", "duration"]).update(type="number")


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="variable",
            name="type",
            field=models.CharField(
                choices=[
                    ("number", "Number"),
                    ("count", "Count"),
                    ("money", "Money"),
                    ("ratio", "Ratio"),
                    ("duration", "Duration (years)"),
                    ("bool", "Yes / no"),
                    ("date", "Date"),
                    ("text", "Text"),
                ],
                max_length=16,
                verbose_name="type",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
