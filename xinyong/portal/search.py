"""Finding subjects (信用主体查询) by name fragment or by any code, for the portal and the API.

Two paths, decided by the query itself:

- a valid code (统一社会信用代码, 组织机构代码, 15-digit 工商注册号, 居民身份证号码) is looked up
  exactly by ``find_subject`` and never touches the name index;
- anything else is a name fragment of at least 2 characters, normalised like stored names
  (full/half width, bracket styles, spaces; ``normalize_name``) and matched as a substring of
  subjects' current names and their former names (曾用名) through the index built by migration
  0006: 3+ characters by trigrams; exactly 2 on SQLite by the indexed trigrams the pair begins
  (listed from the index's vocabulary), on PostgreSQL by an index of each name's pairs.

Results come in index order (current names by subject id, then former names), with
``has_more`` instead of a total: counting every "有限公司" among a million subjects would cost
more than the page itself.

Privacy (Henan art. 25, PIPL; ``xinyong.disclosure.view``): whoever is not a government role
never finds a natural person (自然人) by ID number, finds one by name only while a record of
theirs is published in a dataset the law publishes persons in (失信被执行人), unless it was
about them as a minor, and sees ID numbers only masked (a logged-in subject finds and sees
itself whole). A government role finds everyone, but a name search shows it ID numbers masked
too: the whole number is on the subject's page, once it states its purpose (查询事由). The query
is never echoed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, text

from xinyong import clock, yamlio
from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.codes import KIND_ID_NUMBER, KIND_UNKNOWN, check_code, check_reg_no, normalize_code
from xinyong.disclosure.in_force import as_of as answer_day
from xinyong.disclosure.state_rules import state_rules
from xinyong.disclosure.view import PERSON_PUBLIC_DATASETS, mask_id_number
from xinyong.errors import NotFound, XinyongError
from xinyong.settings import get_settings
from xinyong.subjects.models import subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.refs import PERSON
from xinyong.subjects.service import find_subject

MIN_FRAGMENT_CHARS = 2
MAX_QUERY_CHARS = 50
MAX_PAGE_SIZE = 100
# Deep pages of a common fragment cost a scan of everything before them; past this, narrowing
# the query is the answer (and it bounds what one visitor can walk through).
MAX_OFFSET = 1000

# Document ids of former names in the index (migration 0006).
FORMER_BASE = 1 << 40

# A 2-character query on SQLite is the OR of the indexed trigrams it begins; far fewer exist
# for any real pair of characters (a pair and each character that follows it in some name).
MAX_TRIGRAMS_PER_PAIR = 2000


@dataclass(frozen=True)
class Choice:
    code: str
    name: str


@dataclass(frozen=True)
class FilterChoices:
    """What the search filters offer (``catalog/portal/search.yaml``)."""

    districts: tuple[Choice, ...]
    industries: tuple[Choice, ...]


@lru_cache(maxsize=8)
def filter_choices(catalog_root: Path) -> FilterChoices:
    path = catalog_root / "portal" / "search.yaml"
    data = yamlio.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return FilterChoices(
        districts=tuple(Choice(str(d["code"]), d["name"]) for d in data.get("districts", [])),
        industries=tuple(Choice(str(i["code"]), i["name"]) for i in data.get("industries", [])),
    )


# 主体类别 a search can be narrowed to (persons are found only where the law publishes them).
CATEGORIES = ("法人及非法人组织", "个体工商户", "自然人")
# 法人登记基础信息 and its 行业分类代码 (GB/T 4754), which the industry filter reads.
REGISTRATION = "FRJC"
INDUSTRY_ITEM = "DJ_HYDM"


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing of a name search: each a choice from a list, never free text matched over a
    record (issue 11). A code names one subject exactly and is not narrowed."""

    category: str | None = None  # 主体类别
    district: str | None = None  # 登记管理机关行政区划码 (USCC positions 3–8)
    industry: str | None = None  # GB/T 4754 门类 letter of the registration's 行业分类代码
    dishonest: bool = False  # only subjects with a 失信 record in public view

    def checked(self, catalog_root: Path) -> SearchFilters:
        choices = filter_choices(catalog_root)
        if self.category and self.category not in CATEGORIES:
            raise XinyongError("SEARCH_FILTER_INVALID", f"没有该主体类别：{self.category}")
        if self.district and self.district not in {c.code for c in choices.districts}:
            raise XinyongError("SEARCH_FILTER_INVALID", "没有该所属区县")
        if self.industry and self.industry not in {c.code for c in choices.industries}:
            raise XinyongError("SEARCH_FILTER_INVALID", "没有该行业门类")
        return self

    @property
    def any(self) -> bool:
        return bool(self.category or self.district or self.industry or self.dishonest)


