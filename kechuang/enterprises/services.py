"""Business actions on the enterprise register; views, API, imports and commands call these.

Each action takes a keyword-only `acting_user`, checks permission, writes in one
transaction with an audit entry, and recomputes what depends on the data it
changed (the enterprise's ladder stage, its `data_changed_at` stamp).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.core import audit
from kechuang.core import services as core_services
from kechuang.core.exceptions import ConflictError
from kechuang.core.models import AuditAction, JurisdictionLevel
from kechuang.core.permissions import check_visible
from kechuang.core.validators import normalize_uscc
from kechuang.core.workflow import InvalidTransition
from kechuang.enterprises.models import (
    AnnualReport,
    Enterprise,
    IssueStatus,
    LadderCriteria,
    LadderStage,
    LadderStageChange,
    Qualification,
    QualificationType,
    ReportSource,
    ReportStatus,
    Visit,
    VisitIssue,
    WatchList,
    WatchListMember,
)
from kechuang.enterprises.versioning import data_changed
from kechuang.enterprises.workflows import ANNUAL_REPORT

# Qualification codes the ladder reads (stable codes seeded by migration 0003).
HTE = "HTE"
CONTEST_AWARD = "CONTEST_AWARD"
LITTLE_GIANT_CODES = ("LITTLE_GIANT", "LITTLE_GIANT_CULTIVATION", "SRDI_GIANT")
LADDER_QUALIFICATION_CODES = (HTE, CONTEST_AWARD, *LITTLE_GIANT_CODES)


# ---------------------------------------------------------------------------
# Permission helpers
# ---------------------------------------------------------------------------


def _require_staff(user) -> None:
    if user is None or not user.is_staff_member:
        raise PermissionDenied(_("Only commission or station staff can change the register."))


def _require_commission(user) -> None:
    if user is None or not user.is_commission:
        raise PermissionDenied(_("Only commission staff can change this setting."))


def _check_enterprise(enterprise: Enterprise, user) -> None:
    check_visible(enterprise, user, "change")


def location_errors(town, park, *, scope_path: str | None) -> dict[str, str]:
    """What is wrong with an enterprise's town / street and park, by field name.

    `scope_path` is the station's subtree (None for commission staff): the place must
    lie inside it through the town or the park, as `enterprise_scope_q` sees it. The
    form, the API and the importer all ask this one function.
    """
    errors: dict[str, str] = {}
    if town is not None and town.level == JurisdictionLevel.PARK:
        errors["jurisdiction"] = _("Town / street: “%(place)s” is a park; choose its town / street "
                                   "and put the park in the park field.") % {"place": town.name}  # fmt: skip
    if park is not None and park.level != JurisdictionLevel.PARK:
        errors["park"] = _("Park: “%(place)s” is not a park.") % {"place": park.name}
    elif park is not None and town is not None and not park.path.startswith(town.path):
        errors["park"] = _("Park: “%(park)s” is not in the town / street “%(town)s”.") % {
            "park": park.name,
            "town": town.name,
        }
    if errors or scope_path is None:
        return errors
    if not any(p is not None and p.path.startswith(scope_path) for p in (town, park)):
        if park is not None:
            errors["park"] = _("Park: outside your jurisdiction; station staff can only place "
                               "enterprises in their own town / street or park.")  # fmt: skip
        else:
            errors["jurisdiction"] = _("Town / street: outside your jurisdiction; station staff "
                                       "can only place enterprises in their own town / street "
                                       "or park.")  # fmt: skip
    return errors


def _check_location(town, park, user) -> None:
    scope_path = user.jurisdiction.path if user is not None and not user.is_commission else None
    errors = location_errors(town, park, scope_path=scope_path)
    if errors:
        raise ValidationError(errors)


def touch(enterprise_ids: Iterable[int]) -> None:
    """Mark enterprises' data as changed (bulk rule evaluation re-runs only these)."""
    Enterprise.objects.filter(pk__in=list(enterprise_ids)).update(data_changed_at=timezone.now())
    data_changed("enterprise")


