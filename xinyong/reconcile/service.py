"""The reconciliation service (W3C Reconciliation Service API 0.2): a clerk's spreadsheet of
names, with an optional code and district, matched to subjects with a score and the reasons.

Each query is answered in this order, and the features of every candidate say why:

1. a code (``code`` property, or the query itself when it is a valid code): the subject that
   code names, score 100 (``code_match``);
2. the name, normalised (``normalize_name``: full/half width, bracket styles, spaces): the
   subject whose current name it is, score 100 (``name_exact``); whose 曾用名 it is, 95
   (``former_name``); a spelling a department used, 90 (``name_seen``) — all looked up for the
   whole batch in a few keyed queries;
3. otherwise candidates found by the name index (the portal's search, by the name's 字号) and
   scored by the similarity of the names' 主干 (``names.core``: divisions, brackets and the
   spelling of the organisation form left aside), at most 89 (``name_similarity``).

A ``district`` (a name such as 华龙区 or a GB/T 2260 code) adds 5 to a candidate registered
there (the USCC's positions 3–8), and takes 10 from one registered elsewhere
(``district_match``). ``match`` is true only for one candidate at 95 or more with no other
above 80. Natural persons are never candidates: the service answers anyone (OpenRefine sends
no token) and a person is found by name only under the disclosure rules of the portal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache
from typing import Any

from sqlalchemy import Connection, select

from xinyong.accounts.roles import Principal, Role
from xinyong.clock import today
from xinyong.codes import KIND_UNKNOWN, check_code
from xinyong.codes.divisions import division_name
from xinyong.db import rows_by_keys
from xinyong.errors import NotFound, XinyongError
from xinyong.portal.search import organisations_named, search_subjects
from xinyong.reconcile.names import core, trade_fragment
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.refs import PERSON
from xinyong.subjects.service import find_subject

VERSION = "0.2"
MAX_QUERIES = 100  # per request: OpenRefine sends 10 by default
MAX_LIMIT = 25
DEFAULT_LIMIT = 5
CANDIDATES = 20  # fetched from the name index per fuzzy query

TYPES = {
    "organisation": "法人及非法人组织",
    "individual_business": "个体工商户",
}
_TYPE_OF_CATEGORY = {v: k for k, v in TYPES.items()}
PROPERTIES = {"code": "统一社会信用代码或其他代码", "district": "所在区县（名称或行政区划代码）"}

ANON = Principal(role=Role.PUBLIC, name="public")


def manifest(base_url: str) -> dict[str, Any]:
    """The service manifest (``GET`` on the endpoint)."""
    base = base_url.rstrip("/")
    return {
        "versions": [VERSION],
        "name": "信用濮阳 · 主体名称对账",
        "identifierSpace": f"{base}/subjects/",
        "schemaSpace": f"{base}/reconcile/schema/",
        "defaultTypes": [{"id": k, "name": v} for k, v in TYPES.items()],
        "view": {"url": f"{base}/subjects/{{{{id}}}}"},
        "preview": {"url": f"{base}/reconcile/preview?id={{{{id}}}}", "width": 420, "height": 140},
        "suggest": {
            "entity": {"service_url": base, "service_path": "/reconcile/suggest/entity"},
            "property": {"service_url": base, "service_path": "/reconcile/suggest/property"},
            "type": {"service_url": base, "service_path": "/reconcile/suggest/type"},
        },
        "batchSize": MAX_QUERIES,
    }


def _invalid(message: str) -> XinyongError:
    return XinyongError("RECONCILE_QUERY_INVALID", f"对账查询格式有误：{message}")


@dataclass
class Query:
    key: str
    text: str
    limit: int
    type: str | None
    code: str | None
    district: str | None


_QUERY_KEYS = {"query", "type", "limit", "properties", "type_strict"}


def _values(v: Any) -> list[str]:
    items = v if isinstance(v, list) else [v]
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("id") or item.get("name")
        if isinstance(item, str | int | float) and str(item).strip():
            out.append(str(item).strip())
    return out


def parse_queries(batch: Any) -> list[Query]:
    """The queries of a batch (a JSON object of query objects), checked."""
    if not isinstance(batch, dict) or not batch:
        raise _invalid("应为以查询编号为键的 JSON 对象")
    if len(batch) > MAX_QUERIES:
        raise _invalid(f"每次最多 {MAX_QUERIES} 条查询")
    queries = []
    for key, q in batch.items():
        if not isinstance(q, dict):
            raise _invalid(f"查询 {key} 应为对象")
        unknown = sorted(set(q) - _QUERY_KEYS)
        if unknown:
            raise _invalid(f"查询 {key} 含有不认识的字段：{'、'.join(unknown)}")
        text = q.get("query", "")
        if not isinstance(text, str):
            raise _invalid(f"查询 {key} 的 query 应为文本")
        props: dict[str, list[str]] = {}
        raw_props = q.get("properties", [])
        if not isinstance(raw_props, list):
            raise _invalid(f"查询 {key} 的 properties 应为数组")
        for p in raw_props:
            if not isinstance(p, dict) or not isinstance(p.get("pid"), str) or "v" not in p:
                raise _invalid(f"查询 {key} 的属性应含 pid 与 v")
            props.setdefault(p["pid"], []).extend(_values(p["v"]))
        if not text.strip() and not props:
            raise _invalid(f"查询 {key} 既无名称也无属性")
        limit = q.get("limit", DEFAULT_LIMIT)
        if not isinstance(limit, int) or limit < 1:
            raise _invalid(f"查询 {key} 的 limit 应为正整数")
        type_ = q.get("type")
        if isinstance(type_, list):  # a list of types: the first this service knows
            type_ = next((t for t in type_ if t in TYPES), None)
        queries.append(
            Query(
                key=str(key),
                text=text.strip()[:200],
                limit=min(limit, MAX_LIMIT),
                type=type_ if isinstance(type_, str) else None,
                code=next(iter(props.get("code", [])), None),
                district=next(iter(props.get("district", [])), None),
            )
        )
    return queries


@dataclass
class Candidate:
    subject: Any
    score: float
    features: dict[str, bool | float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        s = self.subject
        code = s.uscc or s.org_code or s.reg_no or ""
        description = "；".join([f"代码 {code}" if code else "无代码", *self.reasons])
        return {
            "id": str(s.id),
            "name": s.name,
            "description": description,
            "score": round(self.score, 1),
            "match": False,
            "type": [{"id": _TYPE_OF_CATEGORY.get(s.category, "organisation"), "name": s.category}],
            "features": [{"id": k, "value": v} for k, v in self.features.items()],
        }


_COLUMNS = [
    subjects.c.id,
    subjects.c.name,
    subjects.c.name_norm,
    subjects.c.category,
    subjects.c.uscc,
    subjects.c.org_code,
    subjects.c.reg_no,
    subjects.c.merged_into,
]


def _usable(s: Any) -> bool:
    return s.category != PERSON and s.merged_into is None


def reconcile(conn: Connection, batch: Any) -> dict[str, Any]:
    """Answer a batch of queries: ``{key: {"result": [candidate, …]}}``."""
    queries = parse_queries(batch)
    found: dict[str, dict[int, Candidate]] = {q.key: {} for q in queries}

    for q in queries:
        code = q.code or (q.text if _is_code(conn, q.text) else None)
        if code:
            _by_code(conn, code, found[q.key])

    # exact names and spellings, for the whole batch at once
    asked: dict[str, list[str]] = {}
    for q in queries:
        if q.text:
            asked.setdefault(normalize_name(q.text), []).append(q.key)
    for s in rows_by_keys(conn, _COLUMNS, subjects.c.name_norm, asked):
        if _usable(s):
            for key in asked.get(s.name_norm, ()):
                _add(found[key], s, 100, "name_exact", "名称一致")
    n = subject_names
    spelled = list(
        rows_by_keys(
            conn, [n.c.subject_id, n.c.name, n.c.name_norm, n.c.kind], n.c.name_norm, asked
        )
    )
    others = {r.subject_id for r in spelled if r.kind != "current"}
    by_id = {s.id: s for s in rows_by_keys(conn, _COLUMNS, subjects.c.id, others)}
    for r in spelled:
        named = by_id.get(r.subject_id)
        if named is None or not _usable(named):
            continue
        for key in asked.get(r.name_norm, ()):
            if r.kind == "former":
                _add(found[key], named, 95, "former_name", f"与曾用名“{r.name}”一致")
            else:
                _add(found[key], named, 90, "name_seen", f"与报送部门使用过的名称“{r.name}”一致")

    fuzzy = [q for q in queries if q.text and not any(c.score >= 90 for c in found[q.key].values())]
    _fuzzy(conn, fuzzy, found)

    return {q.key: {"result": _ranked(q, found[q.key])} for q in queries}


def _is_code(conn: Connection, text: str) -> bool:
    check = check_code(text, today(conn))
    return bool(check.ok and check.kind not in (KIND_UNKNOWN, "id_number"))


def _by_code(conn: Connection, code: str, into: dict[int, Candidate]) -> None:
    try:
        subject = find_subject(conn, code)
    except (NotFound, XinyongError):
        return
    row = conn.execute(select(*_COLUMNS).where(subjects.c.id == subject["id"])).one()
    if _usable(row):
        _add(into, row, 100, "code_match", f"代码 {code} 一致")


def _add(into: dict[int, Candidate], s: Any, score: float, feature: str, reason: str) -> None:
    found = into.get(s.id)
    if found is None:
        into[s.id] = Candidate(s, score, {feature: True}, [reason])
        return
    found.features[feature] = True
    if reason not in found.reasons:
        found.reasons.append(reason)
    found.score = max(found.score, score)


def _fuzzy(conn: Connection, queries: list[Query], found: dict[str, dict[int, Candidate]]) -> None:
    """Candidates from the name index by each name's 字号, scored by the similarity of the
    names' 主干; the candidates' rows are read once for the whole batch."""
    fragments = {q.key: trade_fragment(q.text) for q in queries}
    wanted = organisations_named(conn, fragments, CANDIDATES)
    ids = {i for some in wanted.values() for i in some}
    rows = {s.id: s for s in rows_by_keys(conn, _COLUMNS, subjects.c.id, ids)}
    cores = {sid: core(s.name) for sid, s in rows.items()}
    for q in queries:
        mine = core(q.text)
        into = found[q.key]
        for sid in wanted.get(q.key, ()):
            s = rows.get(sid)
            if s is None or not _usable(s) or sid in into:
                continue
            ratio = SequenceMatcher(None, mine, cores[sid]).ratio()
            if ratio < 0.5:
                continue
            into[sid] = Candidate(
                s,
                min(89.0, 100 * ratio * 0.95),
                {"name_similarity": round(ratio, 3)},
                [f"名称主干相似度 {ratio:.0%}（不计行政区划、括号与组织形式写法）"],
            )


@cache
def _district_code(district: str) -> str | None:
    """A district given as a GB/T 2260 code or as a Henan division's name, as its code."""
    if district.isdigit() and len(district) == 6:
        return district
    name = district.strip()
    for prefecture in range(0, 100):
        for county in range(0, 100):
            code = f"41{prefecture:02d}{county:02d}"
            if division_name(code) in (name, name + "区", name + "县", name + "市"):
                return code
    return None


