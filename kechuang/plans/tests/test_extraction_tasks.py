"""Tasks from task tables and numbered sections."""

from kechuang.plans.extraction import extract_plan, extract_tasks
from kechuang.plans.extraction.tasks import find_section_tasks, looks_like_units, split_units

CONTENT_A = (
    "围绕集成电路产业链布局,引进一批设计企业和研发中心,力争至2025年末,集成电路产业规模达到300亿元。"
)
CONTENT_B = (
    "支持龙头企业建设开放创新平台,推动大中小企业融通发展,每年发布企业技术需求清单不少于两批。"
)
CONTENT_C = "完善孵化器绩效评价机制,推动孵化器专业化、品牌化发展,提升在孵企业的存活率和成长性。"


def test_one_cell_per_line_task_table_with_merged_area_and_continuation_rows():
    text = "\n\n".join(
        [
            "重点工作任务清单",
            "序号",
            "领域",
            "重点工作",
            "主要内容",
            "责任单位",
            "备注",
            "1",
            "壮大创新主体",
            "发展集成电路产业",
            CONTENT_A,
            "区经委、区科委,相关镇",
            "2",
            "推动融通创新",
            CONTENT_B,
            "区科委",
            CONTENT_C,
            "区科委、各街镇",
            "3",
            "优化创新环境",
            "提升孵化载体能级",
            CONTENT_C,
            "区科委",
        ]
    )
    tasks = [t for t in extract_tasks(text) if t.source == "table"]
    assert [(t.number, t.area, t.title) for t in tasks] == [
        ("1", "壮大创新主体", "发展集成电路产业"),
        ("2", "壮大创新主体", "推动融通创新"),
        ("2", "壮大创新主体", "推动融通创新"),
        ("3", "优化创新环境", "提升孵化载体能级"),
    ]
    assert tasks[0].responsible_units == ["区经委", "区科委", "相关镇"]
    assert tasks[2].content == CONTENT_C
    assert tasks[2].responsible_units[0] == "区科委"


def test_tab_separated_task_table_as_rendered_from_word():
    text = (
        "序号\t领域\t重点工作\t主要内容\t责任单位\n"
        f"1\t壮大创新主体\t发展集成电路产业\t{CONTENT_A}\t区经委、区科委\n"
        f"2\t壮大创新主体\t推动融通创新\t{CONTENT_B}\t区科委\n"
    )
    tasks = extract_tasks(text)
    assert [(t.number, t.title, t.responsible_units[0]) for t in tasks] == [
        ("1", "发展集成电路产业", "区经委"),
        ("2", "推动融通创新", "区科委"),
    ]


def test_numbered_sections_become_areas_and_tasks_with_responsible_units():
    text = (
        "某区2024年科技工作要点\n"
        "一、总体目标\n力争新增高新技术企业300家。\n"
        "二、重点任务\n"
        "(一)强化企业创新主体地位\n"
        "实施高新技术企业倍增计划。(责任单位:区科委、区税务局)\n"
        "(二)建设创新载体\n"
        "推进大学科技园建设。\n责任单位:区科委\n"
    )
    tasks = find_section_tasks(text)
    assert [(t.number, t.area, t.title) for t in tasks] == [
        ("(一)", "重点任务", "强化企业创新主体地位"),
        ("(二)", "重点任务", "建设创新载体"),
    ]
    assert tasks[0].responsible_units == ["区科委", "区税务局"]
    assert tasks[1].responsible_units == ["区科委"]
    assert "责任单位" not in tasks[0].content


def test_review_sections_are_not_tasks():
    text = (
        "一、“十三五”工作回顾\n(一)主要成效\n成效显著。\n二、重点任务\n(一)建设载体\n建设孵化器。\n"
    )
    assert [t.title for t in find_section_tasks(text)] == ["建设载体"]


def test_lead_phrases_split_a_section_into_tasks():
    text = "一、聚焦企业培育\n培育科技企业。围绕重点产业培育企业。\n强化金融服务。深化科技信贷。\n"
    tasks = find_section_tasks(text)
    assert [(t.area, t.title) for t in tasks] == [
        ("聚焦企业培育", "培育科技企业"),
        ("聚焦企业培育", "强化金融服务"),
    ]


def test_unit_lists():
    assert split_units("区财政局(金融办)、区科委,相关镇") == [
        "区财政局(金融办)",
        "区科委",
        "相关镇",
    ]
    assert looks_like_units("区经委、区科委、区投资促进办")
    assert not looks_like_units("加快打造科技创新核心功能区,提升创新策源能力。")


def test_extract_plan_bundles_metadata_targets_and_tasks():
    text = (
        "某区科学技术委员会关于印发《某区科委2024年工作要点》的通知\n"
        "某科委〔2024〕3号\n"
        "一、主要目标\n全年新增高新技术企业300家。\n"
        "二、重点任务\n(一)培育企业\n实施培育计划。\n"
    )
    draft = extract_plan(text)
    assert draft.metadata.doc_number == "某科委〔2024〕3号"
    assert [t["value"] for t in draft.targets] == [300]
    assert [t.title for t in draft.tasks] == ["培育企业"]
    assert draft.to_dict()["targets"][0]["year"] == 2024
