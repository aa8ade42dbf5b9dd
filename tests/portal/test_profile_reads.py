"""The subject profile reads the subject, the data's "as of" and the former names in one
statement (issue 13): the former names come in the order recorded, a subject without any
has none, and a merged subject's profile is its successor's, former names included."""

from __future__ import annotations

from fixtures.deliveries import make_uscc
from sqlalchemy import Connection, select, update

from xinyong.accounts.roles import Principal
from xinyong.catalog.loader import Catalog
from xinyong.portal.service import subject_profile
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.refs import ORGANISATION, SubjectRef
from xinyong.subjects.service import link_subjects, record_names


def _org(name: str, uscc: str, former: tuple[str, ...] = ()) -> SubjectRef:
    return SubjectRef(ORGANISATION, name, normalize_name(name), uscc=uscc, former_names=former)


def test_profile_shows_former_names_in_order_and_follows_merges(
    conn: Connection, catalog: Catalog
) -> None:
    refs = [
        _org("濮阳市新名称科技有限公司", make_uscc("91", "410902", "MA7NEW01"),
             ("濮阳市旧名称一号有限公司", "濮阳市旧名称二号有限公司")),
        _org("濮阳市无曾用名有限公司", make_uscc("91", "410902", "MA7PLN01")),
        _org("濮阳市被合并有限公司", make_uscc("91", "410902", "MA7MRG01")),
    ]  # fmt: skip
    with conn.begin():
        ids = [i for i in link_subjects(conn, refs) if i is not None]
        record_names(conn, refs, ids, batch_id=None, authoritative=True)
        conn.execute(update(subjects).where(subjects.c.id == ids[2]).values(merged_into=ids[0]))
    renamed, plain, merged = ids
    with conn.begin():
        recorded = [
            r.name
            for r in conn.execute(
                select(subject_names.c.name)
                .where(subject_names.c.subject_id == renamed, subject_names.c.kind == "former")
                .order_by(subject_names.c.id)
            )
        ]
        public = Principal.public("test")
        first = subject_profile(conn, catalog, public, renamed)["subject"]
        none = subject_profile(conn, catalog, public, plain)["subject"]
        followed = subject_profile(conn, catalog, public, merged)["subject"]
    assert len(recorded) == 2
    assert first["former_names"] == recorded
    assert (first["id"], first["name"]) == (renamed, "濮阳市新名称科技有限公司")
    assert none["former_names"] == [] and none["id"] == plain
    assert followed == first