@dataclass(frozen=True)
class SearchItem:
    subject_id: int
    name: str
    category: str
    uscc: str | None
    # masked (first 6 + last 4) unless the viewer is the person itself, or a government role
    # that typed the number
    id_number: str | None
    matched_former_name: str | None
    status: str | None = None  # 登记状态 (法人登记基础信息)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "name": self.name,
            "category": self.category,
            "uscc": self.uscc,
            "id_number": self.id_number,
            "matched_former_name": self.matched_former_name,
            "status": self.status,
        }


@dataclass(frozen=True)
class SearchPage:
    mode: str  # "code" or "name"
    items: tuple[SearchItem, ...]
    offset: int
    limit: int
    has_more: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "items": [i.as_dict() for i in self.items],
            "offset": self.offset,
            "limit": self.limit,
            "has_more": self.has_more,
        }


def search_subjects(
    conn: Connection,
    query: str,
    principal: Principal,
    *,
    offset: int = 0,
    limit: int = 20,
    catalog_root: Path | None = None,
    filters: SearchFilters | None = None,
    dishonest_datasets: tuple[str, ...] = (),
) -> SearchPage:
    """One page of the subjects ``query`` names, as ``principal`` may see them.

    ``catalog_root``: the catalogue whose state rules say which records are public (the
    settings' catalogue when not given). ``filters`` narrow a name search;
    ``dishonest_datasets``: the public 失信 datasets its ``dishonest`` filter looks in."""
    if not 1 <= limit <= MAX_PAGE_SIZE or not 0 <= offset <= MAX_OFFSET:
        raise XinyongError(
            "SEARCH_PAGE_INVALID",
            f"分页参数无效：每页 1–{MAX_PAGE_SIZE} 条，最多翻到第 {MAX_OFFSET} 条；请缩小查询范围",
        )
    raw = query.strip() if isinstance(query, str) else ""
    if len(raw) > MAX_QUERY_CHARS:
        raise XinyongError("SEARCH_QUERY_TOO_LONG", f"查询内容过长：最多 {MAX_QUERY_CHARS} 个字符")
    check = check_code(raw, clock.today(conn))
    if check.ok and check.kind != KIND_UNKNOWN:
        return _by_code(conn, raw, check.kind, principal, offset, limit)
    needle = _needle(raw)
    if len(needle) > MAX_QUERY_CHARS:
        raise XinyongError("SEARCH_QUERY_TOO_LONG", f"查询内容过长：最多 {MAX_QUERY_CHARS} 个字符")
    if len(needle) < MIN_FRAGMENT_CHARS:
        raise XinyongError(
            "SEARCH_QUERY_TOO_SHORT",
            f"请输入主体名称中至少 {MIN_FRAGMENT_CHARS} 个连续的字，或完整的统一社会信用代码等代码",
        )
    if not any(ch.isalnum() for ch in needle):
        raise XinyongError("SEARCH_QUERY_INVALID", "查询内容须包含文字、字母或数字")
    root = catalog_root if catalog_root is not None else get_settings().catalog_dir
    public_states = state_rules(root).public_states
    narrowing = filters.checked(root) if filters is not None and filters.any else None
    return _by_name(
        conn, needle, principal, offset, limit, public_states, narrowing, dishonest_datasets
    )


def _needle(raw: str) -> str:
    """The fragment as stored names are written, without characters no name holds.

    Control, format, surrogate and private-use characters are dropped: they cannot be part of
    a name, and some (NUL, lone surrogates) the databases refuse outright.
    """
    norm = normalize_name(raw)
    return "".join(ch for ch in norm if unicodedata.category(ch)[0] != "C")


# -- the exact-code path ------------------------------------------------------------------------


def _full_view(principal: Principal, subject_id: int) -> bool:
    return principal.is_government or (
        principal.role is Role.SUBJECT and principal.subject_id == subject_id
    )


