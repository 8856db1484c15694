"""Shared fixtures: the bundled directory, and temporary hotlines.yaml files for loading tests."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from ivr.config.settings import bundled_dir
from ivr.directory.directory import Directory
from ivr.config.loading import load_directory

# The store's fixtures (a throwaway PostgreSQL cluster, a database per engine), defined once so
# that the session-scoped cluster starts once for all test modules.
pytest_plugins = ["store_fixtures", "console_fixtures"]


@pytest.fixture(scope="session")
def directory() -> Directory:
    """The bundled data/hotlines.yaml, loaded and validated as `ivr serve` would."""
    return load_directory(bundled_dir("data"))


@pytest.fixture
def write_hotlines(tmp_path: Path) -> Callable[[str | bytes | dict[str, Any]], Path]:
    """Write tmp_path/hotlines.yaml from text, bytes or a dict; returns the folder to load."""

    def write(content: str | bytes | dict[str, Any]) -> Path:
        target = tmp_path / "hotlines.yaml"
        if isinstance(content, bytes):
            target.write_bytes(content)
        elif isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True),
                              encoding="utf-8")
        return tmp_path

    return write


@pytest.fixture
def one_line_directory(write_hotlines: Callable[..., Path]) -> Callable[..., Directory]:
    """Load a directory of one line, "test-line", serving everyone, with the given hours.

    Extra keyword arguments become keys of the line (closures, extra_openings, ...)."""

    def build(hours: dict[str, Any], **line_keys: Any) -> Directory:
        line = {
            "id": "test-line",
            "name": {"de": "Testleitung", "en": "Test line"},
            "phone": "+493012345678",
            "spoken": "030 12345678",
            "serves": ["young_person", "parent", "adult", "supporter"],
            "hours": hours,
            "source": "test",
            **line_keys,
        }
        best_fit = {a: ["test-line"] for a in ("young_person", "parent", "adult", "supporter", "anyone")}
        return load_directory(write_hotlines({"timezone": "Europe/Berlin", "best_fit": best_fit,
                                              "lines": [line]}))

    return build
