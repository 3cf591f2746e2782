"""Rules stored in the database: save-time errors, versions, loader, snapshots, scoping."""

import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kechuang.core.models import Notification, OutboxEmail
from kechuang.core.services import system_actor
from kechuang.enterprises.models import AnnualReport, Enterprise, Qualification
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
)
from kechuang.rules import sandbox, services
from kechuang.rules.evaluation import run_snapshot
from kechuang.rules.explaining import explain_version
from kechuang.rules.loader import load_columns
from kechuang.rules.models import (
    EligibilityNotice,
    Rule,
    RuleVersion,
    SnapshotEnterprise,
    SnapshotRule,
    VersionStatus,
)
from kechuang.rules.results import enterprise_verdicts, snapshot_table

from .conftest import ON, build_random_enterprises

pytestmark = pytest.mark.django_db


def _rule(officer, text="rd_ratio >= 5%", **kw):
    return services.create_rule(
        acting_user=officer, code=kw.pop("code", "rd5"), name=kw.pop("name", "研发占比 5%"),
        expression=text, effective_from=dt.date(2020, 1, 1), publish=True, **kw,
    )  # fmt: skip


# -- save-time errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, code_fragment, line, column",
    [
        ("rd_ratio >= ", "expression", 1, None),
        ("revenu > 5", "未知变量", 1, 1),
        (
            "# [a] 条件一\nrevenue > 0\n# [b] 条件二\nrevenue > 0 and rd_ratoi > 1%",
            "rd_ratio",
            4,
            17,
        ),
        ('revenue > "abc"', "比较", 1, None),
    ],
)
def test_rule_errors_are_reported_at_save_time_with_position(
    library, officer, text, code_fragment, line, column
):
    with pytest.raises(ValidationError) as err:
        _rule(officer, text)
    message = err.value.message_dict["expression"][0]
    assert f"第 {line} 行" in message or f"line {line}" in message
    if column:
        assert f"{column}" in message
    if code_fragment != "expression":
        assert code_fragment in message
    assert not Rule.objects.filter(code="rd5").exists()


def test_amount_formula_errors_name_the_amount_field(library, officer):
    with pytest.raises(ValidationError) as err:
        _rule(officer, amount_formula="min(rd_expense * 10%)")
    assert "amount_formula" in err.value.message_dict


def test_formula_variable_is_checked_by_the_engine(library, officer):
    from kechuang.rules.models import Variable

    bad = Variable(
        code="x_ratio", label_zh="x", type="ratio", source="formula", formula="rd_expense / revnue"
    )
    with pytest.raises(ValidationError) as err:
        services.save_formula_variable(bad, acting_user=officer)
    assert "revnue" in err.value.message_dict["formula"][0]
    good = Variable(
        code="rd_per_staff",
        label_zh="人均研发",
        type="money",
        source="formula",
        formula="rd_expense / staff",
    )
    services.save_formula_variable(good, acting_user=officer)
    rule = _rule(officer, "rd_per_staff >= 1万", code="per_staff")
    assert rule.versions.get().status == VersionStatus.PUBLISHED