def _by_code(
    conn: Connection, raw: str, kind: str, principal: Principal, offset: int, limit: int
) -> SearchPage:
    subject: dict[str, Any] | None
    if kind == KIND_ID_NUMBER and not principal.is_government:
        # Nobody outside government finds a person by ID number; a 15-digit 工商注册号 that
        # also reads as an old ID number still finds its business.
        subject = _by_reg_no_only(conn, raw)
        if subject is None and principal.role is Role.SUBJECT:
            # …except a person looking up their own number (their right of access)
            try:
                mine = find_subject(conn, raw)
            except NotFound:
                mine = None
            subject = mine if mine is not None and mine["id"] == principal.subject_id else None
    else:
        try:
            subject = find_subject(conn, raw)
        except NotFound:
            subject = None
        if kind == KIND_ID_NUMBER:
            # A government user looking a person up by ID number is a read of personal data
            # (Henan art. 18): audited whether or not anyone was found, the number masked.
            audit.append_for(
                conn,
                principal,
                "subject.search_id",
                subject_id=subject["id"] if subject is not None else None,
                detail={"query": mask_id_number(normalize_code(raw)), "found": subject is not None},
            )
    if (
        subject is not None
        and subject["category"] == PERSON
        and not _full_view(principal, subject["id"])
    ):
        subject = None
    items = () if subject is None or offset > 0 else (_item(principal, subject, None, typed=True),)
    return SearchPage("code", items, offset, limit, has_more=False)


def _by_reg_no_only(conn: Connection, raw: str) -> dict[str, Any] | None:
    code = normalize_code(raw)
    if len(code) != 15:
        return None
    as_reg = check_reg_no(code)
    if not as_reg.ok:
        return None
    row = conn.execute(
        select(subjects)
        .where(
            subjects.c.reg_no == as_reg.value,
            subjects.c.category != PERSON,
            subjects.c.merged_into.is_(None),
        )
        .limit(1)
    ).first()
    return None if row is None else dict(row._mapping)


def _item(
    principal: Principal, subject: Any, former: str | None, *, typed: bool = False
) -> SearchItem:
    """One result. The full ID number is shown to the person itself, and to a government role
    only when it typed that number (the code path, audited as ``subject.search_id``): a name
    search shows everyone else's masked, and the subject's page shows it whole once a purpose
    is stated (查询事由, issue 11 item 5)."""
    id_number = subject["id_number"]
    own = principal.role is Role.SUBJECT and principal.subject_id == subject["id"]
    whole = own or (typed and _full_view(principal, subject["id"]))
    return SearchItem(
        subject_id=subject["id"],
        name=subject["name"],
        category=subject["category"],
        uscc=subject["uscc"],
        id_number=id_number if whole else mask_id_number(id_number),
        matched_former_name=former,
        status=subject["status"],
    )


# -- the name path ------------------------------------------------------------------------------

_SELECT = "SELECT s.id, s.name, s.category, s.uscc, s.id_number, s.status, n.name AS former"

_SQLITE_FROM = f"""
FROM subject_search AS f
LEFT JOIN subject_names AS n ON f.rowid >= {FORMER_BASE} AND n.id = f.rowid - {FORMER_BASE}
JOIN subjects AS s ON s.id = CASE WHEN f.rowid >= {FORMER_BASE} THEN n.subject_id ELSE f.rowid END
WHERE subject_search MATCH :match
"""

_PG_FROM = f"""
FROM subject_search AS f
JOIN subjects AS s ON s.id = f.subject_id
LEFT JOIN subject_names AS n ON f.doc_id >= {FORMER_BASE} AND n.id = f.doc_id - {FORMER_BASE}
WHERE {{match}}
"""

# The first names in document order (step 1 of ``_pg_rows``).
_PG_WINDOW_FROM = f"""
FROM (SELECT doc_id, subject_id, name_norm FROM subject_search ORDER BY doc_id LIMIT :window) AS f
JOIN subjects AS s ON s.id = f.subject_id
LEFT JOIN subject_names AS n ON f.doc_id >= {FORMER_BASE} AND n.id = f.doc_id - {FORMER_BASE}
WHERE f.name_norm LIKE :pattern
"""

