"""Import review flow through the test client: upload .txt and .docx, review, edit, drop, save."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kechuang.enterprises.tests.factories import QualificationTypeFactory
from kechuang.plans.models import Plan, PlanImport, ResponsibleUnit, SourceKind

TEXT = """关于印发《测试区科技创新三年行动计划(2024-2026年)》的通知
测科委〔2024〕3号
一、主要目标
到2026年,有效期内高新技术企业达到1200家,全社会研发经费支出占地区生产总值比例达到4.5%,新增科技小巨人企业30家。
二、重点任务
序号\t领域\t重点工作\t主要内容\t责任单位
1\t企业培育\t实施高企倍增计划\t加强高新技术企业培育辅导,完善培育库,组织申报认定和复审工作,提升服务效率。\t区科委、区经委
2\t创新载体\t建设科创载体\t推动孵化器、众创空间提质增效,打造专业化的创新创业服务平台体系。\t区发改委、相关镇
"""


def _docx_bytes() -> bytes:
    from docx import Document

    doc = Document()
    lines = TEXT.split("\n")
    table_rows = [line.split("\t") for line in lines if "\t" in line]
    for line in lines:
        if "\t" in line:
            continue
        doc.add_paragraph(line)
    table = doc.add_table(rows=0, cols=5)
    for row in table_rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _post_review(client, response, *, drop_indicator=None, edit_target=None):
    """Submit the review page's formsets as rendered (like a browser), with a few edits."""
    ctx = response.context
    data = {}
    for form in [ctx["meta_form"], *ctx["ind_set"].forms, *ctx["task_set"].forms]:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif value is not None:
                data[key] = str(value)
    for fs in (ctx["ind_set"], ctx["task_set"]):
        for k, v in fs.management_form.initial.items():
            data[fs.management_form.add_prefix(k)] = v
    if drop_indicator is not None:
        data.pop(f"ind-{drop_indicator}-keep", None)
    if edit_target is not None:
        index, value = edit_target
        data[f"ind-{index}-target_value"] = value
    return client.post(response.request["PATH_INFO"], data)


@pytest.fixture
def hte(db):
    return QualificationTypeFactory(code="HTE", name="高新技术企业")


@pytest.mark.parametrize("kind", ["txt", "docx"])
def test_upload_review_and_save(client_for, officer, hte, kind):
    client = client_for(officer)
    data = TEXT.encode("utf-8") if kind == "txt" else _docx_bytes()
    upload = SimpleUploadedFile(f"plan.{kind}", data)
    response = client.post("/plans/import/", {"file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    review = client.get(response["Location"])
    assert review.status_code == 200
    inds = review.context["ind_set"].initial
    names = [row["name"] for row in inds]
    hte_index = next(i for i, n in enumerate(names) if "高新技术企业" in n)
    assert inds[hte_index]["target_value"] == 1200 and inds[hte_index]["target_year"] == 2026
    assert '"count_valid"' in inds[hte_index]["source"]  # proposed computed data source
    assert "1200家" in inds[hte_index]["quote"]
    tasks = review.context["task_set"].initial
    assert [t["units"] for t in tasks][:2] == ["区科委、区经委", "区发改委、相关镇"]
    meta = review.context["meta_form"].initial
    assert meta["period_start"] == 2024 and meta["period_end"] == 2026

    gdp_index = next(i for i, n in enumerate(names) if "生产总值" in n)
    saved = _post_review(client, review, drop_indicator=gdp_index, edit_target=(hte_index, "1300"))
    assert saved.status_code == 302, saved.context and [f.errors for f in saved.context["ind_set"]]
    plan = Plan.objects.get()
    assert plan.kind == "three_year" and plan.period_end == 2026
    assert plan.indicators.count() == len(inds) - 1
    hte_ind = plan.indicators.get(name=names[hte_index])
    assert hte_ind.target_value == 1300 and hte_ind.source_kind == SourceKind.COMPUTED
    assert not plan.indicators.filter(name=names[gdp_index]).exists()
    task = plan.tasks.get(title="实施高企倍增计划")
    assert [(a.unit.name, a.is_lead) for a in task.assignments.all()] == [
        ("区科委", True),
        ("区经委", False),
    ]
    assert ResponsibleUnit.objects.filter(name="相关镇").exists()
    assert PlanImport.objects.get().plan == plan
    assert plan.source_text.startswith("关于印发")


def test_paste_and_bad_input_messages(client_for, officer):
    client = client_for(officer)
    response = client.post("/plans/import/", {"text": "   "})
    assert (
        response.status_code == 200
        and "Paste the text or choose a file" in response.content.decode()
        or "粘贴" in response.content.decode()
    )
    bad = client.post("/plans/import/", {"file": SimpleUploadedFile("plan.doc", b"\xd0\xcf\x11")})
    assert bad.status_code == 200 and ".docx" in bad.content.decode()
    ok = client.post("/plans/import/", {"text": TEXT})
    assert ok.status_code == 302
    review = client.get(ok["Location"])
    data = {
        "meta-title": "",
        "meta-kind": "three_year",
        "meta-report_frequency": "quarterly",
        "ind-TOTAL_FORMS": "1",
        "ind-INITIAL_FORMS": "0",
        "ind-0-keep": "on",
        "ind-0-name": "x",
        "ind-0-kind": "level",
        "ind-0-direction": "up",
        "ind-0-target_value": "abc",
        "ind-0-source": "{bad",
        "task-TOTAL_FORMS": "0",
        "task-INITIAL_FORMS": "0",
    }
    again = client.post(review.request["PATH_INFO"], data)
    assert again.status_code == 200 and not Plan.objects.exists()
    form = again.context["ind_set"].forms[0]
    assert "target_value" in form.errors and "source" in form.errors


def test_review_is_commission_only(client_for, town_officer, unit_user, officer):
    imp = PlanImport.objects.create(text="x", draft={}, created_by=officer)
    for user in (town_officer, unit_user):
        client = client_for(user)
        assert client.get("/plans/import/").status_code == 403
        assert client.get(f"/plans/import/{imp.pk}/").status_code == 403
