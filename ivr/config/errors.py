"""Configuration problems, each naming file, key path, bad value and what was expected."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigError:
    """One problem in one configuration file."""

    file: str
    path: str  # key path like "lines[2].hours.mon"; "" for the whole file
    message: str  # names the bad value and what was expected
    line: int | None = None  # 1-based YAML line, where known

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        suffix = f" (line {self.line})" if self.line else ""
        return f"{where}: {self.message}{suffix}"


class ConfigInvalid(Exception):
    """Raised when loading finds problems; carries every problem found, not just the first."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = list(errors)
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.errors)
        head = f"{count} problem{'s' if count != 1 else ''} in the configuration:"
        return "\n".join([head, *(f"  - {error}" for error in self.errors)])