# A subject whose current name matches, or an earlier former name, is listed once, by that.
_ONCE = """
  AND ({doc} < {base} OR ({contains}(s.name_norm, :needle) = 0 AND NOT EXISTS (
      SELECT 1 FROM subject_names AS n2
      WHERE n2.subject_id = n.subject_id AND n2.kind = 'former' AND n2.id < n.id
        AND {contains}(n2.name_norm, :needle) > 0)))
"""

# Persons only while a record of theirs is in force (the disclosure engine's ``in_force``, here
# in the statement's own SQL: state and last day of publicity) in a dataset that publishes persons,
# and not when they were minors on its decision date (18th birthday from the ID number).
_PERSONS = """
  AND (s.category <> :person OR s.id = :self_id OR EXISTS (
      SELECT 1 FROM records AS r
      WHERE r.subject_id = s.id AND r.dataset IN ({datasets}) AND r.state IN ({states})
        AND (r.publicity_max_end IS NULL OR r.publicity_max_end >= :on)
        AND (r.decision_date IS NULL OR s.id_number IS NULL OR {adult})))
"""
_SQLITE_ADULT = (
    "coalesce(r.decision_date >= date(substr(s.id_number, 7, 4) || '-' || "
    "substr(s.id_number, 11, 2) || '-' || substr(s.id_number, 13, 2), '+18 years'), 1)"
)
_PG_ADULT = (
    "(length(s.id_number) <> 18 OR "
    "to_char(r.decision_date - interval '18 years', 'YYYYMMDD') >= substr(s.id_number, 7, 8))"
)


# PostgreSQL plans (see ``_pg_rows``): matches wanted per name read in document order before a
# fragment counts as common (1 in 240), and the most matches fetched through the GIN index
# and ordered before it counts as common after all.
PG_DENSE = 240
PG_FEW_MATCHES = 5000


def _by_name(
    conn: Connection,
    needle: str,
    principal: Principal,
    offset: int,
    limit: int,
    public_states: frozenset[str],
    narrowing: SearchFilters | None = None,
    dishonest_datasets: tuple[str, ...] = (),
) -> SearchPage:
    params: dict[str, Any] = {"needle": needle, "limit": limit + 1, "offset": offset}
    sqlite = conn.dialect.name == "sqlite"
    on = answer_day(conn)
    filters = _filters(principal, params, sqlite, on, public_states)
    if narrowing is not None:
        filters += _narrowing(narrowing, params, sqlite, on, public_states, dishonest_datasets)
    if sqlite:
        match = _sqlite_match(conn, needle)
        if match is None:
            return SearchPage("name", (), offset, limit, has_more=False)
        params["match"] = match
        sql = _SELECT + _SQLITE_FROM + filters + "ORDER BY f.rowid LIMIT :limit OFFSET :offset"
        rows = conn.execute(text(sql), params).mappings().all()
    else:
        rows = _pg_rows(conn, needle, params, filters)
    items = tuple(_item(principal, r, r["former"]) for r in rows[:limit])
    return SearchPage("name", items, offset, limit, has_more=len(rows) > limit)


def _filters(
    principal: Principal,
    params: dict[str, Any],
    sqlite: bool,
    on: date,
    public_states: frozenset[str],
) -> str:
    """The conditions past the name match: each subject once, privacy, no merged subjects."""
    sql = _ONCE.format(
        doc="f.rowid" if sqlite else "f.doc_id",
        base=FORMER_BASE,
        contains="instr" if sqlite else "strpos",
    )
    if not principal.is_government:
        datasets = sorted(PERSON_PUBLIC_DATASETS)
        states = sorted(public_states)
        params |= {f"ds{i}": d for i, d in enumerate(datasets)}
        params |= {f"st{i}": s for i, s in enumerate(states)}
        params["person"] = PERSON
        params["on"] = on.isoformat() if sqlite else on  # SQLite stores dates as ISO text
        mine = principal.role is Role.SUBJECT and principal.subject_id is not None
        params["self_id"] = principal.subject_id if mine else -1
        sql += _PERSONS.format(
            datasets=", ".join(f":ds{i}" for i in range(len(datasets))),
            states=", ".join(f":st{i}" for i in range(len(states))),
            adult=_SQLITE_ADULT if sqlite else _PG_ADULT,
        )
    return sql + "  AND s.merged_into IS NULL\n"


