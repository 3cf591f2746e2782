"""Units with stored rules: save, sandbox and publish refuse unit errors; old versions still run."""

import datetime as dt
import importlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kechuang.core.services import system_actor
from kechuang.enterprises.tests.factories import AnnualReportFactory
from kechuang.rules import compiling, sandbox, services
from kechuang.rules.evaluation import run_snapshot
from kechuang.rules.explaining import explain_version
from kechuang.rules.models import Rule, RuleVersion, Variable, VariableSource, VersionStatus
from kechuang.rules.results import enterprise_verdicts

from .conftest import ON

pytestmark = pytest.mark.django_db


def _published(officer, text="revenue >= 5000万", code="rev"):
    return services.create_rule(
        acting_user=officer, code=code, name="营收", expression=text,
        effective_from=dt.date(2020, 1, 1), publish=True,
    )  # fmt: skip


def _stored_before_unit_checks(rule, text, status, number):
    """A version as an older release saved it: no unit check ever ran on its text."""
    return RuleVersion.objects.create(
        rule=rule, number=number, expression=text, status=status,
        effective_from=dt.date(2020, 1, 1) if status == VersionStatus.PUBLISHED else ON,
    )  # fmt: skip


def test_saving_revenue_above_bare_5000_is_refused_with_position(library, officer):
    rule = _published(officer)
    with pytest.raises(ValidationError) as info:
        services.save_version(rule, acting_user=officer, expression="revenue > 5000")
    message = info.value.message_dict["expression"][0]
    assert "金额需要带单位，例如 5000万" in message
    assert ("第 1 行第 11 列" in message) or ("line 1, column 11" in message)
    assert rule.draft_version() is None


def test_sandbox_button_with_bare_money_shows_the_error_instead_of_results(
    library, officer, client_for
):
    rule = _published(officer)
    page = client_for(officer).post(
        reverse("rules:edit", args=[rule.pk]),
        {"expression": "revenue > 5000", "effective_from": "2025-01-01", "sandbox": "1"},
    )
    assert page.status_code == 200  # the form again, not a redirect to the sandbox
    assert "金额需要带单位" in page.content.decode()
    assert rule.draft_version() is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("revenue >= 5%", "无法比较金额与比例"),
        ("rd_ratio >= 500万", "无法比较比例与金额"),
        ("revenue + rd_ratio > 3", "金额与比例不能相加"),
    ],
)
def test_issue_examples_are_refused_at_save_time(library, officer, text, message):
    with pytest.raises(ValidationError) as info:
        _published(officer, text, code="bad")
    assert message in info.value.message_dict["expression"][0]
    assert not Rule.objects.filter(code="bad").exists()


def test_draft_saved_before_unit_checks_is_not_tried_in_the_sandbox(
    library, officer, client_for, enterprise
):
    AnnualReportFactory(enterprise=enterprise, year=ON.year - 1, revenue=60_000_000)
    rule = _published(officer)
    draft = _stored_before_unit_checks(rule, "revenue > 5000", VersionStatus.DRAFT, 2)
    with pytest.raises(ValidationError):
        sandbox.compare(rule, draft, ON)
    client = client_for(officer)
    page = client.get(reverse("rules:sandbox", args=[rule.pk]) + f"?on={ON}")
    body = page.content.decode()
    assert page.status_code == 200
    assert "金额需要带单位" in body
    assert "第 1 行第 11 列" in body or "line 1, column 11" in body
    export = client.get(reverse("rules:sandbox-export", args=[rule.pk]) + f"?on={ON}")
    assert export.status_code == 404
    with pytest.raises(ValidationError):
        services.publish_version(draft, acting_user=officer)


def test_version_published_before_unit_checks_keeps_evaluating_as_before(
    library, officer, client_for, enterprise
):
    AnnualReportFactory(enterprise=enterprise, year=ON.year - 1, revenue=6_000)
    rule = Rule.objects.create(code="old", name="旧规则")
    version = _stored_before_unit_checks(rule, "revenue > 5000", VersionStatus.PUBLISHED, 1)

    snapshot = run_snapshot(on=ON, acting_user=system_actor("rules.evaluate"))
    assert snapshot.error == ""
    # 6000 元 > 5000 (元): the meaning the version was published with.
    assert enterprise_verdicts(snapshot, enterprise.pk)[version.pk] == (1, None)
    assert explain_version(enterprise.pk, version, ON).explanation.verdict == "eligible"

    client = client_for(officer)
    assert client.get(reverse("rules:list")).status_code == 200
    assert client.get(reverse("rules:explain", args=[enterprise.pk, rule.pk])).status_code == 200
    detail = client.get(reverse("rules:detail", args=[rule.pk])).content.decode()
    assert "金额需要带单位" in detail
    with pytest.raises(ValidationError):
        services.save_version(rule, acting_user=officer, expression=version.expression)


def test_named_clauses_report_unit_problems_at_their_line_in_the_whole_text(library, officer):
    rule = Rule.objects.create(code="old2", name="旧规则")
    text = "# [a] 有收入\nrevenue > 0\n# [b] 营收\nrevenue >= 5000"
    version = _stored_before_unit_checks(rule, text, VersionStatus.PUBLISHED, 1)
    [(field, problem)] = compiling.unit_problems_of(version)
    assert (field, problem.code, problem.line, problem.column) == (
        "expression",
        "money_needs_unit",
        4,
        12,
    )


def test_formula_variable_with_wrong_kind_is_refused(library, officer):
    bad = Variable(
        code="rd_share", label_zh="研发占比", type="money", source=VariableSource.FORMULA,
        formula="rd_expense / revenue",
    )  # fmt: skip
    with pytest.raises(ValidationError) as info:
        services.save_formula_variable(bad, acting_user=officer)
    assert "声明为金额" in info.value.message_dict["formula"][0]
    assert not Variable.objects.filter(code="rd_share").exists()


def test_formula_variable_stored_before_unit_checks_does_not_break_pages(
    library, officer, client_for, enterprise
):
    Variable.objects.create(
        code="rev_over", label_zh="超出部分", type="money", source=VariableSource.FORMULA,
        formula="revenue - 5000",
    )  # fmt: skip
    compiling.clear_caches()
    rule = _published(officer)
    assert run_snapshot(on=ON, acting_user=system_actor("rules.evaluate")).error == ""
    client = client_for(officer)
    for url in (reverse("rules:variables"), reverse("rules:detail", args=[rule.pk])):
        assert client.get(url).status_code == 200
    with pytest.raises(ValidationError) as info:
        _published(officer, "rev_over > 0", code="uses_bad")
    assert "公式变量 rev_over" in info.value.message_dict["expression"][0]


def test_migration_gives_plain_number_variables_the_kind_their_unit_implies():
    migration = importlib.import_module("kechuang.rules.migrations.0002_variable_unit_kinds")
    assert migration.kind_for("staff", "") == "count"
    assert migration.kind_for("years_registered", "") == "duration"
    assert migration.kind_for("patents_new", "件") == "count"
    assert migration.kind_for("age", "年") == "duration"
    assert migration.kind_for("score", "分") == "number"
