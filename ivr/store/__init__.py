"""The operators' side of the service: what it remembers, in a real database.

Anonymous hourly counts and live closures, in SQLite (a file in the state folder) or PostgreSQL,
through SQLAlchemy Core, with Alembic migrations shipped inside the package. The call's pure core
(schedule, menu, flow, speech, twiml) never imports this package; the web edge and the CLI do."""