# ---------------------------------------------------------------------------
# Enterprises
# ---------------------------------------------------------------------------


def create_enterprise(data: dict, *, acting_user) -> Enterprise:
    """Register a new enterprise (staff only; station staff within their jurisdiction)."""
    _require_staff(acting_user)
    data = dict(data)
    sectors = data.pop("sectors", None)
    if "uscc" in data:
        data["uscc"] = normalize_uscc(data["uscc"])
    _check_location(data.get("jurisdiction"), data.get("park"), acting_user)
    with transaction.atomic():
        enterprise = Enterprise(**data, data_changed_at=timezone.now())
        core_services.create_record(enterprise, acting_user=acting_user)
        if sectors is not None:
            enterprise.sectors.set(sectors)
            _audit_sectors(enterprise, [], sectors, acting_user)
    return enterprise


def update_enterprise(
    enterprise: Enterprise, changes: dict, *, acting_user, expected_version: int | None = None
) -> Enterprise:
    """Change an enterprise's register fields (audited before → after); with
    `expected_version`, refuse (ConflictError) if someone changed it since."""
    _require_staff(acting_user)
    changes = dict(changes)
    sectors = changes.pop("sectors", None)
    if "uscc" in changes:
        changes["uscc"] = normalize_uscc(changes["uscc"])
    changes["data_changed_at"] = timezone.now()
    with transaction.atomic():
        if "jurisdiction" in changes or "park" in changes:
            # Checked on the locked row, so a concurrent move cannot slip past the check.
            enterprise.refresh_from_db(from_queryset=Enterprise.objects.select_for_update())
            _check_location(
                changes.get("jurisdiction", enterprise.jurisdiction),
                changes.get("park", enterprise.park),
                acting_user,
            )
        core_services.update_record(
            enterprise, changes, acting_user=acting_user, expected_version=expected_version
        )
        if sectors is not None:
            before = sorted(s.code for s in enterprise.sectors.all())
            enterprise.sectors.set(sectors)
            _audit_sectors(enterprise, before, sectors, acting_user)
    return enterprise


def _audit_sectors(enterprise, before: list[str], sectors, acting_user) -> None:
    after = sorted(s.code for s in sectors)
    if before != after:
        audit.prepare_entry(
            enterprise, AuditAction.UPDATE, actor=acting_user, changes={"sectors": [before, after]}
        ).save()


def delete_enterprise(enterprise: Enterprise, *, acting_user) -> None:
    if acting_user is None or not acting_user.is_commission:
        raise PermissionDenied(_("Only commission staff can delete an enterprise."))
    core_services.delete_record(enterprise, acting_user=acting_user)


# ---------------------------------------------------------------------------
# Qualifications
# ---------------------------------------------------------------------------


def save_qualification_type(
    qtype: QualificationType | None, data: dict, *, acting_user
) -> QualificationType:
    """Create or change a qualification type (commission staff configure these)."""
    _require_commission(acting_user)
    if qtype is None:
        return core_services.create_record(QualificationType(**data), acting_user=acting_user)
    return core_services.update_record(qtype, data, acting_user=acting_user)


def default_expiry(qtype: QualificationType, issued_on: datetime.date) -> datetime.date | None:
    """Last day of validity: issued 2023-11-01 for 3 years → 2026-10-31."""
    if not qtype.validity_years:
        return None
    try:
        end = issued_on.replace(year=issued_on.year + qtype.validity_years)
    except ValueError:  # 29 February
        end = issued_on.replace(year=issued_on.year + qtype.validity_years, day=28)
    return end - datetime.timedelta(days=1)


def add_qualification(enterprise: Enterprise, data: dict, *, acting_user) -> Qualification:
    """Record a certificate; the expiry defaults to issue date + the type's validity."""
    _require_staff(acting_user)
    _check_enterprise(enterprise, acting_user)
    with transaction.atomic():
        q = Qualification(enterprise=enterprise, **data)
        if q.expires_on is None and q.type_id and q.issued_on:
            q.expires_on = default_expiry(q.type, q.issued_on)
        core_services.create_record(q, acting_user=acting_user)
        _after_data_change([enterprise.pk], acting_user)
    return q


