"""Every table the service keeps. The README's "What this service stores" lists the same columns
(a test holds them equal), and the migrations in `migrations/versions` create them.

Nothing here can identify a caller or link two events of one call: counts are per local hour
and (event, dimension), closures and their log name lines and operators only."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, MetaData, String, Table

metadata = MetaData()

EVENT_LEN, DIMENSION_LEN = 32, 80
LINE_ID_LEN, OPERATOR_LEN, REASON_LEN = 64, 100, 500

counts_hourly = Table(
    "counts_hourly", metadata,
    Column("hour", DateTime(), primary_key=True),  # local wall-clock hour in the directory's zone
    Column("event", String(EVENT_LEN), primary_key=True),
    Column("dimension", String(DIMENSION_LEN), primary_key=True),
    Column("count", BigInteger(), nullable=False),
    Column("seconds", BigInteger(), nullable=False),  # talk seconds; 0 for other events
)

counts_daily = Table(
    "counts_daily", metadata,
    Column("day", Date(), primary_key=True),  # local date: hourly rows folded by `ivr db prune`
    Column("event", String(EVENT_LEN), primary_key=True),
    Column("dimension", String(DIMENSION_LEN), primary_key=True),
    Column("count", BigInteger(), nullable=False),
    Column("seconds", BigInteger(), nullable=False),
)

live_closures = Table(
    "live_closures", metadata,
    Column("line_id", String(LINE_ID_LEN), primary_key=True),
    Column("closed_at", DateTime(), nullable=False),  # UTC
    Column("until", DateTime(), nullable=True),  # UTC; NULL: until reopened
    Column("reason", String(REASON_LEN), nullable=False),
    Column("closed_by", String(OPERATOR_LEN), nullable=False),
)

closure_log = Table(
    "closure_log", metadata,
    # Its highest id is the closures' version: every change adds a row, so one cheap query
    # tells every process whether to re-read the closures.
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("at", DateTime(), nullable=False),  # UTC
    Column("action", String(8), nullable=False),  # close | reopen
    Column("line_id", String(LINE_ID_LEN), nullable=False),
    Column("until", DateTime(), nullable=True),
    Column("reason", String(REASON_LEN), nullable=False),
    Column("operator", String(OPERATOR_LEN), nullable=False),
)

line_dials = Table(
    "line_dials", metadata,
    # Per line, not per call: how many dials in a row ended without a talk, shared by every host.
    Column("line_id", String(LINE_ID_LEN), primary_key=True),
    Column("unanswered_in_a_row", Integer(), nullable=False),  # 0 after a talk
    Column("since", DateTime(), nullable=True),  # UTC: the first dial of this run without a talk
    Column("updated_at", DateTime(), nullable=False),  # UTC
)
