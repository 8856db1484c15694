"""Alembic's entry point: migrations run on the connection `ivr.store.migrate` hands over."""
from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations with `ivr db upgrade`")
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
