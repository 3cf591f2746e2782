from django.core.management import call_command

from kechuang.core.models import Jurisdiction, User


def test_demo_data_if_empty_keeps_an_existing_district(db, capsys):
    call_command("demo-data", "--only", "core")
    towns = Jurisdiction.objects.count()
    assert towns == 18 and User.objects.filter(username="officer").exists()
    call_command("demo-data", "--if-empty", "--only", "core")
    assert "already holds a district" in capsys.readouterr().out
    assert Jurisdiction.objects.count() == towns
