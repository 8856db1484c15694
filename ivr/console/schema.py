"""The console's tables: operator accounts, the log of changes to them, login budgets.

They join the store's MetaData, so the store's schema test and the README's "What this service
stores" see them like the store's own tables; migration 0002 creates them. Names and roles of
operators only: nothing about a call."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table

from ..store.schema import OPERATOR_LEN, metadata

ROLE_LEN, HASH_LEN = 16, 255
KEY_LEN = 16 + OPERATOR_LEN  # "account:" and the longest name a login form takes

operators = Table(
    "operators", metadata,
    Column("name", String(OPERATOR_LEN), primary_key=True),
    Column("role", String(ROLE_LEN), nullable=False),  # viewer | editor
    Column("password_hash", String(HASH_LEN), nullable=False),  # scrypt, salted (werkzeug)
    Column("created_at", DateTime(), nullable=False),  # UTC
    # Raised at logout: every session signed with an older version ends, on every worker.
    Column("session_version", Integer(), nullable=False, server_default="0"),
)

# Login budgets (throttle.py), by key: "address:<client address>", "account:<name tried>" or
# "device:<id of a browser's device cookie>". Nothing about a call.
login_budgets = Table(
    "login_budgets", metadata,
    Column("key", String(KEY_LEN), primary_key=True),
    Column("tries", Integer(), nullable=False),  # in a row, without a good password
    Column("last_try", DateTime(), nullable=False),  # UTC
)

operator_log = Table(
    "operator_log", metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("at", DateTime(), nullable=False),  # UTC
    Column("action", String(16), nullable=False),  # user_add | user_remove | user_password
    Column("name", String(OPERATOR_LEN), nullable=False),  # whose account
    Column("role", String(ROLE_LEN), nullable=False),
    Column("operator", String(OPERATOR_LEN), nullable=False),  # who did it
)
