"""Alembic's entry: jubao runs migrations on a connection it opens itself (web/migrate.py), never from an ini file."""
from alembic import context

import web.store  # noqa: F401  (its tables join METADATA)
from web.decisions import METADATA

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=METADATA, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
