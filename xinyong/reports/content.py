"""The content of a credit report (公共信用信息报告) as a canonical, JSON-serialisable snapshot.

Everything a report shows comes through the disclosure engine (``xinyong.disclosure``): the
subject as ``present_subject`` shows it and the records ``visible_records`` lets the report's
reader see. The public report is built as the anonymous public sees the subject, whoever asks
for it (an operator's public report holds no 政务共享 data either); the self report as the
subject sees itself, plus the record of who queried its non-public information (《河南省社会信用
条例》第四十条).

The layout follows the national report of 信用中国 (V2.0; reference measures-and-reports.md
§3.2): 信用信息概要 (counts), then 一 登记注册基础信息 … 九 其他信息, 十 信用状况提升建议, and
the 报告说明. The snapshot is what is hashed and stored; the PDF is rendered from it alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from xinyong.accounts.roles import Principal, Role
from xinyong.audit.queries import queries_about
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Dataset, Nature
from xinyong.clock import CHINA, aware
from xinyong.departments import service as departments
from xinyong.disclosure import TABS, ShownRecord, present_subject, visible_records
from xinyong.disclosure.repair import eligibility
from xinyong.errors import NotAllowed, NotFound
from xinyong.measures.conflicts import Current, reason_text, suspended
from xinyong.measures.loaded import configured
from xinyong.records.models import records as record_rows
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.refs import PERSON

# Changes whenever the snapshot's shape changes, so that a stored snapshot is always rendered
# by the layout it was made for.
FORMAT = "xinyong.credit-report/1"
ISSUER = "濮阳市公共信用信息平台（信用濮阳）"
ADVICE = "建议秉持诚信理念，合法有序开展经营活动。"
PERSON_ADVICE = "建议秉持诚信理念，依法履行法定义务和约定义务。"
# A subject with thousands of licences would make a report of hundreds of pages: each dataset
# lists its newest records up to this many; the summary still counts all of them.
MAX_LISTED = 200


class ReportKind(StrEnum):
    PUBLIC = "public"  # 公开版: free to anyone, what the public may see
    SELF = "self"  # 本人版: downloaded by the subject itself after logging in

    @property
    def label(self) -> str:
        return "公开版" if self is ReportKind.PUBLIC else "信用主体本人查询版"


@dataclass(frozen=True)
class Section:
    """One numbered section of the report and the datasets it lists."""

    no: str
    title: str
    summary_label: str  # the label of its count in 信用信息概要
    datasets: tuple[str, ...]


# 失信惩戒 splits by list class (catalog/lists): 严重失信主体名单 and 失信被执行人 (四), the
# 经营异常名录 (五), as in the national report (measures-and-reports.md §3.2); the 重点关注名单
# is no serious-dishonesty list and the national report has no section of its own for it, so
# it goes to 其他信息 (九), as the earlier layout files 重点关注 apart (§3.3). 信用评价 and
# 司法判决 have no dataset in the catalogue yet and print "无".
ABNORMAL_OPERATIONS = ("JYYC",)
WATCH_LISTS = ("ZDGZ",)
SECTIONS: tuple[Section, ...] = (
    Section("一", "登记注册基础信息", "基础信息", TABS["基础信息"]),
    Section("二", "行政管理信息", "行政管理", TABS["行政许可"] + TABS["行政处罚"]),
    Section("三", "诚实守信相关荣誉信息", "诚实守信", TABS["守信激励"]),
    Section(
        "四",
        "严重失信主体名单信息",
        "严重失信主体名单",
        tuple(c for c in TABS["失信惩戒"] if c not in ABNORMAL_OPERATIONS + WATCH_LISTS),
    ),
    Section(
        "五",
        "经营（活动）异常名录（状态）信息",
        "经营异常",
        tuple(c for c in TABS["失信惩戒"] if c in ABNORMAL_OPERATIONS),
    ),
    Section("六", "信用承诺信息", "信用承诺", TABS["信用承诺"]),
    Section("七", "信用评价信息", "信用评价", ()),
    Section("八", "司法判决及执行信息", "司法判决", ()),
    # anything the catalogue holds beyond the sections above lands here, so that nothing the
    # reader may see is left out of the report
    Section("九", "其他信息", "其他", WATCH_LISTS + TABS["其他"]),
)
OTHER_SECTION = "九"
REGISTRATION = "一"  # 登记注册基础信息: its records are the subject's identity, shown whole
# The lists whose presence makes the subject's tag (主体标签) in the national report: a tax
# grade or an honour is not by itself being a 守信激励对象, nor a watch list a 失信惩戒对象.
INCENTIVE_LISTS = ("SXHMD",)
PUNISHMENT_LISTS = ("SXBZX", "YZSX")

# Labels of the subject's public identity in 基础信息.
SUBJECT_LABELS: tuple[tuple[str, str], ...] = (
    ("name", "名称"),
    ("uscc", "统一社会信用代码"),
    ("org_code", "组织机构代码"),
    ("reg_no", "工商注册号"),
    ("id_number", "身份证号码"),
    ("category", "主体类别"),
    ("status", "登记状态"),
)

# The newest queries listed in a self report (Henan art. 40).
MAX_QUERIES = 500


def canonical_json(content: dict[str, Any]) -> str:
    """The one text of a snapshot that is stored and hashed: sorted keys, no spaces, Chinese
    kept as characters. Only text, integers, booleans, lists and objects go in (no floats), so
    the text is the same whichever process writes it."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _iso(value: datetime | None) -> str | None:
    utc = aware(value)
    return None if utc is None else utc.isoformat()


