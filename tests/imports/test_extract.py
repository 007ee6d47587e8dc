"""The extractor on the seed plan documents and on small documents for each kind of structure."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.imports.draft import Draft
from tracker.imports.extract import Paragraph, Table, classify_heading, extract, find_targets

from .conftest import file_draft, seed, text_draft

# 表2 of the provincial plan, row by row: (category, number, name, unit, target)
TABLE_2 = [
    ("健康水平指标", 1, "人均预期寿命", "岁", "80以上"),
    ("健康水平指标", 2, "婴儿死亡率", "‰", "5以下"),
    ("健康水平指标", 3, "孕产妇死亡率", "1/10万", "7以下"),
    ("健康水平指标", 4, "居民健康素养水平", "%", "40"),
    ("健康水平指标", 5, "健康浙江建设发展指数", None, "85"),
    ("服务体系指标", 6, "每千人执业（助理）医师数", "人", "4.3"),
    ("服务体系指标", 7, "每千人注册护士数", "人", "5"),
    ("服务体系指标", 8, "每千人医疗卫生机构床位数", "张", "7.5"),
    ("服务体系指标", 9, "每万人全科医生数", "人", "5"),
    ("服务体系指标", 10, "疾控机构标准化率", "%", "95"),
    ("服务体系指标", 11, "每千人拥有婴幼儿照护设施托位", "张", "4.5"),
    ("服务效能指标", 12, "提供中医药服务的基层医疗卫生机构占比", "%", "95"),
    ("服务效能指标", 13, "老年人健康管理率", "%", "72以上"),
    ("服务效能指标", 14, "出生人口性别比", None, "110以下"),
    ("服务效能指标", 15, "重大慢病过早死亡率", "%", "8.5以下"),
    ("服务效能指标", 16, "县域就诊率", "%", "90以上"),
    ("保障水平指标", 17, "人均基本公共卫生服务经费", "元", "稳步提高"),
    ("保障水平指标", 18, "个人卫生支出占卫生总费用比例", "%", "26以下"),
    ("创新发展指标", 19, "国家级卫生人才数", "人", "350"),
    ("创新发展指标", 20, "卫生健康数字化改革综合指数", None, "90"),
]
# 表1: (category, number, name, unit, 2020 target, 2020 outcome)
TABLE_1 = [
    ("健康素质", 1, "人均预期寿命", "岁", "78.5", "79.47"),
    ("健康素质", 2, "5岁以下儿童死亡率", "‰", "8.5以下", "3.03"),
    ("健康素质", 3, "孕产妇死亡率", "1/10万", "9.5以下", "3.86"),
    ("健康素质", 4, "居民健康素养水平", "%", "24", "33.08"),
    ("人口发展", 5, "总和生育率", None, "1.6", "1.5"),
    ("人口发展", 6, "出生人口性别比", None, "112", "110以下"),
    ("人口发展", 7, "出生缺陷发生率", "‰", "15", "9.8"),
    ("人口发展", 8, "免费计划生育服务覆盖率", "%", "95", "95以上"),
    ("资源配置", 9, "每千人床位数", "张", "6", "5.99"),
    ("资源配置", 10, "医护比", None, "1:1.125", "1:1.15"),
    ("资源配置", 11, "每万人全科医生数", "人", "2", "4"),
    ("资源配置", 12, "县域内就诊率", "%", "90", "88.9"),
    ("服务保障", 13, "责任医生规范签约服务率", "%", "50", "45.58"),
    ("服务保障", 14, "区域医学共享中心覆盖率", "%", "80", "80以上"),
    ("服务保障", 15, "智慧医疗覆盖率", "%", "80", "80以上"),
    ("服务保障", 16, "个人卫生支出占卫生总费用比例", "%", "30", "26以下"),
]
CHAPTERS = ["发展背景", "指导思想、基本原则和总体目标", "统筹安全与发展，建设强大公共卫生体系",
            "筑牢基层基础，提升县域医疗卫生综合服务能力", "聚力提能扩容，推进优质医疗资源均衡布局",
            "坚持传承创新发展，打造中医药强省", "将健康融入所有政策，深入实施健康浙江行动",
            "突出创新驱动，形成卫生健康科创新优势", "注重系统集成，深化“三医联动”“六医统筹”集成改革",
            "着眼全民共享，提升卫生健康服务获得感", "加强规划实施保障"]
# where each 专栏 hangs: the key task it follows
BOX_HOLDERS = {1: "4", 2: "4", 3: "5", 4: "8", 5: "13", 6: "14", 7: "16", 8: "16", 9: "16", 10: "17", 11: "18",
               12: "18", 13: "19", 14: "19", 15: "20", 16: "22", 17: "24"}


def of_type(draft: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [i for i in draft["items"] if i["type"] == kind]


def assert_provincial_plan(draft: dict[str, Any]) -> None:
    """Everything the provincial plan holds: 11 chapters, 33 key tasks, 17 专栏, 表2's 20 indicators and
    表1's 16 rows with their values."""
    chapters = of_type(draft, "chapter")
    assert [c["title"] for c in chapters] == CHAPTERS
    assert [c["code"] for c in chapters] == ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一"]
    key_tasks = of_type(draft, "key_task")
    assert [k["code"] for k in key_tasks] == [str(n) for n in range(1, 34)]
    assert key_tasks[0]["title"] == "强化公共卫生安全防控体系建设"
    assert key_tasks[0]["description"].startswith("改革完善疾病预防控制体系")
    assert key_tasks[31]["title"] == "强化规划执行"
    by_id = {i["id"]: i for i in draft["items"]}
    assert by_id[key_tasks[0]["parent"]]["title"] == CHAPTERS[2]
    assert by_id[key_tasks[32]["parent"]]["title"] == CHAPTERS[10]
    boxes = of_type(draft, "box")
    assert [b["code"] for b in boxes] == [f"专栏{n}" for n in range(1, 18)]
    assert {int(b["code"][2:]): by_id[b["parent"]]["code"] for b in boxes} == BOX_HOLDERS
    assert boxes[0]["title"] == "公共卫生体系建设"
    assert boxes[0]["box_items"] == ["疾病预防控制机构标准化工程", "传染病医疗救治能力提升工程",
                                     "区域卫生应急综合保障网络建设项目", "浙江省公共卫生临床中心项目",
                                     "浙江省突发公共事件创伤危急重症立体救治中心项目"]
    assert len(boxes[15]["box_items"]) == 4  # 专栏16: four lines, none with a lead sentence
    assert [(i["category"], i["number"], i["name"], i["unit"], i["target"]) for i in draft["indicators"]] == TABLE_2
    assert all(i["target_year"] == 2025 for i in draft["indicators"])
    reviews = draft["reviews"]
    assert len(reviews) == 1
    assert [(r["category"], r["number"], r["name"], r["unit"], r["target"], r["actual"])
            for r in reviews[0]["rows"]] == TABLE_1
    counted = Draft.from_json(draft).counts()
    assert (counted["章"], counted["重点任务"], counted["专栏"], counted["指标"], counted["回顾表行"]) == (11, 33, 17, 20, 16)