def _ranked(q: Query, found: dict[int, Candidate]) -> list[dict[str, Any]]:
    candidates = list(found.values())
    if q.type in TYPES:
        candidates = [c for c in candidates if _TYPE_OF_CATEGORY.get(c.subject.category) == q.type]
    if q.district:
        code = _district_code(q.district)
        for c in candidates:
            registered = c.subject.uscc[2:8] if c.subject.uscc else None
            if code is None or registered is None:
                continue
            same = registered == code
            c.features["district_match"] = same
            c.score = min(100.0, c.score + 5) if same else c.score - 10
            c.reasons.append(
                "登记地区一致" if same else f"登记地区 {registered} 与 {q.district} 不同"
            )
    candidates.sort(key=lambda c: (-c.score, c.subject.id))
    shown = [c.as_dict() for c in candidates[: q.limit]]
    if shown and shown[0]["score"] >= 95 and (len(shown) == 1 or shown[1]["score"] <= 80):
        shown[0]["match"] = True
    return shown


def preview(conn: Connection, subject_id: str) -> dict[str, Any]:
    """What the preview shows of a subject (organisations only)."""
    if not subject_id.isdigit():
        raise NotFound("SUBJECT_NOT_FOUND", "主体不存在")
    row = conn.execute(select(*_COLUMNS).where(subjects.c.id == int(subject_id))).first()
    if row is None or not _usable(row):
        raise NotFound("SUBJECT_NOT_FOUND", "主体不存在")
    formers = conn.execute(
        select(subject_names.c.name).where(
            subject_names.c.subject_id == row.id, subject_names.c.kind == "former"
        )
    ).scalars()
    return {
        "id": row.id,
        "name": row.name,
        "category": row.category,
        "uscc": row.uscc,
        "org_code": row.org_code,
        "reg_no": row.reg_no,
        "former_names": sorted(formers),
    }


def suggest_entities(conn: Connection, prefix: str, limit: int = 10) -> dict[str, Any]:
    """Entities whose name holds ``prefix`` (the name index), organisations only."""
    text = prefix.strip()
    if len(normalize_name(text)) < 2:
        return {"result": []}
    try:
        page = search_subjects(conn, text[:50], ANON, limit=min(limit, 20))
    except XinyongError:
        return {"result": []}
    return {
        "result": [
            {
                "id": str(i.subject_id),
                "name": i.name,
                "description": i.uscc or "",
                "notable": [
                    {"id": _TYPE_OF_CATEGORY.get(i.category, "organisation"), "name": i.category}
                ],
            }
            for i in page.items
            if i.category != PERSON
        ]
    }


def suggest_properties(prefix: str) -> dict[str, Any]:
    return {
        "result": [
            {"id": k, "name": v}
            for k, v in PROPERTIES.items()
            if prefix.strip() in k or prefix.strip() in v
        ]
    }


def suggest_types(prefix: str) -> dict[str, Any]:
    return {
        "result": [
            {"id": k, "name": v}
            for k, v in TYPES.items()
            if prefix.strip() in k or prefix.strip() in v
        ]
    }