def load_subject(conn: Connection, subject_id: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The subject row (following a merge to the surviving subject) and its former names."""
    seen: set[int] = set()
    current: int | None = subject_id
    row = None
    while current is not None and current not in seen:
        seen.add(current)
        row = conn.execute(select(subjects).where(subjects.c.id == current)).first()
        if row is None:
            raise NotFound("SUBJECT_NOT_FOUND", f"没有找到编号为 {subject_id} 的信用主体")
        current = row.merged_into
    assert row is not None
    subject = dict(row._mapping)
    former = tuple(
        r.name
        for r in conn.execute(
            select(subject_names.c.name)
            .where(subject_names.c.subject_id == subject["id"], subject_names.c.kind == "former")
            .order_by(subject_names.c.id)
        )
    )
    return subject, former


def reader_of(principal: Principal, subject: dict[str, Any], kind: ReportKind) -> Principal:
    """Whose eyes the report is written with; refuses a report the principal may not have."""
    if kind is ReportKind.SELF:
        if principal.role is not Role.SUBJECT or principal.subject_id != subject["id"]:
            raise NotAllowed("REPORT_SELF_ONLY", "本人版信用报告只能由信用主体本人登录后下载")
        return principal
    if subject["category"] == PERSON:
        # no public report of a natural person: it would publish a person's file by ID number
        raise NotAllowed(
            "REPORT_PERSON_SELF_ONLY",
            "自然人的公共信用信息报告仅向本人提供，请本人登录后下载本人版报告",
        )
    return Principal.public(principal.source or "report")


def _jsonable(value: Any) -> Any:
    """Dates as ISO text, decimals and floats as text: a snapshot's JSON must come out the same
    from any process, and a float's text form is not something to hash."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    return str(value)


def _subject_items(dataset: Dataset) -> frozenset[str]:
    sub = dataset.subject
    codes = (sub.name, sub.category, sub.uscc, sub.org_code, sub.reg_no, sub.id_type, sub.id_number)
    return frozenset(c for c in codes if c)


def _record_entry(record: ShownRecord, dataset: Dataset, registration: bool) -> dict[str, Any]:
    entry: dict[str, Any] = _jsonable(record.as_dict())
    if not registration:
        # who the record is about is the report's subject, named once at its head
        drop = _subject_items(dataset)
        entry["items"] = [i for i in entry["items"] if i["code"] not in drop]
    entry.pop("dept_uscc", None)  # the department's name is shown; its code adds nothing
    entry["as_of"] = _iso(record.as_of)  # aware UTC on both databases (SQLite reads naive)
    return entry


def build_content(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    *,
    kind: ReportKind,
    report_no: str,
    snapshot_at: datetime,
    evaluations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report's content as ``principal`` may have it, read in the caller's transaction.

    ``evaluations``: the subject's evaluation results as explained to the subject itself (the
    evaluation service's ``evaluations_of``, passed by the caller: evaluation sits above
    reports); the self report prints them, the public report never."""
    subject, former = load_subject(conn, subject_id)
    reader = reader_of(principal, subject, kind)
    shown = present_subject(reader, subject, former).as_dict()
    # one read of every visible record: the counts and the lists come from the same rows
    by_dataset: dict[str, list[ShownRecord]] = {}
    as_of = snapshot_at.astimezone(CHINA).date()  # publicity ends are Beijing days
    for record in visible_records(conn, catalog, reader, subject, as_of=as_of):
        by_dataset.setdefault(record.dataset, []).append(record)
    suspended = _suspend_red(catalog, by_dataset, as_of)

    repairs = _repairs(conn, catalog, by_dataset, as_of)
    placed = {code for s in SECTIONS for code in s.datasets}
    leftovers = tuple(code for code in catalog.datasets if code not in placed)
    sections: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    for section in SECTIONS:
        codes = section.datasets + (leftovers if section.no == OTHER_SECTION else ())
        parts: list[dict[str, Any]] = []
        total = 0
        for code in codes:
            found = by_dataset.get(code, [])
            total += len(found)
            if not found:
                continue
            parts.append(
                {
                    "code": code,
                    "name": catalog.dataset(code).name,
                    "total": len(found),
                    "records": [
                        _record_entry(r, catalog.dataset(code), section.no == REGISTRATION)
                        | ({"repair": repairs[r.id]} if r.id in repairs else {})
                        for r in found[:MAX_LISTED]
                    ],
                }
            )
        summary.append({"section": section.no, "label": section.summary_label, "count": total})
        sections.append({"no": section.no, "title": section.title, "datasets": parts})

    person = subject["category"] == PERSON
    flags = [
        label
        for label, lists in (("守信激励对象", INCENTIVE_LISTS), ("失信惩戒对象", PUNISHMENT_LISTS))
        if any(by_dataset.get(code) for code in lists)
    ]
    content: dict[str, Any] = {
        "format": FORMAT,
        "report_no": report_no,
        "kind": kind.value,
        "kind_label": kind.label,
        "title": "个人公共信用信息报告" if person else "法人和非法人组织公共信用信息报告",
        "issuer": ISSUER,
        "snapshot_at": _iso(snapshot_at),
        "subject": {
            **shown,
            "labels": [
                {"key": key, "label": label, "value": shown[key]}
                for key, label in SUBJECT_LABELS
                if shown.get(key)
            ],
            "tags": ([subject["status"]] if subject.get("status") else []) + flags,
        },
        "summary": summary,
        "sections": sections,
        "advice": PERSON_ADVICE if person else ADVICE,
        "notes": _notes(kind) + suspended,
    }
    if kind is ReportKind.SELF:
        content["query_history"] = _query_history(conn, catalog, subject["id"])
        if evaluations is not None:
            # an additive key: a self report made before it renders as before
            content["evaluations"] = _jsonable([evaluation_entry(e) for e in evaluations])
            notes = [n.replace("不提供评分或评级。", WITH_EVALUATIONS) for n in content["notes"]]
            content["notes"] = [*notes, EVALUATION_NOTE]
    return content


WITH_EVALUATIONS = "除第十二部分的信用评价结果外，不提供评分或评级。"
EVALUATION_NOTE = (
    "第十二部分为平台按公开的评价模型自动计算的信用评价结果，列出各项指标得分及所依据的信用记录、"
    "会改变评价结果的事项，仅向信用主体本人提供（《个人信息保护法》第二十四条）；对评价结果有异议的，"
    "可在平台“我的信用评价”提出评价异议。"
)


def _num(value: Any, sign: bool = False) -> str:
    return format(float(value), "+g" if sign else "g") if value is not None else "—"


def _behind(r: dict[str, Any]) -> str:
    """A record behind an indicator: '行政处罚 2026-06-01（-20）'."""
    return f"{r['dataset_name']} {r.get('decision_date') or ''}（{_num(r['points'], True)}）"


def evaluation_entry(e: dict[str, Any]) -> dict[str, Any]:
    """One model's result as the self report prints it, every figure already text: the grade
    and the facts beside it, the points by indicator with the records behind them and what
    would change the grade (score models), or each criterion met or not and what is lacking
    (ratings)."""
    grade = str(e.get("grade") or "")
    if e.get("grade_label") and e["grade_label"] != grade:
        grade += f"（{e['grade_label']}）"
    facts = [["评价等级", grade], ["评价基准日", e.get("as_of") or ""]]
    if "criteria" in e:
        facts.append(["达到条件", f"{e['criteria_met']} / {e['criteria_total']} 项"])
    elif e.get("score") is not None:
        facts.append(["得分", _num(e["score"])])
    if e.get("class"):
        facts.append(["监管分类", f"{e['class']} 类（{e.get('class_label') or ''}）"])
    if e.get("hard_rule_name"):
        facts.append(["决定等级的规则", e["hard_rule_name"]])
    if e.get("advice"):
        facts.append(["监管建议", e["advice"]])
    out: dict[str, Any] = {
        "model": e.get("model"),
        "model_name": e.get("model_name"),
        "facts": facts,
    }
    if "indicators" in e:
        out["indicators"] = [
            {
                "dimension": i.get("dimension") or "",
                "name": i["name"],
                "points": _num(i["points"], sign=True),
                "records": "；".join(_behind(r) for r in i.get("records", [])),
                "note": i.get("note") or "",
            }
            for i in e["indicators"]
            if i.get("points") or i.get("records")
        ]
    if "changes" in e:
        out["changes"] = [
            {
                "on": c["on"],
                "what": f"{c.get('dataset_name') or ''}（记录 {c['record_id']}）{c['what']}",
                "then": f"等级 {c.get('grade_then') or '—'}"
                + (f"，监管分类 {c['class_then']}" if c.get("class_then") else "")
                + f"，得分 {_num(c.get('score_then'))}",
            }
            for c in e["changes"]
        ]
    if "criteria" in e:
        out["criteria"] = [
            {
                "name": c["name"],
                "figure": c["figure_text"],
                "threshold": c["threshold"],
                "met": "达到" if c["met"] else "未达到",
            }
            for c in e["criteria"]
        ]
        out["to_pass"] = list(e.get("to_pass", []))
        out["passed"] = e.get("passed") or ""
    return out


def _suspend_red(catalog: Catalog, by_dataset: dict[str, list[ShownRecord]], on: date) -> list[str]:
    """Conflict rules: a red-list entry suspended by a dishonesty listing (or a serious
    penalty inside the look-back) that the report shows as current is not itself shown as
    current; the report says why (``catalog/measures/conflicts.yaml``)."""
    red = [c for c, d in catalog.datasets.items() if d.list_kind == "red" and by_dataset.get(c)]
    if not red:
        return []
    current = [
        (r.id, Current(r.dataset, {i.code: i.value for i in r.items}, r.decision_date))
        for records in by_dataset.values()
        for r in records
    ]
    rules = suspended(configured()[1], catalog.lists, current, on)
    notes: list[str] = []
    for code in red:
        kept: list[ShownRecord] = []
        for r in by_dataset[code]:
            rule = rules.get(r.id)
            if rule is None:
                kept.append(r)
                continue
            note = f"守信激励信息已中止：{reason_text(rule)}"
            if note not in notes:
                notes.append(note)
        by_dataset[code] = kept
    return notes


def _repairs(
    conn: Connection, catalog: Catalog, by_dataset: dict[str, list[ShownRecord]], on: date
) -> dict[int, dict[str, Any]]:
    """Per shown 失信 record: can it be repaired, and from when (信用修复; issue 12 item 2),
    as the repair rules answer on the report's day. An additive key of the record entry: a
    snapshot made before it renders as before, so the format stays the same."""
    ids = [
        r.id
        for code, found in by_dataset.items()
        if code in catalog.datasets and catalog.dataset(code).nature is Nature.DISHONEST
        for r in found[:MAX_LISTED]
    ]
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(record_rows).where(record_rows.c.id.in_(ids[start : start + 500]))
        )
        for row in rows:
            found = eligibility(catalog, dict(row._mapping), on)
            out[row.id] = {
                "repairable": found.repairable,
                "from": found.from_date.isoformat() if found.from_date else None,
                "label": _repair_label(found.repairable, found.from_date, found.reason),
            }
    return out


def _repair_label(repairable: bool, from_date: date | None, reason: str) -> str:
    if repairable and from_date is not None:
        return f"可申请信用修复（{from_date.isoformat()} 起）"
    return f"不可信用修复：{reason}" if not repairable else reason


def _notes(kind: ReportKind) -> list[str]:
    notes = [
        "本报告由平台根据各部门归集的公共信用信息自动生成，客观记录信息原貌，不作任何修改，"
        "不提供评分或评级。",
        "本报告所载信息截至报告生成时间；此后的更新以平台最新数据为准。",
        "信用主体对报告所载信息有异议的，可通过平台提出异议申诉；对行政处罚等失信信息，"
        "符合条件的可申请信用修复。",
        "可扫描二维码或在平台“报告核验”页面输入报告编号，核验本报告的真实性和完整性。",
    ]
    if kind is ReportKind.PUBLIC:
        notes.insert(1, "本报告为公开版，仅包含依法向社会公开的信息。")
    else:
        notes.insert(
            1,
            "本报告为信用主体本人查询版，包含不向社会公开的信息和本主体的信用信息查询记录，"
            "请妥善保管。",
        )
    return notes


def _query_history(conn: Connection, catalog: Catalog, subject_id: int) -> list[dict[str, Any]]:
    """Which unit, in which role, read the subject's non-public information, when, doing what
    and for what; newest first (``xinyong.audit.queries``: never the person at the desk)."""
    return [
        {
            "at": _iso(q.at),
            "querier": q.dept_name,
            "role": q.role_label,
            "action": q.what,
            "purpose": q.purpose or "",
        }
        for q in queries_about(
            conn, subject_id, dept_names=departments.names(conn), limit=MAX_QUERIES
        )
    ]
