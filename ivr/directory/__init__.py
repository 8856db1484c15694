"""The hotlines and their hours: the directory's lines, weekly hours, holidays, the schedule
(open now, next opening) and the schedule table for operators.

May import: the standard library, `holidays`, ivr.call (closed lines as plain data).
Never imports Flask, SQLAlchemy, gunicorn, or anything in ivr.serve, ivr.store, ivr.console or
ivr.cli, and never reads the clock. tests/test_layout.py holds the rule."""