def test_the_provincial_plan_as_text(provincial_text: str) -> None:
    draft = file_draft(seed("003"))
    assert_provincial_plan(draft)
    assert draft["plan"] == {"title": "浙江省卫生健康事业发展“十四五”规划", "start_year": 2021, "end_year": 2025,
                             "issuing_body": None}
    assert draft["message"] is None


def test_the_provincial_plans_footnotes_definitions_and_baselines() -> None:
    draft = file_draft(seed("003"))
    beds = next(r for r in draft["reviews"][0]["rows"] if r["number"] == 9)
    assert beds["actual"] == "5.99" and beds["year"] == 2019  # 5.99* — 注：标*的采用2019年数据
    assert "2019年" in beds["notes"][0]
    table_2 = next(t for t in draft["tables"] if t["kind"] == "indicators")
    assert any("第七次人口普查" in n for n in table_2["notes"])
    life = draft["indicators"][0]
    # 表2 has no baselines: they come from 表1's 2020 outcome of the same indicator
    assert (life["baseline"], life["baseline_year"]) == ("79.47", 2020)
    assert draft["indicators"][1]["baseline"] is None  # 婴儿死亡率 is not in 表1
    # the definitions in the appendix (一、人均预期寿命：…) are the indicators' 名词解释, not chapters
    assert life["definition"].startswith("一般指当前出生的人口")
    assert draft["indicators"][5]["definition"].startswith("指执业（助理）医师数")  # "每千人执业（助理）医师数（人）："
    assert all(i["definition"] for i in draft["indicators"])


