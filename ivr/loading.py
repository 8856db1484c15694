"""The only place configuration files are read: YAML -> validated, frozen objects."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .directory import Directory
from .directory_loader import build_directory
from .errors import ConfigError, ConfigInvalid
from .yamlfile import read_yaml

HOTLINES_FILE = "hotlines.yaml"


@dataclass(frozen=True)
class Config:
    directory: Directory


def _label(path: Path) -> str:
    """How a file is named in messages: relative to the working folder where that is shorter."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_directory(data_dir: Path) -> Directory:
    doc = read_yaml(data_dir / HOTLINES_FILE, _label(data_dir / HOTLINES_FILE))
    directory = build_directory(doc) if not doc.errors else None
    if doc.errors or directory is None:
        raise ConfigInvalid(doc.errors or [ConfigError(doc.file, "", "could not be loaded")])
    return directory