def test_non_staff_cannot_change_rules(library, town_officer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _rule(town_officer)


# -- versions ------------------------------------------------------------------------


def test_editing_a_published_rule_makes_a_new_version_and_old_verdicts_keep_theirs(
    library, officer, enterprise
):
    AnnualReportFactory(
        enterprise=enterprise, year=ON.year - 1, revenue=10_000_000, rd_expense=600_000
    )
    rule = _rule(officer)
    v1 = rule.versions.get()
    first = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    assert first.data_date == ON
    assert enterprise_verdicts(first, enterprise.pk)[v1.pk] == (1, None)

    draft = services.save_version(
        rule, acting_user=officer, expression="rd_ratio >= 8%", effective_from=dt.date(2025, 1, 1)
    )
    assert draft.number == 2 and draft.status == VersionStatus.DRAFT
    v1.refresh_from_db()
    assert v1.expression == "rd_ratio >= 5%"  # the published text never changes
    services.publish_version(draft, acting_user=officer)
    v1.refresh_from_db()
    assert v1.effective_to == dt.date(2024, 12, 31)
    second = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    v2 = rule.versions.get(number=2)
    assert v2.pk in second.positions and v1.pk not in second.positions
    assert enterprise_verdicts(second, enterprise.pk)[v2.pk] == (0, None)
    # The first snapshot still says v1, eligible: stored verdicts keep their version.
    assert v1.pk in first.positions and v2.pk not in first.positions
    assert enterprise_verdicts(first, enterprise.pk)[v1.pk] == (1, None)
    # An evaluation dated before the new version still uses v1.
    assert rule.version_on(dt.date(2024, 6, 1)) == v1


# -- loader --------------------------------------------------------------------------


def test_loader_columns_match_the_database(
    library, town, other_town, django_assert_max_num_queries
):
    build_random_enterprises([town, other_town], 120)
    reqs = {
        ("field", "registered_on"),
        ("metric", "revenue", -1),
        ("metric", "revenue", -2),
        ("metric", "rd_expense", -1),
        ("qualification", "高新技术企业", "eval_date"),
        ("qualification", "院士专家工作站", "year_end:-1"),
    }
    with django_assert_max_num_queries(4):
        ids, cols = load_columns(reqs, ON)
    assert list(ids) == sorted(Enterprise.objects.values_list("id", flat=True))
    for i, ent in enumerate(Enterprise.objects.order_by("id")):
        if ent.registered_on is None:
            assert np.isnan(cols[("field", "registered_on")][i])
        else:
            assert (
                cols[("field", "registered_on")][i]
                == (ent.registered_on - dt.date(1970, 1, 1)).days
            )
        for offset in (-1, -2):
            report = AnnualReport.objects.filter(enterprise=ent, year=ON.year + offset).first()
            value = cols[("metric", "revenue", offset)][i]
            if report is None or report.revenue is None:
                assert np.isnan(value)
            else:
                assert value == report.revenue
        held = (
            Qualification.objects.filter(enterprise=ent, type__name="高新技术企业")
            .valid_on(ON)
            .exists()
        )
        assert cols[("qualification", "高新技术企业", "eval_date")][i] == int(held)
        held = (
            Qualification.objects.filter(enterprise=ent, type__name="院士专家工作站")
            .valid_on(dt.date(ON.year - 1, 12, 31))
            .exists()
        )
        assert cols[("qualification", "院士专家工作站", "year_end:-1")][i] == int(held)


# -- 高企 rule end to end --------------------------------------------------------------


def _gaoqi_enterprise(
    town, *, revenue, rd, registered=dt.date(2020, 1, 1), tech=20, staff=100, hightech_share=0.7
):
    e = EnterpriseFactory(jurisdiction=town, registered_on=registered)
    AnnualReportFactory(
        enterprise=e, year=ON.year - 1, revenue=revenue, rd_expense=rd, staff=staff,
        tech_staff=tech, hightech_revenue=int(revenue * hightech_share),
        invention_patents_valid=1, ip_count=3,
    )  # fmt: skip
    return e


@pytest.mark.parametrize(
    "revenue, rd, registered, tech, expected",
    [
        (50_000_000, 2_500_000, dt.date(2020, 1, 1), 20, "eligible"),  # exactly 5% at 5000万
        (50_000_000, 2_499_999, dt.date(2020, 1, 1), 20, "not_eligible"),
        (50_000_001, 2_000_001, dt.date(2020, 1, 1), 20, "eligible"),  # next band: 4%
        (200_000_001, 6_000_001, dt.date(2020, 1, 1), 20, "eligible"),  # > 2亿: 3%
        (50_000_000, 2_500_000, ON - dt.timedelta(days=364), 20, "not_eligible"),  # < 1 year
        (
            50_000_000,
            2_500_000,
            dt.date(ON.year - 1, ON.month, ON.day),
            20,
            "eligible",
        ),  # exactly 1 year
        (50_000_000, 2_500_000, dt.date(2020, 1, 1), 10, "eligible"),  # exactly 10% tech staff
        (50_000_000, 2_500_000, dt.date(2020, 1, 1), 9, "not_eligible"),
        (50_000_000, None, dt.date(2020, 1, 1), 20, "unknown"),
    ],
)
def test_gaoqi_rule_on_database_data_at_boundaries(
    library, town, revenue, rd, registered, tech, expected
):
    e = _gaoqi_enterprise(town, revenue=revenue, rd=rd, registered=registered, tech=tech)
    rule = Rule.objects.get(code="gaoqi_recognition")
    result = explain_version(e.pk, rule.version_on(ON), ON)
    assert result.verdict.value == expected, result.explanation.text()
    snapshot = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    stored, _amount = enterprise_verdicts(snapshot, e.pk)[rule.version_on(ON).pk]
    assert {0: "not_eligible", 1: "eligible", -1: "unknown"}[stored] == expected
    if expected == "unknown":
        assert any("研发费用" in m for m in result.missing_labels)


def test_manual_conditions_never_pass(library, town):
    e = _gaoqi_enterprise(town, revenue=50_000_000, rd=5_000_000)
    rule = Rule.objects.get(code="gaoqi_recognition")
    result = explain_version(e.pk, rule.version_on(ON), ON)
    assert result.verdict.value == "eligible"
    assert result.manual_conditions
    assert result.status == "pending_check"  # never plain "eligible" while staff must check


def test_explain_page_shows_clauses_in_chinese_and_manual_conditions(
    published_library, town, client_for, enterprise_user
):
    e = enterprise_user.enterprise
    AnnualReportFactory(
        enterprise=e,
        year=ON.year - 1,
        revenue=10_000_000,
        rd_expense=320_000,
        tech_staff=20,
        staff=100,
        hightech_revenue=7_000_000,
        invention_patents_valid=1,
    )
    rule = Rule.objects.get(code="gaoqi_recognition")
    page = client_for(enterprise_user).get(
        reverse("rules:explain", args=[e.pk, rule.pk]) + f"?on={ON}"
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "3.2%" in text and "5%" in text
    assert "重大安全" in text  # manual condition listed for staff to check


# -- scoping -------------------------------------------------------------------------


def test_enterprise_user_never_sees_another_enterprises_verdicts(
    published_library, client_for, enterprise_user, other_enterprise, api_for
):
    rule = Rule.objects.get(code="gaoqi_recognition")
    client = client_for(enterprise_user)
    assert (
        client.get(reverse("rules:explain", args=[other_enterprise.pk, rule.pk])).status_code == 404
    )
    assert client.get(reverse("rules:enterprise", args=[other_enterprise.pk])).status_code == 404
    assert (
        client.get(reverse("rules:enterprise", args=[enterprise_user.enterprise_id])).status_code
        == 200
    )
    QualificationFactory(enterprise=other_enterprise)
    AnnualReportFactory(enterprise=other_enterprise, year=ON.year - 1, revenue=10**8)
    snapshot = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    assert SnapshotEnterprise.objects.filter(enterprise=other_enterprise).exists()
    api = api_for(enterprise_user)
    body = api.get("/api/verdicts/").json()
    assert [row["enterprise"] for row in body["results"]] == [enterprise_user.enterprise_id]
    entry = body["results"][0]
    assert entry["data_date"] == ON.isoformat() and entry["snapshot"] == snapshot.pk
    assert {v["rule_version"] for v in entry["verdicts"]} == set(snapshot.positions)
    assert api.get(f"/api/verdicts/?enterprise={other_enterprise.pk}").json()["results"] == []
    assert api.get(f"/api/explain/{other_enterprise.pk}/?rule={rule.pk}").status_code == 404
    own = api.get(f"/api/explain/{enterprise_user.enterprise_id}/?rule={rule.code}")
    assert own.status_code == 200 and own.json()["manual_conditions"]


def test_station_staff_only_explain_their_towns(
    published_library, client_for, town_officer, enterprise, other_enterprise
):
    rule = Rule.objects.get(code="gaoqi_recognition")
    client = client_for(town_officer)
    assert client.get(reverse("rules:explain", args=[enterprise.pk, rule.pk])).status_code == 200
    assert (
        client.get(reverse("rules:explain", args=[other_enterprise.pk, rule.pk])).status_code == 404
    )


# -- snapshots: incremental and newly eligible ------------------------------------------


def test_incremental_run_matches_a_full_run(library, town, other_town):
    ents = build_random_enterprises([town, other_town], 150)
    base = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    changed = ents[:10]
    from django.utils import timezone

    AnnualReport.objects.filter(enterprise__in=changed).update(rd_expense=0)
    Enterprise.objects.filter(pk__in=[e.pk for e in changed]).update(data_changed_at=timezone.now())
    inc = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON, incremental=True)
    assert inc.incremental and inc.base == base and inc.evaluated_count == 10
    full = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)

    assert snapshot_table(inc) == snapshot_table(full)
    # Unchanged enterprises' rows were copied: they still name the run that computed them.
    computed = dict(
        SnapshotEnterprise.objects.filter(snapshot=inc).values_list("enterprise_id", "computed_in")
    )
    assert {e for e, s in computed.items() if s == inc.pk} == {e.pk for e in changed}
    assert {s for e, s in computed.items() if s != inc.pk} == {base.pk}

    def rule_rows(s):
        return [
            (r.rule_version_id, r.eligible, r.unknown, r.not_eligible, r.total_amount,
             bytes(r.eligible_ids), bytes(r.eligible_amounts))
            for r in SnapshotRule.objects.filter(snapshot=s).order_by("position")
        ]  # fmt: skip

    assert rule_rows(inc) == rule_rows(full)