def test_the_provincial_plans_doubts_are_few_and_explained() -> None:
    draft = file_draft(seed("003"))
    unsure = [i for i in draft["items"] if i["unsure"]]
    assert [i["title"] for i in unsure] == CHAPTERS[:2]  # the narrative chapters hold no tasks
    assert all("没有识别出任务" in i["reason"] for i in unsure)
    sections = of_type(draft, "section")
    assert [s["title"] for s in sections] == ["现实基础", "面临形势", "指导思想", "基本原则", "总体目标"]
    assert not any(i["unsure"] for i in draft["indicators"])


def test_the_other_seed_documents() -> None:
    city = file_draft(seed("000"))  # the city's drafting notes: 8 main tasks, targets in the prose
    assert city["plan"]["title"] == "温州市卫生健康事业发展及突发公共卫生事件应急管理“十四五”规划"
    assert city["plan"]["issuing_body"] == "温州市卫生健康委员会"
    assert [k["title"] for k in of_type(city, "key_task")] == [
        "构建现代化公共卫生应急体系", "优化整合型医疗卫生服务体系", "打造具有区域辐射力的医疗高地", "深入实施健康温州行动",
        "促进公共卫生服务均等化", "加快打造中医药强市", "推进卫生健康数字化改革", "推进卫生健康治理体系和治理能力现代化"]
    targets = {(c["name"], c["target"]) for c in city["candidates"]}
    assert ("传染病收治能力", "1.5床/万人") in targets and ("居民健康素养水平", "40%") in targets
    assert len(city["candidates"]) == 7

    county = file_draft(seed("001"))  # the county's drafting notes: 4 main tasks and an 8-row indicator table
    assert [k["title"] for k in of_type(county, "key_task")] == [
        "建设现代化公共卫生安全体系", "优化整合型医疗卫生服务体系", "构筑全生命周期健康服务体系", "建设智慧互联的卫生健康服务体系"]
    rows = [(i["name"], i["unit"], i["baseline"], i["target"], i["nature"]) for i in county["indicators"]]
    assert len(rows) == 8
    assert rows[1] == ("每千名老年人拥有医疗卫生机构康复护理床位数", "张", "4.10", "5.50", "guiding")  # two lines
    assert rows[4] == ("每千常住人口注册护士数", "人", "2.50", "≥3.54", "guiding")  # （≥人） in the name
    assert rows[6] == ("医护比", None, "1.00 : 0.84", "1.00 : 0.93", "guiding")
    assert all(i["baseline_year"] == 2020 and i["target_year"] == 2025 for i in county["indicators"])

    annual = file_draft(seed("002"))  # a county's annual action plan: 10 actions as "## N 标题"
    assert (annual["plan"]["start_year"], annual["plan"]["end_year"]) == (2021, 2021)  # "2021年，…制定了…计划"
    assert [k["code"] for k in of_type(annual, "key_task")] == [str(n) for n in range(1, 11)]
    assert of_type(annual, "chapter") == []
    assert of_type(annual, "key_task")[9]["title"] == "一老一小健康保障行动"
    goals = {i["name"]: i for i in annual["indicators"]}
    assert goals["城乡居民健康素养水平"]["target"] == "32%"
    assert goals["城乡居民健康素养水平"]["category"] == "居民健康素质不断提高"
    assert goals["每千人注册护士数"]["target"] == "5人"  # "…医师数和注册护士数分别达到4.3人和5人"
    assert goals["重大慢病过早死亡率"]["target"] == "持续降低"
    assert len(annual["indicators"]) == 23
    assert all(i["unsure"] for i in annual["indicators"])