def update_qualification(
    q: Qualification, changes: dict, *, acting_user, expected_version: int | None = None
) -> Qualification:
    """Correct a certificate's dates or number (audited before → after; a stale
    `expected_version` is refused with ConflictError)."""
    _require_staff(acting_user)
    changes = dict(changes)
    if "expires_on" in changes and changes["expires_on"] is None:
        qtype = changes.get("type", q.type)
        changes["expires_on"] = default_expiry(qtype, changes.get("issued_on", q.issued_on))
    with transaction.atomic():
        core_services.update_record(
            q, changes, acting_user=acting_user, expected_version=expected_version
        )
        _after_data_change([q.enterprise_id], acting_user)
    return q


def revoke_qualification(
    q: Qualification, revoked_on: datetime.date, *, acting_user
) -> Qualification:
    """Revoke a certificate from `revoked_on` (it is no longer valid on that day)."""
    _require_staff(acting_user)
    return update_qualification(q, {"revoked_on": revoked_on}, acting_user=acting_user)


def delete_qualification(q: Qualification, *, acting_user) -> None:
    _require_staff(acting_user)
    with transaction.atomic():
        enterprise_id = q.enterprise_id
        core_services.delete_record(q, acting_user=acting_user)
        _after_data_change([enterprise_id], acting_user)


# ---------------------------------------------------------------------------
# Annual reports
# ---------------------------------------------------------------------------


def save_annual_report(
    enterprise: Enterprise,
    year: int,
    values: dict,
    *,
    acting_user,
    expected_version: int | None = None,
) -> AnnualReport:
    """Enter or correct one enterprise-year of metrics (money in yuan).

    Staff entries are confirmed at once (a filed report they correct is confirmed by it);
    an enterprise user files for its own enterprise and the report waits as "submitted"
    for station confirmation. The steps are those of `workflows.ANNUAL_REPORT`: a
    confirmed report can only be changed by staff. `expected_version` (of an existing
    report) refuses a save over someone else's newer change with ConflictError.
    """
    if acting_user is None:
        raise PermissionDenied(_("You may file reports only for your own enterprise."))
    if acting_user.is_staff_member:
        status, source = ReportStatus.CONFIRMED, ReportSource.STAFF
    elif acting_user.enterprise_id == enterprise.pk:
        status, source = ReportStatus.SUBMITTED, ReportSource.ENTERPRISE
    else:
        raise PermissionDenied(_("You may file reports only for your own enterprise."))
    _check_enterprise(enterprise, acting_user)
    with transaction.atomic():
        report = (
            AnnualReport.objects.select_for_update()
            .filter(enterprise=enterprise, year=year)
            .first()
        )
        changes = dict(values, source=source, submitted_by=acting_user)
        if report is None:
            report = AnnualReport(enterprise=enterprise, year=year, status=status, **changes)
            core_services.create_record(report, acting_user=acting_user)
            if source == ReportSource.ENTERPRISE:
                audit.record_event(
                    report, "report_submitted", {"year": year, "to": status}, actor=acting_user
                )
        else:
            if expected_version is not None and expected_version != report.row_version:
                raise ConflictError(
                    current_version=report.row_version, sent_version=expected_version
                )
            if report.status != status or source == ReportSource.ENTERPRISE:
                try:
                    ANNUAL_REPORT.transition(
                        report, status, acting_user=acting_user, payload={"year": year}
                    )
                except InvalidTransition:
                    raise InvalidTransition(
                        _(
                            "The %(year)s report is already confirmed; ask your service station to correct it."
                        )
                        % {"year": year},
                        code="state",
                    ) from None
            core_services.update_record(report, changes, acting_user=acting_user)
        _after_data_change([enterprise.pk], acting_user)
    return report


