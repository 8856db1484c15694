"""Alembic migrations, shipped inside the package so that `ivr db upgrade` works after a
non-editable install too. Run them through `ivr.store.migrate`, never with a bare `alembic`."""
