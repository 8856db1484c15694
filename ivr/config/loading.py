"""The only place configuration files are read: YAML -> validated, frozen objects.

Everything is checked before anything is used, and every problem is reported at once."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ivr.config.call_loader import build_menu, build_prompts, build_voices, check_prompts_cover
from ivr.directory.directory import Directory
from ivr.config.directory_loader import build_directory
from ivr.config.errors import ConfigError, ConfigInvalid
from ivr.call.menu import Menu
from ivr.call.prompts import Prompts
from ivr.directory.schedule import OpenIndex
from ivr.config import yamlfile
from ivr.config.yamlfile import YamlDoc, read_yaml

VOICES_FILE = Path(__file__).resolve().parent / "voices.yaml"  # Twilio's voices, shipped with the code
HOTLINES_FILE = "hotlines.yaml"
MENU_FILE = "menu.yaml"


@dataclass(frozen=True)
class Config:
    directory: Directory
    menu: Menu
    prompts: Mapping[str, Prompts]
    index: OpenIndex = field(compare=False)

    def unreviewed(self) -> list[str]:
        """The languages whose prompts file says `reviewed: false`, in the menu's order."""
        return [lang for lang in self.menu.languages if not self.prompts[lang].reviewed]


def _label(path: Path) -> str:
    """How a file is named in messages: relative to the working folder where that is shorter."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read(path: Path) -> YamlDoc:
    return read_yaml(path, _label(path))


def _raise_if(docs: list[YamlDoc]) -> None:
    errors: list[ConfigError] = [error for doc in docs for error in doc.errors]
    if errors:
        raise ConfigInvalid(errors)


def load_directory(data_dir: Path) -> Directory:
    doc = _read(data_dir / HOTLINES_FILE)
    directory = build_directory(doc) if not doc.errors else None
    _raise_if([doc])
    assert directory is not None
    return directory


def load_config(data_dir: Path, prompts_dir: Path) -> Config:
    """Directory, menu and every language's prompts, cross-checked; ConfigInvalid lists all problems."""
    hotlines_doc, menu_doc = _read(data_dir / HOTLINES_FILE), _read(data_dir / MENU_FILE)
    directory = build_directory(hotlines_doc) if not hotlines_doc.errors else None
    menu = build_menu(menu_doc) if not menu_doc.errors else None
    voices_doc = yamlfile.read_yaml(VOICES_FILE, "ivr/config/voices.yaml")  # shipped with the code, not the operators'
    voices = build_voices(voices_doc) if not voices_doc.errors else {}
    docs = [hotlines_doc, menu_doc, voices_doc]
    languages = menu.languages if menu else ("de", "en")
    prompt_docs: dict[str, YamlDoc] = {}
    prompts: dict[str, Prompts] = {}
    for lang in languages:
        doc = _read(prompts_dir / f"{lang}.yaml")
        prompt_docs[lang] = doc
        docs.append(doc)
        built = build_prompts(doc, lang, voices) if not doc.errors else None
        if built:
            prompts[lang] = built
    if directory and menu:
        check_prompts_cover(prompt_docs, prompts, menu, directory)
        for number, lang in directory.numbers.items():
            if lang not in menu.languages:
                hotlines_doc.problem(f"numbers.{number}", f"{lang!r} is not a language of {MENU_FILE}; "
                                                          f"expected one of {', '.join(menu.languages)}")
    _raise_if(docs)
    assert directory is not None and menu is not None
    return Config(directory, menu, prompts, OpenIndex(directory))