def confirm_annual_report(report: AnnualReport, *, acting_user) -> AnnualReport:
    """Station staff of the enterprise's jurisdiction (or commission) confirm a filed report."""
    with transaction.atomic():
        ANNUAL_REPORT.transition(
            report, "confirm", acting_user=acting_user, payload={"year": report.year}
        )
        _after_data_change([report.enterprise_id], acting_user)
    return report


# ---------------------------------------------------------------------------
# Cultivation ladder
# ---------------------------------------------------------------------------


def _criteria() -> dict[str, LadderCriteria]:
    return {c.stage: c for c in LadderCriteria.objects.all()}


def _meets(c: LadderCriteria | None, current, previous, has_hte: bool) -> bool:
    """All thresholds that are set hold on (current, previous) report tuples."""
    if c is None or not c.is_defined or current is None:
        return False
    revenue, rd_expense, patents = current
    if c.requires_hte and not has_hte:
        return False
    if c.min_revenue is not None and (revenue is None or revenue < c.min_revenue):
        return False
    if c.min_rd_ratio is not None and (
        not revenue or rd_expense is None or Decimal(rd_expense) < c.min_rd_ratio * revenue
    ):
        return False
    if c.min_invention_patents is not None and (patents or 0) < c.min_invention_patents:
        return False
    if c.min_revenue_growth is not None:
        prev_revenue = previous[0] if previous else None
        if not prev_revenue or revenue is None:
            return False
        if Decimal(revenue - prev_revenue) < c.min_revenue_growth * prev_revenue:
            return False
    return True


def _chunks(ids: list[int], size: int = 5000):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def compute_stages(
    enterprise_ids: Iterable[int] | None = None,
    on: datetime.date | None = None,
    criteria: dict[str, LadderCriteria] | None = None,
) -> dict[int, tuple[str, str]]:
    """The ladder stage of each enterprise on `on`, with the reason, set-at-a-time.

    Highest stage reached wins: leader (criteria) → little giant (valid 小巨人,
    小巨人培育 or 专精特新“小巨人”) → HTE (valid 高企) → rising (criteria) →
    contest (a 创新创业大赛 award). Criteria are read on the latest confirmed
    annual report of the last three years up to `on.year`, growth against the
    year before it. Three queries whatever the number of enterprises.
    """
    on = on or timezone.localdate()
    criteria = _criteria() if criteria is None else criteria
    quals: dict[int, set[str]] = defaultdict(set)
    reports: dict[int, dict[int, tuple]] = defaultdict(dict)
    q_base = Qualification.objects.valid_on(on).filter(type__code__in=LADDER_QUALIFICATION_CODES)
    r_base = AnnualReport.objects.filter(
        status=ReportStatus.CONFIRMED, year__gte=on.year - 3, year__lte=on.year
    )
    if enterprise_ids is None:
        ids = list(Enterprise.objects.values_list("pk", flat=True))
        q_sets, r_sets = [q_base], [r_base]
    else:
        ids = list(enterprise_ids)
        q_sets = [q_base.filter(enterprise_id__in=chunk) for chunk in _chunks(ids)]
        r_sets = [r_base.filter(enterprise_id__in=chunk) for chunk in _chunks(ids)]
    for qs in q_sets:
        for eid, code in qs.values_list("enterprise_id", "type__code").iterator(chunk_size=5000):
            quals[eid].add(code)
    for qs in r_sets:
        rows = qs.values_list(
            "enterprise_id", "year", "revenue", "rd_expense", "invention_patents_valid"
        )
        for eid, year, revenue, rd, patents in rows.iterator(chunk_size=5000):
            reports[eid][year] = (revenue, rd, patents)
    return {eid: decide_stage(quals.get(eid, ()), reports.get(eid), on, criteria) for eid in ids}