@pytest.mark.parametrize(("chapter", "key_task", "measure"), [
    ("一、", "（一）", "1．"),
    ("第一章 ", "第一节 ", "1."),
    ("一、", "1、", "(1)"),
    ("第一章", "1.", "①"),
    ("一、", "1．", "1.1 "),
])
def test_each_heading_style(chapter: str, key_task: str, measure: str) -> None:
    def number(label: str, n: int) -> str:
        cn = "一二三"[n - 1]
        return (label.replace("一", cn).replace("1", str(n)).replace("①", "①②③"[n - 1])
                .replace("1.1", f"{n}.1") if label != "1.1 " else f"1.{n} ")

    lines = ["某某市卫生健康事业发展“十四五”规划", "为推进健康某某建设，制定本规划。"]
    for c in (1, 2):
        lines.append(f"{number(chapter, c)}完善体系{c}")
        lines.append("本章导语。")
        for k in (1, 2):
            lines.append(f"{number(key_task, k)}推进重点任务{c}{k}。具体内容{c}{k}。")
            for m in (1, 2):
                lines.append(f"{number(measure, m)}实施工作举措{c}{k}{m}。")
    draft = text_draft("\n".join(lines))
    assert [i["title"] for i in of_type(draft, "chapter")] == ["完善体系1", "完善体系2"]
    assert [i["title"] for i in of_type(draft, "key_task")] == ["推进重点任务11", "推进重点任务12", "推进重点任务21",
                                                                "推进重点任务22"]
    measures = of_type(draft, "measure")
    assert len(measures) == 8
    by_id = {i["id"]: i for i in draft["items"]}
    assert by_id[measures[-1]["parent"]]["title"] == "推进重点任务22"
    assert of_type(draft, "key_task")[0]["description"] == "具体内容11。"


def test_heading_labels_as_written() -> None:
    assert classify_heading("（十二）健全制度").number == 12
    assert classify_heading("二十三、完善机制").number == 23
    assert classify_heading("⑶完善机制").style == "paren_circle"
    assert classify_heading("2.61分钟缩短") is None  # a figure, not a number
    assert classify_heading("1.5床/万人") is None
    assert classify_heading("十四五 规划目标") is None
    assert classify_heading("1 健康温岭", heading_level=2).style == "num_space"
    assert classify_heading("1 健康温岭") is None


def test_headings_by_word_heading_styles_without_numbers() -> None:
    blocks = [Paragraph("某县卫生健康事业发展规划"), Paragraph("总体要求", heading=1), Paragraph("叙述。"),
              Paragraph("重点任务", heading=1), Paragraph("推进县域医共体建设", heading=2), Paragraph("内容。"),
              Paragraph("强化公共卫生体系", heading=2)]
    draft = extract(blocks)
    assert [i["title"] for i in of_type(draft, "chapter")] == ["总体要求", "重点任务"]
    assert [i["title"] for i in of_type(draft, "key_task")] == ["推进县域医共体建设", "强化公共卫生体系"]


def test_blank_and_merged_category_cells_continue_the_category_above() -> None:
    table = Table([
        ["类别", "序号", "指标名称", "单位", "2020年基期", "2025年目标", "属性"],
        ["健康水平", "1", "人均预期寿命", "岁", "79", "80以上", "预期性"],
        ["", "2", "婴儿死亡率", "‰", "2.5", "5以下", "约束性"],
        ["健康水平", "3", "孕产妇死亡率", "1/10万", "4", "7以下", "约束性"],  # a merged cell read as repeated
        ["服务体系 服务体系 服务体系", "", "", "", "", "", ""],  # a spanning row of its own is skipped below
        ["服务体系", "服务体系", "服务体系", "服务体系", "服务体系", "服务体系", "服务体系"],  # a category row
        ["", "4", "每千人床位数", "张", "6", "7.5", "指导性"],
        ["", "", "", "", "", "", ""],  # an empty row
    ])
    draft = extract([Paragraph("表2 主要指标"), table])
    rows = [(i["category"], i["number"], i["name"], i["nature"], i["baseline_year"]) for i in draft["indicators"]]
    assert rows == [("健康水平", 1, "人均预期寿命", "expected", 2020), ("健康水平", 2, "婴儿死亡率", "binding", 2020),
                    ("健康水平", 3, "孕产妇死亡率", "binding", 2020), ("服务体系", 4, "每千人床位数", "guiding", 2020)]


def test_multi_line_names_and_footnote_marks() -> None:
    text = "\n".join([
        "表3  主要指标",
        "\t序号", "\t指标名称", "\t单位", "\t2025年目标", "\t属性", "",
        "\t1", "\t每千名老年人拥有医疗卫生", "机构康复护理床位数", "\t张", "\t5.5*", "\t预期性", "",
        "\t2", "\t出生缺陷发生率", "\t‰", "\t10※", "\t约束性", "",
        "",
        "注：1．标*的为2024年目标值；2．标※的指标由省统一考核。",
    ])
    draft = text_draft(text)
    first, second = draft["indicators"]
    assert first["name"] == "每千名老年人拥有医疗卫生机构康复护理床位数"
    assert first["target"] == "5.5" and "标*的为2024年目标值" in first["notes"][0]
    assert second["target"] == "10" and second["notes"]
    table = draft["tables"][0]
    assert table["notes"] == ["注：1．标*的为2024年目标值；2．标※的指标由省统一考核。"]


