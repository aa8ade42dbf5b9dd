"""Finding subjects by name fragment or code (信用主体查询): Chinese fragments of 2 characters and
more, spellings (full/half width, brackets), former names (曾用名), the exact-code path, paging,
what the public may find about natural persons, and hostile input."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from alembic import command
from fixtures.clock import TEST_START
from fixtures.deliveries import HENGDA, LONGDU, SAMR, SHOP, XINYUAN, make_id, make_uscc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, insert, select, update

from xinyong.accounts.roles import Principal, Role
from xinyong.batches.models import batches
from xinyong.db import alembic_config, make_engine, upgrade_schema
from xinyong.errors import XinyongError
from xinyong.portal import search as search_module
from xinyong.portal.search import SearchPage, search_subjects
from xinyong.records import states
from xinyong.records.models import records
from xinyong.settings import Settings
from xinyong.subjects.models import subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.refs import INDIVIDUAL_BUSINESS, ORGANISATION, PERSON, SubjectRef
from xinyong.subjects.service import link_subjects, record_names

PUBLIC = Principal.public("203.0.113.7")
OPERATOR = Principal.cli("tester@host")

# Spelled as a department might: full-width letters, Chinese brackets.
ABC_NAME = "濮阳ＡＢＣ科技（濮阳）有限公司"
ABC_USCC = make_uscc("91", "410902", "MA7ABC11")
# Its name contains another subject's USCC: a code query must not find it by name.
DECOY_NAME = f"濮阳{XINYUAN.uscc}咨询有限公司"
DECOY_USCC = make_uscc("91", "410902", "MA7DEC01")
RENAMED_USCC = make_uscc("91", "410923", "MA7REN01")

# Natural persons (自然人): one on the 失信被执行人 list, one never on any public list, one
# listed only for a decision taken while a minor, one whose listing has expired.
DEBTOR = ("赵德柱", make_id("410902", date(1970, 5, 6), 311))
PRIVATE = ("钱多多", make_id("410922", date(1981, 2, 3), 122))
MINOR = ("孙小强", make_id("410923", date(2010, 1, 1), 18))
EXPIRED = ("周末了", make_id("410926", date(1965, 8, 9), 77))


@dataclass
class World:
    ids: dict[str, int]


def org(name: str, uscc: str, category: str = ORGANISATION, **more: object) -> SubjectRef:
    return SubjectRef(category, name, normalize_name(name), uscc=uscc, **more)  # type: ignore[arg-type]


def person(name: str, id_number: str) -> SubjectRef:
    return SubjectRef(PERSON, name, normalize_name(name), id_number=id_number)


def _add(conn: Connection, refs: list[SubjectRef], authoritative: bool = False) -> list[int]:
    ids = link_subjects(conn, refs)
    assert all(i is not None for i in ids)
    known = [i for i in ids if i is not None]
    record_names(conn, refs, known, batch_id=None, authoritative=authoritative)
    return known


def _sxbzx(conn: Connection, subject_id: int, decided: date, state: str, key: str) -> None:
    now = TEST_START
    batch_id = conn.execute(
        insert(batches)
        .values(
            dataset="SXBZX",
            dept_uscc=SAMR.uscc,
            actor="测试",
            channel="cli",
            file_name="sxbzx.csv",
            file_sha256="0" * 64,
            file_format="csv",
            received_at=now,
            finished_at=now,
            received=1,
            new=1,
            updated=0,
            unchanged=0,
            pending=0,
            rejected=0,
            warnings=0,
        )
        .returning(batches.c.id)
    ).scalar_one()
    conn.execute(
        insert(records).values(
            dataset="SXBZX",
            natural_key=key,
            subject_id=subject_id,
            database="自然人",
            dept_uscc=SAMR.uscc,
            state=state,
            version=1,
            content_hash="0" * 32,
            data={},
            raw={},
            decision_date=decided,
            batch_id=batch_id,
            row_no=2,
            created_at=now,
            updated_at=now,
        )
    )


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """Subjects made by the linking service, as ingestion makes them (the index follows)."""
    with engine.begin() as conn:
        refs = [
            org(XINYUAN.name, XINYUAN.uscc, reg_no=XINYUAN.reg_no),
            org(HENGDA.name, HENGDA.uscc, former_names=("清丰县恒达建筑材料厂",)),
            org(LONGDU.name, LONGDU.uscc, reg_no=LONGDU.reg_no),
            org(SHOP.name, SHOP.uscc, INDIVIDUAL_BUSINESS),
            org(ABC_NAME, ABC_USCC),
            org(DECOY_NAME, DECOY_USCC),
            org("南乐县老字号酱菜厂", RENAMED_USCC),
            person(*DEBTOR),
            person(*PRIVATE),
            person(*MINOR),
            person(*EXPIRED),
        ]
        ids = _add(conn, refs)
        names = [
            "xinyuan",
            "hengda",
            "longdu",
            "shop",
            "abc",
            "decoy",
            "renamed",
            "debtor",
            "private",
            "minor",
            "expired",
        ]
        by = dict(zip(names, ids, strict=True))
        # A rename by the registration dataset: the old name becomes a former name.
        _add(conn, [org("南乐县新味道食品有限公司", RENAMED_USCC)], authoritative=True)
        _sxbzx(conn, by["debtor"], date(2024, 3, 1), states.PUBLISHED, "A")
        _sxbzx(conn, by["minor"], date(2025, 6, 1), states.PUBLISHED, "B")
        _sxbzx(conn, by["expired"], date(2019, 6, 1), states.EXPIRED, "C")
    yield World(by)


def search(engine: Engine, query: str, who: Principal = PUBLIC, **page: int) -> SearchPage:
    with engine.connect() as conn:
        return search_subjects(conn, query, who, **page)


def found(page: SearchPage) -> set[int]:
    return {i.subject_id for i in page.items}


# -- fragments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("鑫源", {"xinyuan"}),  # 2 characters: the side index
        ("恒达", {"hengda"}),
        ("便利", {"shop"}),
        ("石油机", {"longdu"}),  # 3: trigrams
        ("龙都石油机械", {"longdu"}),
        ("濮阳县龙都石油机械有限责任公司", {"longdu"}),  # the whole name
        ("有限责任", {"longdu"}),
        ("清丰", {"hengda"}),
        ("华龙区鑫源", {"xinyuan"}),
    ],
)
def test_fragments_of_two_characters_and_more_find_names(
    engine: Engine, world: World, query: str, expected: set[str]
) -> None:
    page = search(engine, query)
    assert page.mode == "name"
    assert found(page) == {world.ids[k] for k in expected}


def test_a_fragment_in_no_name_finds_nothing(engine: Engine, world: World) -> None:
    for query in ("鑫达", "龙都石化", "机械有限公司"):
        assert search(engine, query).items == ()


@pytest.mark.parametrize(
    "query",
    [
        "ABC科技",
        "ＡＢＣ科技",
        "abc科技",
        "(濮阳)有限",
        "（濮阳）有限",
        "〔濮阳〕",
        "[濮阳]",
        "Ａ Ｂ Ｃ",
        "C科",
    ],
)
def test_width_case_brackets_and_spaces_do_not_matter(
    engine: Engine, world: World, query: str
) -> None:
    assert found(search(engine, query)) == {world.ids["abc"]}


def test_former_names_are_found_and_say_so(engine: Engine, world: World) -> None:
    page = search(engine, "建筑材料")
    assert [(i.subject_id, i.name, i.matched_former_name) for i in page.items] == [
        (world.ids["hengda"], HENGDA.name, "清丰县恒达建筑材料厂")
    ]
    # a fragment in both the current and the former name: listed once, by its current name
    page = search(engine, "清丰县恒达")
    assert [(i.subject_id, i.matched_former_name) for i in page.items] == [
        (world.ids["hengda"], None)
    ]


def test_a_renamed_subject_is_found_by_old_and_new_name(engine: Engine, world: World) -> None:
    new = search(engine, "新味道")
    assert [(i.subject_id, i.name, i.matched_former_name) for i in new.items] == [
        (world.ids["renamed"], "南乐县新味道食品有限公司", None)
    ]
    old = search(engine, "酱菜")  # 2 characters, in the former name only
    assert [(i.subject_id, i.name, i.matched_former_name) for i in old.items] == [
        (world.ids["renamed"], "南乐县新味道食品有限公司", "南乐县老字号酱菜厂")
    ]
    assert search(engine, "老字号酱菜").items[0].matched_former_name == "南乐县老字号酱菜厂"


def test_a_rename_outside_the_service_updates_the_index(engine: Engine, world: World) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(subjects)
            .where(subjects.c.id == world.ids["longdu"])
            .values(name="濮阳县昆吾机械有限公司", name_norm="濮阳县昆吾机械有限公司")
        )
    assert found(search(engine, "昆吾")) == {world.ids["longdu"]}
    assert found(search(engine, "龙都")) == set()
    assert found(search(engine, "龙都石油")) == set()


def test_names_stored_before_the_index_existed_are_indexed(settings: Settings) -> None:
    eng = make_engine(settings)
    try:
        with eng.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0005")
            (sid,) = _add(conn, [org(HENGDA.name, HENGDA.uscc, former_names=("恒达建筑材料厂",))])
        upgrade_schema(eng)
        for query in ("恒达", "恒达建材", "建筑材料"):
            assert found(search(eng, query)) == {sid}
    finally:
        eng.dispose()


# -- the exact-code path --------------------------------------------------------------------------


def test_codes_find_their_subject_by_code_only(engine: Engine, world: World) -> None:
    for code in (
        XINYUAN.uscc,
        XINYUAN.uscc.lower(),
        XINYUAN.org_code,
        f"{XINYUAN.org_code[:8]}-{XINYUAN.org_code[8]}",
        XINYUAN.reg_no,
    ):
        page = search(engine, code)
        # the decoy, whose name contains the USCC, is not found: codes never go to names
        assert page.mode == "code"
        assert [i.subject_id for i in page.items] == [world.ids["xinyuan"]], code
        assert page.items[0].uscc == XINYUAN.uscc
    unknown = make_uscc("91", "410902", "MA7NQNE1")
    assert search(engine, unknown) == SearchPage("code", (), 0, 20, False)


def test_the_code_path_has_one_page(engine: Engine, world: World) -> None:
    assert search(engine, XINYUAN.uscc, offset=10).items == ()


# -- paging ---------------------------------------------------------------------------------------


# PostgreSQL picks its plan by how common a fragment is (``_pg_rows``); small thresholds make
# these few names take each of its three ways. SQLite has one way and ignores them.
PLANS = {
    "first names in order": (1000, 5000),
    "all matches by the index": (0, 5000),
    "common but scattered": (0, 3),
}


@pytest.mark.parametrize("plan", list(PLANS))
def test_pages_cover_every_match_once(
    engine: Engine, world: World, plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dense, few = PLANS[plan]
    monkeypatch.setattr(search_module, "PG_DENSE", dense)
    monkeypatch.setattr(search_module, "PG_FEW_MATCHES", few)
    with engine.begin() as conn:
        many = _add(
            conn,
            [
                org(f"台前县众诚第{n}分店有限公司", make_uscc("91", "410927", f"MA7P{n:04d}"))
                for n in range(25)
            ],
        )
    for query in ("众诚", "众诚第"):
        seen: list[int] = []
        more = [True, True, False]
        for n, offset in enumerate((0, 10, 20)):
            page = search(engine, query, offset=offset, limit=10)
            assert page.has_more is more[n]
            seen += [i.subject_id for i in page.items]
        assert sorted(seen) == sorted(many)


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, 0), (0, 101), (1001, 10)])
def test_bad_paging_is_refused(engine: Engine, world: World, offset: int, limit: int) -> None:
    with pytest.raises(XinyongError) as err:
        search(engine, "鑫源", offset=offset, limit=limit)
    assert err.value.code == "SEARCH_PAGE_INVALID"


# -- natural persons and the public ---------------------------------------------------------------


def test_the_public_never_finds_a_person_by_id_number(engine: Engine, world: World) -> None:
    for _name, id_number in (DEBTOR, PRIVATE):
        assert search(engine, id_number).items == ()
        assert search(engine, id_number.lower()).items == ()
    # government roles find everyone by any code, and see the number whole
    page = search(engine, DEBTOR[1], OPERATOR)
    assert [(i.subject_id, i.id_number) for i in page.items] == [(world.ids["debtor"], DEBTOR[1])]
    # a person finds themself
    me = Principal(Role.SUBJECT, "debtor", account_id=9, subject_id=world.ids["debtor"])
    assert found(search(engine, DEBTOR[1], me)) == {world.ids["debtor"]}


def test_the_public_finds_persons_by_name_only_while_listed(engine: Engine, world: World) -> None:
    debtor = search(engine, DEBTOR[0])
    assert [(i.subject_id, i.category) for i in debtor.items] == [(world.ids["debtor"], PERSON)]
    assert debtor.items[0].id_number == DEBTOR[1][:6] + "********" + DEBTOR[1][-4:]
    # never listed, listed only as a minor, listing expired: not found by the public
    for name, _ in (PRIVATE, MINOR, EXPIRED):
        assert search(engine, name).items == (), name
    # government roles find them all by name
    for key, (name, _) in zip(
        ("private", "minor", "expired"), (PRIVATE, MINOR, EXPIRED), strict=True
    ):
        assert found(search(engine, name, OPERATOR)) == {world.ids[key]}
    # a logged-in subject is not government: it finds only itself among the unlisted
    me = Principal(Role.SUBJECT, "qian", account_id=8, subject_id=world.ids["private"])
    assert found(search(engine, PRIVATE[0], me)) == {world.ids["private"]}
    assert search(engine, MINOR[0], me).items == ()


def test_no_public_answer_carries_an_id_number(engine: Engine, world: World) -> None:
    everyone = [DEBTOR, PRIVATE, MINOR, EXPIRED]
    queries = [n for n, _ in everyone] + [i for _, i in everyone] + ["德柱", "赵德"]
    for query in queries:
        text = repr(search(engine, query).as_dict())
        for _, id_number in everyone:
            assert id_number not in text
            assert id_number[6:14] not in text  # not even the birth date


def test_the_boundary_of_the_minor_rule(engine: Engine) -> None:
    born = date(2000, 2, 29)
    with engine.begin() as conn:
        (adult_on_time,) = _add(conn, [person("吴边界", make_id("410902", born, 5))])
        (one_day_early,) = _add(conn, [person("郑边界", make_id("410902", born, 6))])
        # 18 years after a 29 February birth: 1 March (as ``was_minor`` counts)
        _sxbzx(conn, adult_on_time, date(2018, 3, 1), states.PUBLISHED, "D")
        _sxbzx(conn, one_day_early, date(2018, 2, 28), states.PUBLISHED, "E")
    assert found(search(engine, "边界")) == {adult_on_time}


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "SEARCH_QUERY_TOO_SHORT"),
        ("   ", "SEARCH_QUERY_TOO_SHORT"),
        ("鑫", "SEARCH_QUERY_TOO_SHORT"),
        ("\x00鑫\ud800", "SEARCH_QUERY_TOO_SHORT"),
        ("鑫" * 51, "SEARCH_QUERY_TOO_LONG"),
        ("()", "SEARCH_QUERY_INVALID"),
        ("***", "SEARCH_QUERY_INVALID"),
    ],
)
def test_bad_queries_have_clear_errors(engine: Engine, world: World, query: str, code: str) -> None:
    with pytest.raises(XinyongError) as err:
        search(engine, query)
    assert err.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)


@pytest.mark.parametrize(
    "query",
    [
        "' OR 1=1 --",
        "鑫源'; DROP TABLE subjects; --",
        '鑫源"',
        '"鑫源"',
        "鑫源*",
        "鑫*",
        "NEAR(鑫源 商贸)",
        "鑫源 NOT 商贸",
        "-鑫源",
        "鑫源 OR 恒达",
        "name:鑫源",
        "^鑫源",
        "%鑫%",
        "_鑫",
        "鑫\\源",
    ],
)
def test_hostile_strings_are_plain_text(engine: Engine, world: World, query: str) -> None:
    page = search(engine, query)
    assert page.items == ()
    with engine.connect() as conn:
        assert conn.execute(select(subjects.c.id)).first() is not None


def test_characters_no_name_holds_are_ignored(engine: Engine, world: World) -> None:
    assert found(search(engine, "鑫源\x00商\u200b贸\ud800")) == {world.ids["xinyuan"]}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(query=st.text(max_size=60), offset=st.integers(-2, 1002), limit=st.integers(-1, 102))
def test_any_text_gives_a_page_or_a_domain_error(
    engine: Engine, world: World, query: str, offset: int, limit: int
) -> None:
    for who in (PUBLIC, OPERATOR):
        try:
            page = search(engine, query, who, offset=offset, limit=limit)
        except XinyongError as err:
            assert err.code.startswith("SEARCH_")
            continue
        assert len(page.items) <= limit
