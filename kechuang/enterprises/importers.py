"""Row specs for the bulk imports of the enterprise register (kechuang.core.imports).

* EnterpriseImporter — 企业名单, upserted by 统一社会信用代码;
* QualificationImporter — 资质/认定, upserted by enterprise + type + 认定日期;
* AnnualReportImporter — 年度指标, upserted by enterprise + 年度 (a confirmed year is
  never overwritten: a different value is a conflict).

Headers and notes are Chinese: they are the file format officers fill in. Each
importer loads its lookups in one query per table and checks rows in memory;
station staff may only import rows inside their jurisdiction subtree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kechuang.core.imports import writers
from kechuang.core.imports.base import CREATE, UNCHANGED, UPDATE, Importer, ParsedRow
from kechuang.core.imports.fields import (
    AmountField,
    ChoiceField,
    DateField,
    DecimalField,
    EmailField,
    IntField,
    MobileField,
    RawField,
    TextField,
    UsccField,
)
from kechuang.core.imports.lookups import JurisdictionLookup, name_key
from kechuang.core.parsing import ParseError
from kechuang.core.validators import REPORT_YEAR_MIN, YEAR_MAX
from kechuang.enterprises.models import (
    ANNUAL_METRICS,
    AnnualReport,
    Enterprise,
    Industry,
    ListingStatus,
    Qualification,
    QualificationType,
    ReportSource,
    ReportStatus,
)
from kechuang.enterprises.services import location_errors

# Above this many keys, one scan of the table beats chunked IN (…) queries.
FULL_SCAN_KEYS = 20_000

USCC = UsccField(
    "uscc",
    "统一社会信用代码",
    required=True,
    aliases=("社会信用代码", "信用代码", "统一代码", "USCC", "credit code"),
    note="18位，数字和大写字母（不含 I、O、Z、S、V）；请把该列设为“文本”格式，以免丢失末位。",
    example="91310112MA1GB0XXXX",
    width=22,
)
DATE_NOTE = "2023-05-01、2023/5/1、2023.5.1、2023年5月1日、20230501 或 Excel 日期均可。"


# Column of the enterprise file that holds each location field (for row errors).
PLACE_COLUMNS = {"jurisdiction": "所属街镇", "park": "所属园区"}


def _outside_scope() -> str:
    return _("Outside your jurisdiction: station staff can only import enterprises of their own "
             "town / street or park.")  # fmt: skip


class _EnterpriseRefs:
    """uscc -> (id, name, jurisdiction_id, park_id) for every enterprise, in one query."""

    def __init__(self) -> None:
        self.by_uscc: dict[str, tuple[int, str, int, int | None]] = {
            row[0]: row[1:]
            for row in Enterprise.objects.values_list(
                "uscc", "id", "name", "jurisdiction_id", "park_id"
            ).iterator(chunk_size=20_000)
        }


class _ByEnterprise(Importer):
    """Rows that hang off an existing enterprise, found by its credit code."""

    name_field = TextField(
        "enterprise_name",
        "企业名称",
        aliases=("名称", "单位名称", "公司名称"),
        note="可选；只用于核对，与企业库中的名称不一致时给出提示，不会修改企业名称。",
        width=30,
    )

    def load_lookups(self) -> None:
        self.enterprises = _EnterpriseRefs().by_uscc
        self.jurisdictions = JurisdictionLookup().by_id

    def _in_scope(self, jurisdiction_id: int | None, park_id: int | None) -> bool:
        if self.scope_path is None:
            return True
        for node_id in (jurisdiction_id, park_id):
            node = self.jurisdictions.get(node_id) if node_id else None
            if node is not None and node.path.startswith(self.scope_path):
                return True
        return False

    def resolve_enterprise(self, row: ParsedRow) -> int | None:
        values = row.values
        if "uscc" not in values:
            return None
        ref = self.enterprises.get(values["uscc"])
        if ref is None:
            row.error(
                USCC.label,
                _("No enterprise with credit code %(uscc)s in the register; import the "
                  "enterprise first.") % {"uscc": values["uscc"]},
            )  # fmt: skip
            return None
        enterprise_id, name, jurisdiction_id, park_id = ref
        if not self._in_scope(jurisdiction_id, park_id):
            row.error(USCC.label, _outside_scope())
            return None
        given = values.get("enterprise_name")
        if given and name_key(given) != name_key(name):
            row.warn(
                self.name_field.label,
                _("The register has this credit code as “%(name)s”, not “%(given)s”.")
                % {"name": name, "given": given},
            )
        values["enterprise_id"] = enterprise_id
        row.repr = name
        return enterprise_id

    def after_write(self, written: Sequence[ParsedRow]) -> None:
        # Rule evaluation re-runs only enterprises whose data changed.
        ids = sorted({r.record["enterprise_id"] for r in written})
        for start in range(0, len(ids), writers.IN_CHUNK):
            Enterprise.objects.filter(pk__in=ids[start : start + writers.IN_CHUNK]).update(
                data_changed_at=self.now
            )

    def _load_by_enterprise(self, rows, fields: Sequence[str]) -> list[dict[str, Any]]:
        ids = sorted({r.values["enterprise_id"] for r in rows})
        qs = self.model.objects.values("id", *fields)
        if len(ids) > FULL_SCAN_KEYS:
            wanted = set(ids)
            return [r for r in qs.iterator(chunk_size=20_000) if r["enterprise_id"] in wanted]
        found = []
        for start in range(0, len(ids), writers.IN_CHUNK):
            found.extend(qs.filter(enterprise_id__in=ids[start : start + writers.IN_CHUNK]))
        return found


def _changed(before: dict[str, Any], after: dict[str, Any], names) -> list[str]:
    return [n for n in names if before.get(n) != after.get(n)]


# ---------------------------------------------------------------------------
# Enterprises
# ---------------------------------------------------------------------------

_LISTING_EXTRA = {
    "未上市": ListingStatus.UNLISTED,
    "否": ListingStatus.UNLISTED,
    "无": ListingStatus.UNLISTED,
    "拟上市": ListingStatus.PREPARING,
    "上市培育": ListingStatus.PREPARING,
    "新三板": ListingStatus.NEEQ,
    "科创板": ListingStatus.STAR,
    "主板": ListingStatus.MAIN,
    "创业板": ListingStatus.CHINEXT,
    "北交所": ListingStatus.BSE,
    "境外上市": ListingStatus.OVERSEAS,
    "境外": ListingStatus.OVERSEAS,
}


class EnterpriseImporter(Importer):
    kind = "enterprises"
    label = gettext_lazy("Enterprises")
    description = gettext_lazy(
        "One row per enterprise, matched on its unified social credit code: new codes are "
        "added, known ones updated. Blank cells leave the register's value as it is."
    )
    model = Enterprise
    key_fields = ("uscc",)
    conflict_fields = ("uscc",)
    fields = (
        USCC,
        TextField("name", "企业名称", required=True, max_length=200,
                  aliases=("名称", "单位名称", "公司名称"), note="营业执照上的全称。",
                  example="上海某某智能科技有限公司", width=30),
        RawField("town", "所属街镇", aliases=("街镇", "所属镇街", "镇街", "所属街道", "街道/镇",
                 "所属镇(街道)", "属地"),
                 note="新企业必填；写名称或代码，“莘庄”“莘庄镇”均可。", example="莘庄镇"),
        RawField("park", "所属园区", aliases=("园区", "经济城", "所属园区/经济城"),
                 note="可选；写名称或代码；须属于所填街镇。", example=""),
        TextField("legal_rep", "法定代表人", max_length=50, aliases=("法人代表", "法人"),
                  example="张三"),
        DateField("registered_on", "成立日期", aliases=("注册日期", "成立时间", "注册时间"),
                  note=DATE_NOTE, example="2018-06-01"),
        AmountField("registered_capital", "注册资本", aliases=("注册资金",),
                    note="表头单位（元/万元/亿元）为准，默认万元；也可写“500万元”“1.2亿”。",
                    example=500),
        TextField("address", "注册地址", aliases=("地址", "企业地址", "经营地址"), width=30),
        RawField("industry", "行业代码", aliases=("国民经济行业", "行业分类", "所属行业", "行业"),
                 note="GB/T 4754 门类或大类代码（如 C39、I65），或其名称。", example="I65"),
        ChoiceField("listing_status", "上市状态", aliases=("上市情况",),
                    choices=tuple(ListingStatus.choices), extra=_LISTING_EXTRA,
                    note="未上市、拟上市、新三板、科创板、主板、创业板、北交所、境外上市。",
                    example="未上市"),
        TextField("contact_name", "联系人", max_length=50),
        MobileField("contact_phone", "联系电话", aliases=("手机", "联系手机", "电话"),
                    note="11 位手机号，可带 +86、空格或短横线。", example="13912345678"),
        EmailField("contact_email", "电子邮箱", aliases=("邮箱", "Email", "E-mail")),
        DecimalField("lat", "纬度", min_value=Decimal(-90), max_value=Decimal(90)),
        DecimalField("lng", "经度", min_value=Decimal(-180), max_value=Decimal(180)),
    )  # fmt: skip
    # Attnames written; the row's own columns plus the resolved foreign keys.
    data_fields = (
        "uscc", "name", "legal_rep", "registered_on", "registered_capital", "address",
        "jurisdiction_id", "park_id", "industry_id", "listing_status", "contact_name",
        "contact_phone", "contact_email", "lat", "lng",
    )  # fmt: skip
    write_fields = (*data_fields, "data_changed_at")
    _text = ("legal_rep", "address", "contact_name", "contact_phone", "contact_email")
    _source = {"jurisdiction_id": "town", "park_id": "park", "industry_id": "industry"}

    def load_lookups(self) -> None:
        self.jurisdictions = JurisdictionLookup()
        self.industries: dict[str, int] = {}
        for pk, code, name in Industry.objects.values_list("id", "code", "name"):
            self.industries[name_key(code)] = pk
            self.industries.setdefault(name_key(name), pk)
        self._town_cache: dict[str, Any] = {}
        self._park_cache: dict[str, Any] = {}
        self._place_cache: dict[tuple[Any, ...], tuple[dict[str, int], Any]] = {}

    def _resolve(self, cache, finder, text):
        hit = cache.get(text)
        if hit is None:
            try:
                hit = finder(text)
            except ParseError as exc:
                hit = exc
            cache[text] = hit
        if isinstance(hit, ParseError):
            raise hit
        return hit

    def check_row(self, row: ParsedRow) -> None:
        # A file repeats a few (town, park, industry) combinations: check each one once.
        values = row.values
        place = (values.pop("town", None), values.pop("park", None), values.pop("industry", None))
        outcome = self._place_cache.get(place)
        if outcome is None:
            probe = ParsedRow(row.number, {})
            self._check_place(probe, *place)
            outcome = self._place_cache[place] = (probe.values, probe.errors or ())
        resolved, errors = outcome
        if resolved:
            values.update(resolved)
        for column, message in errors:
            row.error(column, message)

    def _check_place(self, row: ParsedRow, town_text, park_text, industry) -> None:
        values = row.values
        town = park = None
        if town_text is not None:
            try:
                town = self._resolve(self._town_cache, self.jurisdictions.town, town_text)
            except ParseError as exc:
                row.error("所属街镇", exc.message)
        if park_text is not None:
            try:
                park = self._resolve(self._park_cache, self.jurisdictions.park, park_text)
            except ParseError as exc:
                row.error("所属园区", exc.message)
        if park is not None and town is None and town_text is None:
            town = self.jurisdictions.by_id.get(park.parent_id)
        if town is not None:
            values["jurisdiction_id"] = town.pk
            # The same check as the form and the API (services.location_errors).
            problems = location_errors(town, park, scope_path=self.scope_path)
            for field, message in problems.items():
                row.error(PLACE_COLUMNS[field], message)
        if park is not None:
            values["park_id"] = park.pk
        if industry is not None:
            industry_id = self.industries.get(name_key(industry))
            if industry_id is None:
                row.error(
                    "行业代码",
                    _("Unknown industry “%(value)s” (use a GB/T 4754 code such as C39 or its "
                      "name).") % {"value": industry},
                )  # fmt: skip
            else:
                values["industry_id"] = industry_id

    def row_key(self, row: ParsedRow):
        return (row.values["uscc"],)

    def describe_key(self, row: ParsedRow) -> str:
        return _("credit code %(uscc)s") % {"uscc": row.values["uscc"]}

    def load_existing(self, rows):
        qs = Enterprise.objects.values_list("id", *self.data_fields)
        names = ("id", *self.data_fields)
        if len(rows) > FULL_SCAN_KEYS:
            wanted = {r.key[0] for r in rows}
            found = (r for r in qs.iterator(chunk_size=20_000) if r[1] in wanted)
        else:
            usccs = sorted({r.key[0] for r in rows})
            found = (
                r
                for start in range(0, len(usccs), writers.IN_CHUNK)
                for r in qs.filter(uscc__in=usccs[start : start + writers.IN_CHUNK])
            )
        return {(r[1],): dict(zip(names, r, strict=True)) for r in found}

    def classify(self, row: ParsedRow, existing) -> None:
        values = row.values
        row.repr = values["name"]
        if existing is None:
            if "jurisdiction_id" not in values:
                row.error("所属街镇", _("A new enterprise needs its town / street."))
                return
            record = {
                name: values.get(name, "" if name in self._text else None)
                for name in self.data_fields
            }
            if record["listing_status"] is None:
                record["listing_status"] = ListingStatus.UNLISTED
            record["data_changed_at"] = self.now
            row.action, row.record = CREATE, record
            return
        if self.scope_path is not None and not self._existing_in_scope(existing):
            row.error(USCC.label, _outside_scope())
            return
        record = dict(existing)
        record.update(values)
        changes = _changed(existing, record, self.data_fields)
        row.target_id = existing["id"]
        if existing["name"] != values["name"]:
            row.warn(
                "企业名称",
                _("This credit code is registered as “%(old)s”; the name will change to "
                  "“%(new)s”.") % {"old": existing["name"], "new": values["name"]},
            )  # fmt: skip
        if not changes:
            row.action = UNCHANGED
            return
        record["data_changed_at"] = self.now
        row.action, row.record, row.before = UPDATE, record, existing

    def _existing_in_scope(self, existing) -> bool:
        nodes = self.jurisdictions.by_id
        for key in ("jurisdiction_id", "park_id"):
            node = nodes.get(existing[key]) if existing[key] else None
            if node is not None and node.path.startswith(self.scope_path):
                return True
        return False


# ---------------------------------------------------------------------------
# Qualifications
# ---------------------------------------------------------------------------

# Short names officers use for the common types.
_TYPE_SYNONYMS = {
    "高企": "HTE",
    "国家高新技术企业": "HTE",
    "国高": "HTE",
    "科小": "TSME",
    "科技型中小企业": "TSME",
    "小巨人": "LITTLE_GIANT",
    "科技小巨人": "LITTLE_GIANT",
    "小巨人培育": "LITTLE_GIANT_CULTIVATION",
    "专精特新": "SRDI",
    "专精特新企业": "SRDI",
    "国家级专精特新小巨人": "SRDI_GIANT",
    "专精特新小巨人": "SRDI_GIANT",
}


class QualificationImporter(_ByEnterprise):
    kind = "qualifications"
    label = gettext_lazy("Qualifications")
    description = gettext_lazy(
        "One row per certificate, matched on enterprise + type + date issued. The enterprise "
        "must already be in the register. An empty expiry date is computed from the type's "
        "validity."
    )
    model = Qualification
    key_fields = ("enterprise_id", "type_id", "issued_on")
    fields = (
        USCC,
        _ByEnterprise.name_field,
        RawField("type", "资质类型", required=True, aliases=("资质", "认定类型", "资质名称", "类型"),
                 note="资质名称或代码，例如 高新技术企业（HTE）、科技型中小企业（TSME）、"
                      "专精特新中小企业（SRDI）、科技小巨人企业（LITTLE_GIANT）。",
                 example="高新技术企业", width=20),
        TextField("certificate_no", "证书编号", max_length=64, aliases=("证书号", "编号"),
                  example="GR202331000123", width=20),
        DateField("issued_on", "认定日期", required=True,
                  aliases=("发证日期", "认定时间", "批准日期", "颁发日期"), note=DATE_NOTE,
                  example="2023-11-15"),
        DateField("expires_on", "有效期至", aliases=("到期日期", "失效日期", "有效期截止", "截止日期"),
                  note="可不填：按资质类型的有效期自动计算（高企3年、科小1年）。", example=""),
        DateField("revoked_on", "撤销日期", aliases=("取消日期",), note="被撤销/取消资格时填写。"),
    )  # fmt: skip
    data_fields = ("enterprise_id", "type_id", "certificate_no", "issued_on", "expires_on",
                   "revoked_on")  # fmt: skip
    write_fields = data_fields

    def load_lookups(self) -> None:
        super().load_lookups()
        self.types: dict[str, QualificationType] = {}
        for qtype in QualificationType.objects.all():
            self.types[name_key(qtype.code)] = qtype
            self.types[name_key(qtype.name)] = qtype
        for synonym, code in _TYPE_SYNONYMS.items():
            if name_key(code) in self.types:
                self.types.setdefault(name_key(synonym), self.types[name_key(code)])

    def check_row(self, row: ParsedRow) -> None:
        values = row.values
        type_text = name_key(values.pop("type", ""))
        qtype = self.types.get(type_text) or self.types.get(
            type_text.replace("“", "").replace("”", "").replace('"', "")
        )
        if qtype is None and type_text:
            known = "、".join(sorted({t.name for t in self.types.values()}))
            row.error("资质类型", _("Unknown qualification type; known types: %(known)s.")
                      % {"known": known})  # fmt: skip
        issued = values.get("issued_on")
        if qtype is not None:
            values["type_id"] = qtype.pk
            if values.get("expires_on") is None and qtype.validity_years and issued:
                try:
                    end = issued.replace(year=issued.year + qtype.validity_years)
                except ValueError:  # 29 February
                    end = issued.replace(year=issued.year + qtype.validity_years, day=28)
                values["expires_on"] = end - dt.timedelta(days=1)
        expires, revoked = values.get("expires_on"), values.get("revoked_on")
        if issued and expires is not None and expires < issued:
            row.error("有效期至", _("The expiry date is before the date issued."))
        if issued and revoked is not None and revoked < issued:
            row.error("撤销日期", _("The revocation date is before the date issued."))
        if self.resolve_enterprise(row) is not None and qtype is not None:
            row.repr = f"{row.repr} · {qtype.name}"

    def row_key(self, row: ParsedRow):
        v = row.values
        return (v["enterprise_id"], v["type_id"], v["issued_on"])

    def describe_key(self, row: ParsedRow) -> str:
        return _("enterprise, type and date issued")

    def load_existing(self, rows):
        return {
            (r["enterprise_id"], r["type_id"], r["issued_on"]): r
            for r in self._load_by_enterprise(rows, self.data_fields)
        }

    def classify(self, row: ParsedRow, existing) -> None:
        values = row.values
        if existing is None:
            record = {n: values.get(n, "" if n == "certificate_no" else None)
                      for n in self.data_fields}  # fmt: skip
            row.action, row.record = CREATE, record
            return
        record = dict(existing)
        record.update({k: v for k, v in values.items() if k in self.data_fields})
        row.target_id = existing["id"]
        changes = _changed(existing, record, self.data_fields)
        if not changes:
            row.action = UNCHANGED
            return
        row.action, row.record, row.before = UPDATE, record, existing


# ---------------------------------------------------------------------------
# Annual reports
# ---------------------------------------------------------------------------

_METRIC_COLUMNS = {
    "revenue": ("营业收入", ("营业总收入", "主营业务收入", "销售收入")),
    "rd_expense": ("研发费用", ("研发投入", "研发经费支出", "研发经费", "R&D经费支出")),
    "hightech_revenue": ("高新技术产品收入", ("高新技术产品(服务)收入", "高品收入")),
    "total_assets": ("资产总额", ("总资产",)),
    "tax": ("纳税总额", ("上缴税金", "实缴税金", "税收", "纳税额", "缴税总额")),
    "profit": ("利润总额", ("利润",)),
    "staff": ("从业人数", ("职工人数", "员工人数", "从业人员", "从业人员数", "年末从业人数")),
    "tech_staff": ("科技人员数", ("研发人员数", "科技人员", "技术人员数", "研发人员")),
    "invention_patents_granted": ("当年授权发明专利数", ("当年发明专利授权数", "授权发明专利数")),
    "invention_patents_valid": ("有效发明专利数", ("有效发明专利", "拥有有效发明专利数")),
    "ip_count": ("知识产权数", ("拥有知识产权数", "知识产权总数")),
}


def _metric_field(name: str, unit: str):
    label, aliases = _METRIC_COLUMNS[name]
    if unit == "yuan":
        return AmountField(name, label, aliases=aliases, signed=name == "profit",
                           note="表头单位（元/万元/亿元）为准，默认万元；也可写“1.2亿”“3000元”。",
                           example=1234.5)  # fmt: skip
    return IntField(name, label, aliases=aliases, min_value=0, note="非负整数。", example=10)


class AnnualReportImporter(_ByEnterprise):
    kind = "annual_reports"
    label = gettext_lazy("Annual reports")
    description = gettext_lazy(
        "One row per enterprise and year, matched on credit code + year. Money in 万元 unless "
        "the header says otherwise. A year already confirmed is never overwritten."
    )
    model = AnnualReport
    key_fields = ("enterprise_id", "year")
    conflict_fields = ("enterprise_id", "year")
    metrics = tuple(ANNUAL_METRICS)
    fields = (
        USCC,
        _ByEnterprise.name_field,
        IntField("year", "年度", required=True, min_value=REPORT_YEAR_MIN, max_value=YEAR_MAX,
                 aliases=("年份", "报告年度", "统计年度"), example=2024),
        *(_metric_field(name, unit) for name, unit in ANNUAL_METRICS.items()),
    )  # fmt: skip
    data_fields = ("enterprise_id", "year", *metrics)
    write_fields = (*data_fields, "status", "source", "submitted_by_id")

    def check_row(self, row: ParsedRow) -> None:
        values = row.values
        year = values.get("year")
        if year is not None and year > timezone.localdate().year:
            row.error("年度", _("%(year)d is in the future.") % {"year": year})
        staff, tech = values.get("staff"), values.get("tech_staff")
        if staff is not None and tech is not None and tech > staff:
            row.warn("科技人员数", _("More technical staff (%(tech)d) than staff (%(staff)d).")
                     % {"tech": tech, "staff": staff})  # fmt: skip
        revenue, hightech = values.get("revenue"), values.get("hightech_revenue")
        if revenue is not None and hightech is not None and hightech > revenue:
            row.warn("高新技术产品收入", _("High-tech product revenue is more than revenue."))
        if self.resolve_enterprise(row) is not None:
            row.repr = f"{row.repr} · {year}"

    def row_key(self, row: ParsedRow):
        return (row.values["enterprise_id"], row.values["year"])

    def describe_key(self, row: ParsedRow) -> str:
        return _("credit code and year")

    def load_existing(self, rows):
        return {
            (r["enterprise_id"], r["year"]): r
            for r in self._load_by_enterprise(rows, (*self.data_fields, "status"))
        }

    def classify(self, row: ParsedRow, existing) -> None:
        values = row.values
        if existing is None:
            record = {n: values.get(n) for n in self.data_fields}
            record.update(status=ReportStatus.SUBMITTED, source=ReportSource.IMPORT,
                          submitted_by_id=getattr(self.user, "pk", None))  # fmt: skip
            row.action, row.record = CREATE, record
            return
        record = dict(existing)
        record.update({k: v for k, v in values.items() if k in self.data_fields})
        row.target_id = existing["id"]
        changes = _changed(existing, record, self.data_fields)
        if not changes:
            row.action = UNCHANGED
            return
        if existing["status"] == ReportStatus.CONFIRMED:
            fields = "、".join(_METRIC_COLUMNS[n][0] for n in changes)
            row.error("年度", _("The %(year)d report of this enterprise is already confirmed; "
                               "it is not overwritten (differs in: %(fields)s).")
                      % {"year": values["year"], "fields": fields})  # fmt: skip
            return
        record.update(source=ReportSource.IMPORT, submitted_by_id=getattr(self.user, "pk", None))
        row.action, row.record, row.before = UPDATE, record, existing


__all__ = ["AnnualReportImporter", "EnterpriseImporter", "QualificationImporter"]