def decide_stage(
    codes, years: dict[int, tuple] | None, on: datetime.date, criteria: dict[str, LadderCriteria]
) -> tuple[str, str]:
    """(stage, reason) from the ladder qualification codes valid on `on` and the confirmed
    {year: (revenue, rd_expense, invention_patents_valid)} of on.year - 3 … on.year.

    The rule itself, without the database: compute_stages feeds it from queries, the demo
    generator from the rows it is about to write.
    """
    current = previous = None
    if years:
        latest = max(years)
        if latest >= on.year - 1:  # stale metrics do not qualify
            current, previous = years[latest], years.get(latest - 1)
    has_hte = HTE in codes
    if _meets(criteria.get(LadderStage.LEADER), current, previous, has_hte):
        return (LadderStage.LEADER, "criteria")
    for code in LITTLE_GIANT_CODES:
        if code in codes:
            return (LadderStage.LITTLE_GIANT, code)
    if has_hte:
        return (LadderStage.HTE, HTE)
    if _meets(criteria.get(LadderStage.RISING), current, previous, has_hte):
        return (LadderStage.RISING, "criteria")
    if CONTEST_AWARD in codes:
        return (LadderStage.CONTEST, CONTEST_AWARD)
    return ("", "")


def recompute_ladder(
    enterprise_ids: Iterable[int] | None = None,
    *,
    acting_user,
    on: datetime.date | None = None,
    write_audit: bool = True,
) -> int:
    """Recompute stages, store the changed ones with a LadderStageChange each; return the count."""
    stages = compute_stages(enterprise_ids, on)
    now = timezone.now()
    current, names = {}, {}
    ids = list(stages)
    for chunk in _chunks(ids):
        for pk, stage, name in Enterprise.objects.filter(pk__in=chunk).values_list(
            "pk", "ladder_stage", "name"
        ):
            current[pk], names[pk] = stage, name
    changed = [eid for eid, (stage, _reason) in stages.items() if current.get(eid) != stage]
    if not changed:
        return 0
    with transaction.atomic():
        history, entries, to_update = [], [], []
        for eid in changed:
            stage, reason = stages[eid]
            history.append(
                LadderStageChange(
                    enterprise_id=eid,
                    changed_at=now,
                    from_stage=current[eid],
                    to_stage=stage,
                    reason=reason,
                )
            )
            e = Enterprise(pk=eid, ladder_stage=stage)
            to_update.append(e)
            if write_audit:
                e.name = names[eid]
                entries.append(
                    audit.prepare_entry(
                        e,
                        AuditAction.EVENT,
                        actor=acting_user,
                        event="ladder_stage_changed",
                        changes={"ladder_stage": [current[eid], stage], "reason": reason},
                    )
                )
        Enterprise.objects.bulk_update(to_update, ["ladder_stage"], batch_size=2000)
        LadderStageChange.objects.bulk_create(history, batch_size=2000)
        data_changed("enterprise")  # bulk_update fires no signals; the stage counts move
        if entries:
            audit.bulk_record(entries)
    return len(changed)


def update_ladder_criteria(criteria: LadderCriteria, changes: dict, *, acting_user) -> int:
    """Change the 新锐/领军 thresholds and recompute every enterprise; return how many moved."""
    _require_commission(acting_user)
    with transaction.atomic():
        core_services.update_record(criteria, changes, acting_user=acting_user)
        return recompute_ladder(acting_user=acting_user)


def _after_data_change(enterprise_ids: list[int], acting_user) -> None:
    touch(enterprise_ids)
    recompute_ladder(enterprise_ids, acting_user=acting_user)


def stage_counts_by_year(enterprise_qs, years: list[int]) -> dict[int, dict[str, int]]:
    """Enterprises per stage at each year end, read from the ladder history."""
    ends = {y: datetime.datetime(y, 12, 31, 23, 59, 59, tzinfo=datetime.UTC) for y in years}
    counts = {y: dict.fromkeys(LadderStage.values, 0) for y in years}
    rows = (
        LadderStageChange.objects.filter(enterprise__in=enterprise_qs.values("pk"))
        .order_by("enterprise_id", "changed_at", "id")
        .values_list("enterprise_id", "changed_at", "to_stage")
    )
    last_eid, stage_at = None, {}

    def flush():
        for y, stage in stage_at.items():
            if stage:
                counts[y][stage] += 1

    for eid, at, stage in rows.iterator(chunk_size=10000):
        if eid != last_eid:
            flush()
            last_eid, stage_at = eid, {}
        for y, end in ends.items():
            if at <= end:
                stage_at[y] = stage
    flush()
    return counts