def test_newly_eligible_enterprise_is_notified_once(
    library, officer, enterprise, enterprise_user, django_capture_on_commit_callbacks
):
    enterprise_user.email = "ent@example.com"
    enterprise_user.save()
    rule = _rule(officer, "revenue >= 1000万", code="rev")
    AnnualReportFactory(enterprise=enterprise, year=ON.year - 1, revenue=5_000_000)
    with django_capture_on_commit_callbacks(execute=True):
        run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    assert not Notification.objects.filter(recipient=enterprise_user).exists()
    AnnualReport.objects.filter(enterprise=enterprise).update(revenue=20_000_000)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    notes = Notification.objects.filter(recipient=enterprise_user, kind="eligibility")
    assert notes.count() == 1 and rule.name in notes.get().title
    assert OutboxEmail.objects.filter(to="ent@example.com").count() == 1
    assert EligibilityNotice.objects.filter(enterprise=enterprise, rule=rule).count() == 1
    # Falling out and back in does not repeat the notice.
    AnnualReport.objects.filter(enterprise=enterprise).update(revenue=1)
    run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    AnnualReport.objects.filter(enterprise=enterprise).update(revenue=20_000_000)
    with django_capture_on_commit_callbacks(execute=True):
        run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    assert notes.count() == 1


# -- sandbox ---------------------------------------------------------------------------


