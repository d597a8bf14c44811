"""Alembic environment: runs the job store's migrations on the URL given by the caller."""

from __future__ import annotations

from alembic import context

from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.tables import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_store_engine(url) if url else None
    if engine is None:
        raise SystemExit("No database URL was given to the migrations.")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