# ---------------------------------------------------------------------------
# Watch-lists
# ---------------------------------------------------------------------------


def save_watch_list(watch_list: WatchList | None, data: dict, *, acting_user) -> WatchList:
    _require_commission(acting_user)
    if watch_list is None:
        return core_services.create_record(WatchList(**data), acting_user=acting_user)
    return core_services.update_record(watch_list, data, acting_user=acting_user)


def add_to_watch_list(
    watch_list: WatchList,
    enterprise: Enterprise,
    *,
    reason: str = "",
    added_on: datetime.date | None = None,
    acting_user,
) -> WatchListMember:
    """Put an enterprise on a list (staff, within their jurisdiction)."""
    _require_staff(acting_user)
    _check_enterprise(enterprise, acting_user)
    if (
        WatchListMember.objects.current()
        .filter(watch_list=watch_list, enterprise=enterprise)
        .exists()
    ):
        raise ValidationError(
            _("%(enterprise)s is already on %(list)s.")
            % {"enterprise": enterprise, "list": watch_list}
        )
    member = WatchListMember(
        watch_list=watch_list,
        enterprise=enterprise,
        reason=reason,
        added_on=added_on or timezone.localdate(),
    )
    return core_services.create_record(member, acting_user=acting_user)


def remove_from_watch_list(
    member: WatchListMember,
    *,
    reason: str = "",
    removed_on: datetime.date | None = None,
    acting_user,
) -> WatchListMember:
    """Close a membership; the row stays as history."""
    _require_staff(acting_user)
    if member.removed_on is not None:
        raise ValidationError(_("This enterprise was already removed from the list."))
    removed_on = removed_on or timezone.localdate()
    if removed_on < member.added_on:
        raise ValidationError(
            {"removed_on": _("The removal date is before the date it was added.")}
        )
    return core_services.update_record(
        member, {"removed_on": removed_on, "removal_reason": reason}, acting_user=acting_user
    )


# ---------------------------------------------------------------------------
# Visits and follow-ups
# ---------------------------------------------------------------------------


def record_visit(
    enterprise: Enterprise, data: dict, issues: Iterable[dict] = (), *, acting_user
) -> Visit:
    """Record a visit and the issues (诉求) raised, each to be followed up until closed."""
    _require_staff(acting_user)
    _check_enterprise(enterprise, acting_user)
    data = dict(data)
    if "station" not in data:
        data["station"] = (
            acting_user.jurisdiction if acting_user.is_station else enterprise.jurisdiction
        )
    data.setdefault("staff", acting_user)
    with transaction.atomic():
        visit = core_services.create_record(
            Visit(enterprise=enterprise, **data), acting_user=acting_user
        )
        for issue in issues:
            add_issue(visit, issue, acting_user=acting_user)
    return visit


def add_issue(visit: Visit, data: dict, *, acting_user) -> VisitIssue:
    _require_staff(acting_user)
    issue = VisitIssue(visit=visit, enterprise_id=visit.enterprise_id, **data)
    return core_services.create_record(issue, acting_user=acting_user)


def update_issue(
    issue: VisitIssue, changes: dict, *, acting_user, expected_version: int | None = None
) -> VisitIssue:
    """Follow up an issue: status, due date, notes. Closing stamps the closing date."""
    _require_staff(acting_user)
    changes = dict(changes)
    status = changes.get("status", issue.status)
    if status == IssueStatus.CLOSED:
        changes.setdefault("closed_on", issue.closed_on or timezone.localdate())
    else:
        changes["closed_on"] = None
    return core_services.update_record(
        issue, changes, acting_user=acting_user, expected_version=expected_version
    )