def test_sandbox_counts_match_an_independent_count(library, officer, town, other_town, client_for):
    build_random_enterprises([town, other_town], 200)
    rule = _rule(
        officer, "revenue >= 1亿", code="rev1", amount_formula="min(rd_expense * 10%, 50万)"
    )
    services.save_version(
        rule,
        acting_user=officer,
        expression="revenue >= 5000万",
        amount_formula="min(rd_expense * 10%, 50万)",
        effective_from=dt.date(2025, 1, 1),
    )
    result = sandbox.compare(rule, rule.draft_version(), ON)
    reports = AnnualReport.objects.filter(year=ON.year - 1, revenue__isnull=False)
    assert result.count("after", 1) == reports.filter(revenue__gte=50_000_000).count()
    assert result.count("before", 1) == reports.filter(revenue__gte=100_000_000).count()
    assert result.gained == reports.filter(revenue__gte=50_000_000, revenue__lt=100_000_000).count()
    expected_cost = sum(
        min(round(r.rd_expense * 0.1), 500_000)
        for r in reports.filter(revenue__gte=50_000_000, rd_expense__isnull=False)
    )
    assert abs(result.cost_after - expected_cost) <= len(reports)  # rounding per row
    client = client_for(officer)
    assert client.get(reverse("rules:sandbox", args=[rule.pk]) + f"?on={ON}").status_code == 200
    export = client.get(reverse("rules:sandbox-export", args=[rule.pk]) + f"?on={ON}")
    assert export.status_code == 200 and b"".join(export.streaming_content)[:2] == b"PK"


