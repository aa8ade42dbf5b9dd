"""Alembic environment: migrates the connection handed in, or the configured database."""

from alembic import context
from sqlalchemy import Connection

from xinyong.models import metadata
from xinyong.subjects.name_index import include_name


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode recreates tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # Tables that migrations build but no model describes (the name index, 0006).
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    conn = context.config.attributes.get("connection")
    if conn is not None:
        run(conn)
        return
    from xinyong.db import make_engine
    from xinyong.settings import get_settings

    engine = make_engine(get_settings())
    with engine.begin() as connection:
        run(connection)


main()
