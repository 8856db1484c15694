"""The pure core of one call: menus, prompts, speech, flow, TwiML rendering, answers, closed lines.

May import: the standard library, babel, twilio's TwiML builder, ivr.config and ivr.directory.
Never imports Flask, SQLAlchemy, gunicorn, or anything in ivr.serve, ivr.store, ivr.console or
ivr.cli, and never reads the clock (the time of a call comes in as a value).
Used by the edges (serve, console, cli, timing); tests/test_layout.py holds the rule."""
