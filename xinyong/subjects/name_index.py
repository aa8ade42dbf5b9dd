"""The name index of subjects (migration 0006): tables it owns outside the models, so that
schema comparisons leave them alone. The queries over it are ``xinyong.portal.search``."""

from __future__ import annotations

from typing import Any

# Tables the name index owns: built by migration 0006 and kept by its triggers, not described
# by the models. SQLite: the FTS5 table, the shadow tables FTS5 makes for it (contentless, so
# no _content) and its vocabulary table. PostgreSQL: one plain table.
INDEX_TABLES: frozenset[str] = frozenset(
    {
        "subject_search",
        "subject_search_data",
        "subject_search_idx",
        "subject_search_docsize",
        "subject_search_config",
        "subject_search_terms",
    }
)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic filter: leave the name index's tables out of autogenerate and drift checks."""
    return not (type_ == "table" and name in INDEX_TABLES)