def test_a_mark_without_its_footnote_is_doubted() -> None:
    draft = text_draft("\n".join(["表1 指标", "\t序号", "\t指标名称", "\t2025年目标", "", "\t1", "\t床位数", "\t7*", ""]))
    assert draft["indicators"][0]["unsure"]
    assert "没有找到对应的注释" in draft["indicators"][0]["notes"][0]


def test_noise_is_dropped() -> None:
    lines = ["[bookmark: _GoBack]某省卫生健康事业发展“十四五”规划", "— 1 —", "某省卫生健康规划", "一、[bookmark: _Toc1]完善体系",
             "1．推进工作[bookmark: x]一。内容。", "- 2 -", "某省卫生健康规划", "第 3 页 共 10 页", "2．推进工作二。",
             "某省卫生健康规划", "3/10", "3．推进工作三。"]
    draft = text_draft("\n".join(lines))
    assert [i["title"] for i in draft["items"]] == ["完善体系", "推进工作一", "推进工作二", "推进工作三"]
    assert draft["plan"]["title"] == "某省卫生健康事业发展“十四五”规划"
    assert draft["dropped"] == 7  # four page numbers, three page headers
    assert not any(i["unsure"] for i in draft["items"])


def test_numbering_gaps_are_doubted() -> None:
    draft = text_draft("一、完善体系\n1．推进甲。\n2．推进乙。\n4．推进丁。\n")
    gap = of_type(draft, "key_task")[2]
    assert gap["unsure"] and "编号不连续" in gap["reason"]


def test_a_document_with_no_recognisable_structure_gives_an_empty_draft() -> None:
    draft = text_draft("会议纪要\n\n今天开会讨论了很多事情，大家畅所欲言。\n会议很成功。\n")
    assert draft["items"] == [] and draft["indicators"] == []
    assert "没有识别出章节、任务、专栏或指标表" in draft["message"]
    assert Draft.from_json(extract([])).counts()["章"] == 0
    assert extract([])["message"]


def test_boxes_written_as_paragraphs_and_project_tables() -> None:
    text = "\n".join([
        "某市卫生健康事业发展“十四五”规划（2021—2025年）",
        "一、建设强大公共卫生体系",
        "1．强化疾控体系。内容。",
        "专栏1：重大工程",
        "（1）市疾控中心迁建项目。新建业务用房。",
        "（2）市传染病医院项目。",
        "",
        "2．完善救治体系。内容。",
        "附表  “十四五”重大项目表（单位：亿元）",
        "| 序号 | 项目名称 | 建设内容 | 总投资 | “十四五”期间投资 | 建设单位 | 建设年限 | 备注 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        "| 1 | 市疾控中心迁建 | 新建业务用房5万平方米 | 12.5 | 10 | 市疾控中心 | 2021-2024 | 续建 |",
        "| 2 | 市急救中心 | 改扩建 | 待定 | 3 | 市卫生健康委 | 2022-2025 | |",
        "| 3 | 市儿童医院 | 新建 | 约8 | | 市卫生健康委 | | |",
    ])
    draft = text_draft(text)
    box = of_type(draft, "box")[0]
    assert box["title"] == "重大工程" and box["box_items"] == ["（1）市疾控中心迁建项目", "（2）市传染病医院项目"]
    assert {i["id"]: i for i in draft["items"]}[box["parent"]]["title"] == "强化疾控体系"
    assert [k["title"] for k in of_type(draft, "key_task")] == ["强化疾控体系", "完善救治体系"]
    projects = draft["projects"]
    assert [(p["name"], p["total"], p["period"], p["unit"], p["owner"], p["start_year"], p["end_year"])
            for p in projects] == [("市疾控中心迁建", "12.5", "10", "亿元", "市疾控中心", 2021, 2024),
                                   ("市急救中心", "待定", "3", "亿元", "市卫生健康委", 2022, 2025),
                                   ("市儿童医院", "约8", None, "亿元", "市卫生健康委", None, None)]
    assert not projects[0]["unsure"] and projects[2]["unsure"] and "约8" in projects[2]["reason"]
    assert draft["plan"]["start_year"] == 2021 and draft["plan"]["end_year"] == 2025


