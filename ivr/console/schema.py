"""The console's tables: operator accounts and the log of changes to them.

They join the store's MetaData, so the store's schema test and the README's "What this service
stores" see them like the store's own tables; migration 0002 creates them. Names and roles of
operators only: nothing about a call."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table

from ..store.schema import OPERATOR_LEN, metadata

ROLE_LEN, HASH_LEN = 16, 255

operators = Table(
    "operators", metadata,
    Column("name", String(OPERATOR_LEN), primary_key=True),
    Column("role", String(ROLE_LEN), nullable=False),  # viewer | editor
    Column("password_hash", String(HASH_LEN), nullable=False),  # scrypt, salted (werkzeug)
    Column("created_at", DateTime(), nullable=False),  # UTC
    # Login throttling per account: counted across every process that shares the database.
    Column("failed_logins", Integer(), nullable=False),
    Column("locked_until", DateTime(), nullable=True),  # UTC
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