def test_staff_pages_render(library, officer, client_for, enterprise):
    _rule(officer)
    run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    client = client_for(officer)
    rule = Rule.objects.get(code="rd5")
    for url in [reverse("rules:list"), reverse("rules:detail", args=[rule.pk]), reverse("rules:edit", args=[rule.pk]),
                reverse("rules:variables"), reverse("rules:variable-create"), reverse("rules:snapshots"),
                reverse("rules:create"), reverse("rules:enterprise", args=[enterprise.pk])]:  # fmt: skip
        assert client.get(url).status_code == 200, url
    page = client.post(
        reverse("rules:edit", args=[rule.pk]),
        {"expression": "rd_ratio >= ", "effective_from": "2025-01-01"},
    )
    body = page.content.decode()
    assert page.status_code == 200 and ("第 1 行" in body or "line 1" in body)
    assert RuleVersion.objects.filter(rule=rule).count() == 1


def test_other_roles_cannot_open_rule_pages(library, client_for, enterprise_user, town_officer):
    for user in (enterprise_user, town_officer):
        assert client_for(user).get(reverse("rules:list")).status_code == 403


# -- qualification references: by code or normalised name -----------------------------


def test_qualification_reference_resolves_by_code_or_normalised_name(library, officer, town):
    from kechuang.enterprises.models import QualificationType
    from kechuang.enterprises.tests.factories import QualificationTypeFactory
    from kechuang.rules import compiling
    from kechuang.rules.qualifications import QualificationIndex

    # As the enterprises app seeds them: LITTLE_GIANT is 科技小巨人企业, and the
    # 专精特新 one is SRDI_GIANT, spelt with other quotes than the library's.
    QualificationType.objects.filter(code="LITTLE_GIANT").update(name="科技小巨人企业")
    QualificationTypeFactory(code="SRDI_GIANT", name="专精特新＂小巨人＂企业")
    compiling.clear_caches()
    index = compiling.current_context()[2]
    giant = index.by_code["srdi_giant"]
    hte = index.by_code["hte"]
    assert index.resolve("专精特新“小巨人”企业") == giant  # curly quotes vs full-width
    assert index.resolve('专精特新"小巨人"企业') == giant  # ASCII quotes
    assert index.resolve("SRDI_GIANT") == giant and index.resolve("hte") == hte
    assert index.resolve("高新技术") == hte  # without the 企业 suffix
    assert index.resolve("科技小巨人") == index.by_code["little_giant"]
    assert index.resolve("科技巨人企业") is None
    assert QualificationIndex([(1, "A", "甲企业"), (2, "B", "甲")]).resolve("“甲”") is None

    holder = EnterpriseFactory(jurisdiction=town)
    QualificationFactory(
        enterprise=holder, type=QualificationType.objects.get(pk=giant),
        issued_on=dt.date(2024, 1, 1),
        expires_on=dt.date(2026, 12, 31),
    )  # fmt: skip
    for code, text in [("by_code", 'has_qualification("SRDI_GIANT")'),
                       ("by_brackets", 'has_qualification("专精特新「小巨人」企业")')]:  # fmt: skip
        rule = _rule(officer, text, code=code, name=code)
        assert explain_version(holder.pk, rule.version_on(ON), ON).verdict.value == "eligible"
    snapshot = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    held = {v for v, (verdict, _a) in enterprise_verdicts(snapshot, holder.pk).items() if verdict}
    assert {Rule.objects.get(code=c).version_on(ON).pk for c in ("by_code", "by_brackets")} <= held