def test_targets_in_prose() -> None:
    found = [(t.name, t.target, t.year) for t in find_targets(
        "到2025年，全省人均预期寿命达到80岁以上，重大慢病过早死亡率控制在8.5%以下，县域就诊率巩固在90%以上。")]
    assert found == [("人均预期寿命", "80岁以上", 2025), ("重大慢病过早死亡率", "8.5%以下", 2025),
                     ("县域就诊率", "90%以上", 2025)]
    assert find_targets("孕产妇死亡率、5岁以下儿童死亡率分别控制在3.86/10万和3.03‰") == []
    assert [t.target for t in find_targets("出生性别比控制在正常范围内", bullet=True)] == ["控制在正常范围内"]
    assert find_targets("出生性别比控制在正常范围内") == []


def test_the_tree_order_and_depths() -> None:
    draft = file_draft(seed("003"))
    depths = {item.title: depth for depth, item in Draft.from_json(draft).tree()}
    assert depths["发展背景"] == 0 and depths["现实基础"] == 1
    assert depths["强化公共卫生安全防控体系建设"] == 1 and depths["公共卫生体系建设"] == 2


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(
    st.text(max_size=40),
    st.sampled_from(["一、", "（一）", "1．", "1.", "(1)", "①", "第一章", "专栏1", "表1 指标", "注：标*的", "附：",
                     "\t", "\t类别", "\t序号", "\t指标名称", "\t2025年目标", "\t1", "\t80以上*", "", "- 达到90%",
                     "## 1 行动", "| 序号 | 项目名称 | 总投资 |", "一、人均预期寿命：定义"]),
), max_size=40))
def test_the_extractor_never_fails_on_odd_input(lines: list[str]) -> None:
    draft = text_draft("\n".join(lines))
    counted = Draft.from_json(draft).counts()
    assert counted["待核对"] >= 0
    ids = [i["id"] for i in draft["items"]]
    assert len(ids) == len(set(ids))
    codes = [i["code"] for i in draft["items"] if i["type"] != "section"]
    assert len(codes) == len(set(codes))


def test_a_table_row_narrower_than_its_header_is_read() -> None:
    """Found by the property above: a header naming more columns than the rows have crashed with IndexError."""
    draft = text_draft("\n".join(["\t目标", "\t指标", "", "\t0"]))
    assert Draft.from_json(draft).counts()["待核对"] >= 0


def test_a_table_of_tasks_under_a_key_task_gives_its_measures() -> None:
    from .conftest import text_draft

    draft = text_draft("\n".join([
        "某县2026年卫生健康工作要点",
        "一、深化医药卫生体制改革",
        "（一）推进公立医院改革",
        "| 序号 | 具体措施 | 牵头单位 | 配合单位 | 完成时间 |",
        "| --- | --- | --- | --- | --- |",
        "| 1 | 完善薪酬制度。出台实施办法。 | 人事股 | 财务股 | 2026年9月 |",
        "| 2 | 推进按病种付费 | 医政股 |  | 长期坚持 |",
        "| 合计 |  |  |  |  |",
    ]))
    items = {i["title"]: i for i in draft["items"]}
    assert [t["kind"] for t in draft["tables"]] == ["tasks"]
    pay, drg = items["完善薪酬制度"], items["推进按病种付费"]
    assert (pay["type"], pay["parent"], pay["description"]) == ("measure", items["推进公立医院改革"]["id"], "出台实施办法。")
    assert (pay["deadline"], pay["lead_text"], pay["co_text"]) == ("2026-09-30", "人事股", ["财务股"])
    assert (drg["deadline"], drg["lead_text"], drg["co_text"]) == (None, "医政股", [])


def test_departments_named_as_offices_of_a_bureau_or_a_hospital() -> None:
    from tracker.imports.prose import departments, without_departments

    found = departments("做好体检。（责任科室：公共卫生科；配合科室：检验科、放射科）")
    assert found is not None and (found.lead, found.co) == ("公共卫生科", ["检验科", "放射科"])
    assert without_departments("做好体检。（牵头股室：医政股）") == "做好体检。"