def _narrowing(
    wanted: SearchFilters,
    params: dict[str, Any],
    sqlite: bool,
    on: date,
    public_states: frozenset[str],
    dishonest_datasets: tuple[str, ...],
) -> str:
    """The filters' conditions on ``s`` (subjects), as bound parameters."""
    sql = ""
    if wanted.category:
        params["f_category"] = wanted.category
        sql += "  AND s.category = :f_category\n"
    if wanted.district:
        params["f_district"] = wanted.district
        sql += "  AND substr(s.uscc, 3, 6) = :f_district\n"
    if wanted.industry:
        params["f_industry"] = wanted.industry
        params["f_registration"] = REGISTRATION
        industry = (
            f"json_extract(r.data, '$.{INDUSTRY_ITEM}')"
            if sqlite
            else f"(r.data ->> '{INDUSTRY_ITEM}')"
        )
        sql += (
            "  AND EXISTS (SELECT 1 FROM records AS r WHERE r.subject_id = s.id"
            f" AND r.dataset = :f_registration AND substr({industry}, 1, 1) = :f_industry)\n"
        )
    if wanted.dishonest:
        if not dishonest_datasets:
            return sql + "  AND 1 = 0\n"
        person_public = sorted(PERSON_PUBLIC_DATASETS)
        params |= {f"fd{i}": d for i, d in enumerate(dishonest_datasets)}
        params |= {f"fp{i}": d for i, d in enumerate(person_public)}
        params |= {f"fs{i}": st for i, st in enumerate(sorted(public_states))}
        params["f_person"] = PERSON
        params["f_on"] = on.isoformat() if sqlite else on
        # in public view as the disclosure engine's public_sql has it: a public state, not past
        # its last day, and for a person only in a dataset that publishes persons
        sql += (
            "  AND EXISTS (SELECT 1 FROM records AS r WHERE r.subject_id = s.id"
            f" AND r.dataset IN ({', '.join(f':fd{i}' for i in range(len(dishonest_datasets)))})"
            f" AND r.state IN ({', '.join(f':fs{i}' for i in range(len(public_states)))})"
            " AND (r.publicity_max_end IS NULL OR r.publicity_max_end >= :f_on)"
            " AND (s.category <> :f_person OR r.dataset IN"
            f" ({', '.join(f':fp{i}' for i in range(len(person_public)))})))\n"
        )
    return sql


def _sqlite_match(conn: Connection, needle: str) -> str | None:
    """The FTS5 query for ``needle``; None when no indexed name can hold it."""
    if len(needle) >= 3:
        return _phrase(needle)
    trigrams = conn.execute(
        text(
            "SELECT term FROM subject_search_terms WHERE term >= :lo AND term < :hi "
            f"LIMIT {MAX_TRIGRAMS_PER_PAIR}"
        ),
        {"lo": needle, "hi": needle + "\U0010ffff"},
    ).scalars()
    return " OR ".join(_phrase(t) for t in trigrams) or None


