"""Alembic environment: runs on the connection the service hands it (see service.store.migrate).

`factcheck migrate` is the supported entry point; it takes a lock so that several instances
starting at once on PostgreSQL do not race each other through the same migration.
"""

from alembic import context

from service.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `factcheck migrate`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables where needed.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
