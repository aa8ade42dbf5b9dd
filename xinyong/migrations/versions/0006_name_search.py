"""name search: an index of subjects' current and former names (主体名称检索)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 06:00:00

One document per name: a subject's current name (document id = subject id) and each of its
former names (曾用名, ``subject_names`` rows of kind 'former'; document id = ``FORMER_BASE`` +
name id), so that one ordered scan of the index pages through both. Triggers on ``subjects``
and ``subject_names`` keep the index current, whatever inserts or renames (the bulk linking of
``xinyong.subjects.service`` included); the models know nothing of these tables and the drift
check skips them (``xinyong.subjects.name_index.include_name``).

SQLite: a contentless FTS5 table ``subject_search`` with the trigram tokenizer serves fragments
of 3 characters and more as exact phrase matches. A trigram index cannot serve 2 characters by
itself; here every indexed name ends with a space (``SENTINEL``), so that each 2-character
piece of a name begins at least one indexed trigram, and the table's vocabulary
(``subject_search_terms``, fts5vocab) lists those trigrams by prefix: a 2-character query is
the OR of them. Each trigger-made FTS5 write costs a small flush (FTS5 flushes at every
statement savepoint), so there is one FTS5 table, not two, to keep subject creation cheap.

PostgreSQL: a table ``subject_search`` with a pg_trgm GIN index on the name (3+ characters,
``LIKE``) and a GIN index on the array of its 2-character pieces (2 characters, ``@>``).
pg_trgm is installed once per database, in ``public`` if absent (every schema of the database
can use it there: the opclass is schema-qualified here, and queries use plain ``LIKE``).
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Document ids of former names start here (2**40), far above any subject id.
FORMER_BASE = 1 << 40
# SQLite: appended to every indexed name, so that each 2-character piece of it, the last one
# too, begins some indexed trigram. Stored names never hold a space (normalize_name).
SENTINEL = " "


def _sqlite_add(doc: str, col: str, when: str = "1") -> str:
    return (
        f"INSERT INTO subject_search (rowid, name) SELECT {doc}, {col} || '{SENTINEL}' "
        f"WHERE {when};"
    )


def _sqlite_remove(doc: str, col: str, when: str = "1") -> str:
    # A contentless table forgets a document when given exactly what was indexed for it.
    return (
        "INSERT INTO subject_search (subject_search, rowid, name) "
        f"SELECT 'delete', {doc}, {col} || '{SENTINEL}' WHERE {when};"
    )


def _sqlite_trigger(name: str, event: str, when: str | None, body: list[str]) -> str:
    cond = f" WHEN {when}" if when else ""
    return f"CREATE TRIGGER {name} AFTER {event}{cond} BEGIN\n" + "\n".join(body) + "\nEND"


def _sqlite_upgrade() -> list[str]:
    former_new = f"new.id + {FORMER_BASE}"
    former_old = f"old.id + {FORMER_BASE}"
    return [
        # Names are stored normalised (upper-case Latin), and so are queries: no case folding,
        # so that the terms listed below are exactly the indexed text.
        "CREATE VIRTUAL TABLE subject_search USING fts5("
        "name, content='', tokenize='trigram case_sensitive 1')",
        "CREATE VIRTUAL TABLE subject_search_terms USING fts5vocab(subject_search, 'row')",
        _sqlite_trigger(
            "subject_search_subject_added",
            "INSERT ON subjects",
            None,
            [_sqlite_add("new.id", "new.name_norm")],
        ),
        _sqlite_trigger(
            "subject_search_subject_renamed",
            "UPDATE OF name_norm ON subjects",
            "old.name_norm IS NOT new.name_norm",
            [_sqlite_remove("old.id", "old.name_norm"), _sqlite_add("new.id", "new.name_norm")],
        ),
        _sqlite_trigger(
            "subject_search_subject_removed",
            "DELETE ON subjects",
            None,
            [_sqlite_remove("old.id", "old.name_norm")],
        ),
        _sqlite_trigger(
            "subject_search_name_added",
            "INSERT ON subject_names",
            "new.kind = 'former'",
            [_sqlite_add(former_new, "new.name_norm")],
        ),
        # One trigger for both halves of an update, so that the old document is gone before
        # the new one (same document id) arrives.
        _sqlite_trigger(
            "subject_search_name_changed",
            "UPDATE ON subject_names",
            None,
            [
                _sqlite_remove(former_old, "old.name_norm", "old.kind = 'former'"),
                _sqlite_add(former_new, "new.name_norm", "new.kind = 'former'"),
            ],
        ),
        _sqlite_trigger(
            "subject_search_name_removed",
            "DELETE ON subject_names",
            "old.kind = 'former'",
            [_sqlite_remove(former_old, "old.name_norm")],
        ),
        # Names already stored when this revision runs.
        f"INSERT INTO subject_search (rowid, name) SELECT id, name_norm || '{SENTINEL}' "
        "FROM subjects",
        "INSERT INTO subject_search (rowid, name) "
        f"SELECT id + {FORMER_BASE}, name_norm || '{SENTINEL}' "
        "FROM subject_names WHERE kind = 'former'",
    ]


SQLITE_DOWNGRADE = [
    "DROP TRIGGER subject_search_subject_added",
    "DROP TRIGGER subject_search_subject_renamed",
    "DROP TRIGGER subject_search_subject_removed",
    "DROP TRIGGER subject_search_name_added",
    "DROP TRIGGER subject_search_name_changed",
    "DROP TRIGGER subject_search_name_removed",
    "DROP TABLE subject_search_terms",
    "DROP TABLE subject_search",
]

# pg_trgm belongs to the database, not to a schema; parallel migrations of several schemas
# (the tests) would race to create it, so the creator takes a lock first.
PG_TRGM = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        PERFORM pg_advisory_xact_lock(hashtext('xinyong: create extension pg_trgm'));
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    END IF;
END
$$
"""