def _pg_rows(
    conn: Connection, needle: str, params: dict[str, Any], filters: str
) -> list[RowMapping]:
    """One page on PostgreSQL, by whichever plan suits how common the fragment is.

    The planner cannot tell a fragment in 30,000 names from one in 30 (its statistics sample
    a few hundred names), and the plan that suits one costs hundreds of milliseconds for the
    other. So the data says, in up to three bounded steps:

    1. read the first names in document order (``PG_DENSE`` per match wanted): a common
       fragment has filled the page there;
    2. otherwise fetch its matches through the GIN index, at most ``PG_FEW_MATCHES``: if that
       is all of them, the page is cut from them in order;
    3. otherwise (common, but not among the first names) read in document order to the end.

    Steps 2 and 3 fix their plan with planner settings inside a savepoint, whose rollback
    restores the caller's settings.
    """
    params["pattern"] = "%" + _like_escape(needle) + "%"
    if len(needle) >= 3:
        indexed = "f.name_norm LIKE :pattern"
    else:
        indexed = "f.bigrams @> ARRAY[CAST(:needle AS text)]"
    tail = "ORDER BY f.doc_id LIMIT :limit OFFSET :offset"
    window = PG_DENSE * (params["offset"] + params["limit"])
    first = _SELECT + _PG_WINDOW_FROM + filters + tail
    rows = list(conn.execute(text(first), params | {"window": window}).mappings())
    if len(rows) == params["limit"]:
        return rows
    probe = text(f"SELECT f.doc_id FROM subject_search AS f WHERE {indexed} LIMIT :few")
    with _pg_plan(conn, "enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
        ids = conn.execute(probe, params | {"few": PG_FEW_MATCHES + 1}).scalars().all()
    if not ids:
        return []
    if len(ids) <= PG_FEW_MATCHES:
        few = _SELECT + _PG_FROM.format(match="f.doc_id = ANY(CAST(:ids AS bigint[]))")
        return list(conn.execute(text(few + filters + tail), params | {"ids": ids}).mappings())
    common = _SELECT + _PG_FROM.format(match=indexed)
    with _pg_plan(conn, "enable_seqscan", "enable_bitmapscan"):
        return list(conn.execute(text(common + filters + tail), params).mappings())


def organisations_named(
    conn: Connection, fragments: dict[str, str], limit: int
) -> dict[str, list[int]]:
    """For each key, the ids of up to ``limit`` organisations (never a natural person, never a
    merged subject) whose current or former name holds its fragment, in index order.

    For machines matching many names at once (reconciliation): what the portal's search would
    find for each fragment, without its page, privacy columns or per-query plan probing. On
    PostgreSQL the whole batch is one statement through the GIN indexes (a fragment a search
    asks alone costs up to five round trips)."""
    wanted = {k: _needle(v) for k, v in fragments.items()}
    wanted = {k: v for k, v in wanted.items() if len(v) >= MIN_FRAGMENT_CHARS}
    found: dict[str, list[int]] = {k: [] for k in wanted}
    if conn.dialect.name == "sqlite":
        for key, needle in wanted.items():
            match = _sqlite_match(conn, needle)
            if match is not None:
                found[key] = _distinct(_sqlite_named(conn, match, limit), limit)
        return found
    for short in (False, True):  # 3+ characters by trigrams, 2 by the pairs' index
        batch = {k: v for k, v in wanted.items() if (len(v) < 3) is short}
        if not batch:
            continue
        match = "f.bigrams @> ARRAY[q.needle]" if short else "f.name_norm LIKE q.pattern"
        sql = text(_PG_NAMED.format(match=match, base=FORMER_BASE))
        params = {
            "keys": list(batch),
            "needles": list(batch.values()),
            "patterns": ["%" + _like_escape(v) + "%" for v in batch.values()],
            "person": PERSON,
            "limit": limit,
        }
        # the bitmap through the GIN index, whatever the planner's guess (see ``_pg_rows``)
        with _pg_plan(conn, "enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            for key, subject_id in conn.execute(sql, params).tuples():
                found[key].append(subject_id)
    return found


_PG_NAMED = """
SELECT q.key, c.subject_id
FROM unnest(CAST(:keys AS text[]), CAST(:needles AS text[]), CAST(:patterns AS text[]))
     AS q(key, needle, pattern)
CROSS JOIN LATERAL (
    SELECT f.subject_id, min(f.doc_id) AS first
    FROM subject_search AS f
    JOIN subjects AS s ON s.id = f.subject_id
    WHERE {match} AND s.category <> :person AND s.merged_into IS NULL
    GROUP BY f.subject_id
    ORDER BY first
    LIMIT :limit
) AS c
ORDER BY q.key, c.first
"""


def _sqlite_named(conn: Connection, match: str, limit: int) -> list[int]:
    # a subject's current and former names may both match: twice the rows, then distinct
    sql = (
        "SELECT s.id" + _SQLITE_FROM + "  AND s.category <> :person AND s.merged_into IS NULL\n"
        "ORDER BY f.rowid LIMIT :rows"
    )
    params = {"match": match, "person": PERSON, "rows": 2 * limit}
    return list(conn.execute(text(sql), params).scalars())


def _distinct(ids: list[int], limit: int) -> list[int]:
    return list(dict.fromkeys(ids))[:limit]


@contextmanager
def _pg_plan(conn: Connection, *disabled: str) -> Iterator[None]:
    """Run the block with the named planner methods off, then restore the settings."""
    savepoint = conn.begin_nested()
    try:
        conn.execute(select(*(func.set_config(name, "off", True) for name in disabled)))
        yield
    finally:
        savepoint.rollback()  # SET LOCAL inside a savepoint ends with it


def _phrase(value: str) -> str:
    """An FTS5 string: whatever it holds is text to match, never query syntax."""
    return '"' + value.replace('"', '""') + '"'


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