def test_unresolved_qualification_is_warned_at_save_time_and_on_the_rule_page(
    library, officer, client_for
):
    # The library declares 院士专家工作站, but no such type exists in this database.
    from kechuang.enterprises.models import QualificationType
    from kechuang.rules import compiling

    QualificationType.objects.filter(name="院士专家工作站").delete()
    compiling.clear_caches()
    assert services.qualification_warnings('has_qualification("高新技术企业")') == []
    warnings = services.qualification_warnings('has_qualification("院士专家工作站")')
    assert len(warnings) == 1 and "院士专家工作站" in warnings[0]
    client = client_for(officer)
    response = client.post(
        reverse("rules:create"),
        {"code": "station", "name": "工作站", "expression": 'has_qualification("院士专家工作站")',
         "effective_from": "2025-01-01"},
        follow=True,
    )  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200 and body.count("院士专家工作站") >= 2
    assert "alert-warning" in body
    page = client.get(reverse("rules:detail", args=[Rule.objects.get(code="station").pk]))
    assert "alert-warning" in page.content.decode()
    # A typo that is no qualification at all stays a save-time error.
    with pytest.raises(ValidationError):
        _rule(officer, 'has_qualification("高薪技术企业")', code="typo")


def test_incremental_run_drops_deleted_enterprises(library, town, other_town):
    ents = build_random_enterprises([town, other_town], 60)
    run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    ents[0].delete()
    from django.utils import timezone

    Enterprise.objects.filter(pk=ents[1].pk).update(data_changed_at=timezone.now())
    inc = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON, incremental=True)
    full = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    assert inc.incremental and inc.enterprise_count == 59
    assert snapshot_table(inc) == snapshot_table(full)
    for a, b in zip(
        SnapshotRule.objects.filter(snapshot=inc).order_by("position"),
        SnapshotRule.objects.filter(snapshot=full).order_by("position"),
        strict=True,
    ):
        assert (a.eligible, a.unknown, a.not_eligible, a.total_amount) == (
            b.eligible, b.unknown, b.not_eligible, b.total_amount
        )  # fmt: skip
        assert list(a.ids()) == list(b.ids())


def test_explain_for_all_rules_costs_three_queries(
    library, town, other_town, django_assert_max_num_queries
):
    from kechuang.rules.evaluation import versions_in_force
    from kechuang.rules.explaining import explain_versions

    ents = build_random_enterprises([town, other_town], 5)
    versions = versions_in_force(ON)
    explain_versions(ents[0].pk, versions, ON)  # compiles and caches the rules
    with django_assert_max_num_queries(3):  # freshness check + enterprise/reports + quals
        results = explain_versions(ents[1].pk, versions, ON)
    assert len(results) == len(versions)


def test_station_staff_get_only_their_towns_verdicts_from_the_api(
    library, api_for, town_officer, enterprise, other_enterprise
):
    run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    body = api_for(town_officer).get("/api/verdicts/").json()
    assert [row["enterprise"] for row in body["results"]] == [enterprise.pk]
    assert other_enterprise.jurisdiction_id != enterprise.jurisdiction_id


def test_publishing_is_the_workflow_step_and_happens_once(library, officer, town_officer):
    from kechuang.core.models import AuditEntry
    from kechuang.core.workflow import InvalidTransition, TransitionNotAllowed

    rule = _rule(officer)
    draft = services.save_version(
        rule, acting_user=officer, expression="rd_ratio >= 8%", effective_from=dt.date(2025, 1, 1)
    )
    with pytest.raises(TransitionNotAllowed):
        services.publish_version(draft, acting_user=town_officer)
    services.publish_version(draft, acting_user=officer)
    draft.refresh_from_db()
    assert (draft.status, draft.published_by) == (VersionStatus.PUBLISHED, officer)
    entry = AuditEntry.objects.for_object(draft).get(event="version_published")
    assert entry.changes == {"transition": "publish", "from": "draft", "to": "published",
                             "version": 2}  # fmt: skip
    with pytest.raises(InvalidTransition):
        services.publish_version(draft, acting_user=officer)