PG_TABLES = [
    """
    CREATE TABLE subject_search (
        doc_id bigint PRIMARY KEY,
        subject_id bigint NOT NULL,
        name_norm text NOT NULL,
        bigrams text[] NOT NULL
    )
    """,
    # Everything lives in the current schema (first on search_path), like the tables.
    """
    CREATE FUNCTION subject_search_bigrams(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(DISTINCT substr(name, i, 2)), '{}')
        FROM generate_series(1, length(name) - 1) AS i
    $$
    """,
    """
    CREATE FUNCTION subject_search_subjects_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO subject_search (doc_id, subject_id, name_norm, bigrams)
        SELECT id, id, name_norm, subject_search_bigrams(name_norm) FROM added;
        RETURN NULL;
    END
    $$
    """,
    # Statement-level with a transition table: one INSERT … SELECT per bulk insert (COPY too).
    """
    CREATE TRIGGER subject_search_subjects_added AFTER INSERT ON subjects
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION subject_search_subjects_added()
    """,
    """
    CREATE FUNCTION subject_search_subject_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM subject_search WHERE doc_id = OLD.id;
            RETURN NULL;
        END IF;
        UPDATE subject_search
        SET name_norm = NEW.name_norm, bigrams = subject_search_bigrams(NEW.name_norm)
        WHERE doc_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER subject_search_subject_renamed AFTER UPDATE OF name_norm ON subjects
    FOR EACH ROW WHEN (OLD.name_norm IS DISTINCT FROM NEW.name_norm)
    EXECUTE FUNCTION subject_search_subject_changed()
    """,
    """
    CREATE TRIGGER subject_search_subject_removed AFTER DELETE ON subjects
    FOR EACH ROW EXECUTE FUNCTION subject_search_subject_changed()
    """,
    f"""
    CREATE FUNCTION subject_search_names_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO subject_search (doc_id, subject_id, name_norm, bigrams)
        SELECT id + {FORMER_BASE}, subject_id, name_norm, subject_search_bigrams(name_norm)
        FROM added WHERE kind = 'former';
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER subject_search_names_added AFTER INSERT ON subject_names
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION subject_search_names_added()
    """,
    f"""
    CREATE FUNCTION subject_search_name_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            DELETE FROM subject_search WHERE doc_id = OLD.id + {FORMER_BASE};
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.kind = 'former' THEN
            INSERT INTO subject_search (doc_id, subject_id, name_norm, bigrams)
            VALUES (NEW.id + {FORMER_BASE}, NEW.subject_id, NEW.name_norm,
                    subject_search_bigrams(NEW.name_norm));
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER subject_search_name_changed AFTER UPDATE OR DELETE ON subject_names
    FOR EACH ROW EXECUTE FUNCTION subject_search_name_changed()
    """,
    "INSERT INTO subject_search (doc_id, subject_id, name_norm, bigrams) "
    "SELECT id, id, name_norm, subject_search_bigrams(name_norm) FROM subjects",
    "INSERT INTO subject_search (doc_id, subject_id, name_norm, bigrams) "
    f"SELECT id + {FORMER_BASE}, subject_id, name_norm, subject_search_bigrams(name_norm) "
    "FROM subject_names WHERE kind = 'former'",
    "CREATE INDEX ix_subject_search_bigrams ON subject_search USING gin (bigrams)",
]

PG_DOWNGRADE = [
    "DROP TRIGGER subject_search_name_changed ON subject_names",
    "DROP TRIGGER subject_search_names_added ON subject_names",
    "DROP TRIGGER subject_search_subject_removed ON subjects",
    "DROP TRIGGER subject_search_subject_renamed ON subjects",
    "DROP TRIGGER subject_search_subjects_added ON subjects",
    "DROP FUNCTION subject_search_name_changed()",
    "DROP FUNCTION subject_search_names_added()",
    "DROP FUNCTION subject_search_subject_changed()",
    "DROP FUNCTION subject_search_subjects_added()",
    "DROP TABLE subject_search",
    "DROP FUNCTION subject_search_bigrams(text)",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for stmt in _sqlite_upgrade():
            op.execute(stmt)
        return
    op.execute(PG_TRGM)
    for stmt in PG_TABLES:
        op.execute(stmt)
    # Wherever pg_trgm was installed (public by us, or elsewhere by a DBA), name its schema.
    trgm_schema = bind.execute(
        text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
    ).scalar_one()
    op.execute(
        "CREATE INDEX ix_subject_search_trgm ON subject_search "
        f"USING gin (name_norm {trgm_schema}.gin_trgm_ops)"
    )


def downgrade() -> None:
    bind = op.get_bind()
    for stmt in SQLITE_DOWNGRADE if bind.dialect.name == "sqlite" else PG_DOWNGRADE:
        op.execute(stmt)
