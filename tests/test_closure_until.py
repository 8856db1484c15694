"""Issue 13, section 5, in the call: a line closed by hand counts as the next to open from the
end of its closure (its first regular opening at or after it), and never while it is closed
until reopened. First the pure decision, as a table; then played calls through the signed
webhooks with the closure in the store (SQLite and PostgreSQL); then the closures kept on disk.

All at Wednesday 25 November 2026, 07:00 in Berlin: no line is open. Regularly the abuse
helpline opens first for everyone (09:00), the parents' line at 09:00, the children's line at
14:00, HateAid on Thursday at 16:00."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import Engine

from ivr.call import flow
from ivr.call.flow import CallState, Gather, Step
from ivr.call.live_closed import Closed, until_reopened, without_closed
from ivr.config.loading import Config
from ivr.call.speech import moment
from ivr.store import closures, closures_cache
from ivr.store.live import Live
from twiml_helpers import NAME_DE, SPOKEN, Call, berlin, bundled_config, make_app, prompt, texts

C = bundled_config()
NOW = berlin(2026, 11, 25, 7)
TODAY_12, TODAY_15 = berlin(2026, 11, 25, 12), berlin(2026, 11, 25, 15)
TOMORROW_17 = berlin(2026, 11, 26, 17)
REOPENED = None

# The caller's way to "when the next line opens": a key at the main menu, or silence there.
PATHS: dict[str, Callable[[Config, dt.datetime], Step]] = {
    "1": lambda config, now: flow.key_pressed(config, CallState("main", "de"), "1", now),
    "2": lambda config, now: flow.key_pressed(config, CallState("main", "de"), "2", now),
    "3": lambda config, now: flow.key_pressed(config, CallState("main", "de"), "3", now),
    "silence": lambda config, now: flow.silence(config, CallState("main", "de"), now),
}


def _next_named(step: Step) -> tuple[str, dt.datetime]:
    """The one "the next one opens <when>: <name>" of the step, as (name, when it is said)."""
    said_now = step.then.say if isinstance(step.then, Gather) else step.say  # a menu, or the last words
    [said] = [say for say in said_now if say.key == "closed.next"]
    args = dict(said.args)
    return args["name"].text, args["when"]


# closed line, until, caller path -> the line named as next, and when it opens
TABLE = [
    # the abuse helpline closed until 12:00 today: it opens at 12:00, in its Wednesday hours
    ("abuse-helpline", TODAY_12, "1", "abuse-helpline", TODAY_12),
    ("abuse-helpline", TODAY_12, "2", "parents-line", berlin(2026, 11, 25, 9)),
    ("abuse-helpline", TODAY_12, "3", "abuse-helpline", TODAY_12),
    ("abuse-helpline", TODAY_12, "silence", "abuse-helpline", TODAY_12),
    # until 15:00 today, after its Wednesday hours: Thursday 15:00, unless another line is sooner
    ("abuse-helpline", TODAY_15, "1", "kids-line", berlin(2026, 11, 25, 14)),
    ("abuse-helpline", TODAY_15, "2", "parents-line", berlin(2026, 11, 25, 9)),
    ("abuse-helpline", TODAY_15, "3", "abuse-helpline", berlin(2026, 11, 26, 15)),
    ("abuse-helpline", TODAY_15, "silence", "abuse-helpline", berlin(2026, 11, 26, 15)),
    # until tomorrow 17:00, within its Thursday hours: HateAid opens before, at 16:00
    ("abuse-helpline", TOMORROW_17, "1", "kids-line", berlin(2026, 11, 25, 14)),
    ("abuse-helpline", TOMORROW_17, "2", "parents-line", berlin(2026, 11, 25, 9)),
    ("abuse-helpline", TOMORROW_17, "3", "hateaid", berlin(2026, 11, 26, 16)),
    ("abuse-helpline", TOMORROW_17, "silence", "hateaid", berlin(2026, 11, 26, 16)),
    # until reopened: never named
    ("abuse-helpline", REOPENED, "1", "kids-line", berlin(2026, 11, 25, 14)),
    ("abuse-helpline", REOPENED, "2", "parents-line", berlin(2026, 11, 25, 9)),
    ("abuse-helpline", REOPENED, "3", "hateaid", berlin(2026, 11, 26, 16)),
    ("abuse-helpline", REOPENED, "silence", "hateaid", berlin(2026, 11, 26, 16)),
    # the parents' line itself closed: the abuse helpline at 09:00 is sooner than its end
    ("parents-line", TODAY_12, "2", "abuse-helpline", berlin(2026, 11, 25, 9)),
    ("parents-line", TOMORROW_17, "2", "abuse-helpline", berlin(2026, 11, 25, 9)),
    ("parents-line", REOPENED, "2", "abuse-helpline", berlin(2026, 11, 25, 9)),
]


@pytest.mark.parametrize("line_id, until, path, named, opens", TABLE,
                         ids=[f"{line}-until-{until:%a-%H%M}-{path}" if until else f"{line}-reopened-{path}"
                              for line, until, path, _, _ in TABLE])
def test_the_call_names_a_line_closed_by_hand_from_the_end_of_its_closure(
        line_id: str, until: dt.datetime | None, path: str, named: str, opens: dt.datetime) -> None:
    config = without_closed(C, frozenset({(line_id, until)}))
    assert _next_named(PATHS[path](config, NOW)) == (NAME_DE[named], moment(opens, NOW))


def test_the_first_end_of_two_closures_is_named() -> None:
    """A parent, both lines for parents at 09:00 closed: the parents' line until 12:00, the
    abuse helpline until reopened."""
    config = without_closed(C, frozenset({("parents-line", TODAY_12), ("abuse-helpline", REOPENED)}))
    assert _next_named(PATHS["2"](config, NOW)) == (NAME_DE["parents-line"], moment(TODAY_12, NOW))


@pytest.mark.parametrize("path", PATHS)
def test_without_a_closure_the_regular_next_opening_is_named(path: str) -> None:
    """The table's baseline: the closures above are what changes the answer."""
    expected = {"1": "abuse-helpline", "2": "parents-line", "3": "abuse-helpline", "silence": "abuse-helpline"}
    assert _next_named(PATHS[path](C, NOW)) == (NAME_DE[expected[path]], moment(berlin(2026, 11, 25, 9), NOW))


def test_a_closure_that_has_ended_closes_nothing() -> None:
    """Decided a minute after the end (before a poll has dropped it): the line is open again."""
    config = without_closed(C, frozenset({("abuse-helpline", TODAY_12)}))
    assert [line.id for line in config.index.open_lines(berlin(2026, 11, 25, 11, 59))] == []
    assert [line.id for line in config.index.open_lines(TODAY_12)] == ["abuse-helpline"]
    assert config.index.next_opening(C.directory.line("abuse-helpline"), TODAY_12) is not None


def test_the_hotlines_list_says_when_a_closed_line_opens_again() -> None:
    """Key 5 reads every line: a line closed until 12:00 "again at 12:00", not at 09:00."""
    config = without_closed(C, frozenset({("abuse-helpline", TODAY_12)}))
    step = flow.key_pressed(config, CallState("main", "de"), "5", NOW)
    [abuse] = [say for say in step.then.say
               if "name" in dict(say.args) and dict(say.args)["name"].text == NAME_DE["abuse-helpline"]]
    assert (abuse.key, dict(abuse.args)["when"]) == ("hotlines.line_closed", moment(TODAY_12, NOW))


# -- the played call, the closure in the store -------------------------------------------------

def _next_sentence(call: Call, key: str) -> str:
    call.start()
    [sentence] = [text for text in texts(call.press(key)) if text.startswith("Die nächste ist ")]
    return sentence


def _expected(line_id: str, when: str) -> str:
    return prompt("de", "closed.next", name=NAME_DE[line_id], number=" ".join(SPOKEN[line_id]), when=when)


def test_a_played_call_says_when_a_line_closed_until_a_time_opens_again(engine: Engine) -> None:
    """An adult (key 3) at Wednesday 07:00, the abuse helpline closed by hand in the store.
    Each change of the closure's end is heard from the next call on, in the same minute: the
    end is part of the answers' cache key."""
    live = Live(engine, C.directory.timezone, clock=lambda: NOW)
    app = make_app("2026-11-25T07:00", live=live)
    client = app.test_client()
    assert _next_sentence(Call(client), "3") == _expected("abuse-helpline", "heute um 9 Uhr")
    closures.close(engine, "abuse-helpline", by="Anna", now=NOW, until=TODAY_12, reason="ill")
    live.poll()
    assert _next_sentence(Call(client), "3") == _expected("abuse-helpline", "heute um 12 Uhr")
    closures.close(engine, "abuse-helpline", by="Anna", now=NOW, until=TODAY_15, reason="still ill")
    live.poll()
    assert _next_sentence(Call(client), "3") == _expected("abuse-helpline", "morgen um 15 Uhr")
    closures.close(engine, "abuse-helpline", by="Anna", now=NOW, reason="until further notice")
    live.poll()
    assert _next_sentence(Call(client), "3") == _expected("hateaid", "morgen um 16 Uhr")


# -- kept on disk across outages ---------------------------------------------------------------

def test_the_kept_closures_carry_their_end_to_a_worker_started_without_the_database(tmp_path: Path) -> None:
    path = closures_cache.path_in(tmp_path)
    kept = (closures.LiveClosure("abuse-helpline", NOW, TODAY_12, "ill", "Anna"),
            closures.LiveClosure("kids-line", NOW, None, "", "Ben"))
    closures_cache.save(path, 7, kept)
    version, found = closures_cache.load(path)
    assert version == 7
    expected: Closed = frozenset({("abuse-helpline", TODAY_12), ("kids-line", None)})
    assert closures.in_force(found, NOW) == expected
    assert closures.in_force(found, TODAY_12) == until_reopened({"kids-line"})


def test_a_kept_file_without_ends_reads_as_closed_until_reopened(tmp_path: Path) -> None:
    """An item written without "until" (an older shape) keeps its line closed until the
    database answers: the safe reading."""
    path = closures_cache.path_in(tmp_path)
    path.write_text(json.dumps({"version": 3, "closures": [
        {"line_id": "hateaid", "closed_at": "2026-11-25T06:00:00+00:00"}]}), encoding="utf-8")
    version, found = closures_cache.load(path)
    assert (version, closures.in_force(found, NOW)) == (3, until_reopened({"hateaid"}))


def test_a_kept_end_without_offset_is_refused_with_the_reason(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = closures_cache.path_in(tmp_path)
    path.write_text(json.dumps({"version": 3, "closures": [
        {"line_id": "hateaid", "closed_at": "2026-11-25T06:00:00+00:00", "until": "2026-11-25T12:00:00"}]}),
        encoding="utf-8")
    assert closures_cache.load(path) == (None, ())
    assert (f"cannot read the closures kept in {path} (ValueError: until '2026-11-25T12:00:00' has no UTC "
            f"offset; expected an aware instant); obeying only what the database says") in caplog.text


def test_a_worker_started_without_the_database_says_when_the_kept_closure_ends(tmp_path: Path) -> None:
    """The closures a worker reads from IVR_STATE_DIR at its start carry their ends into the call."""
    from sqlalchemy import create_engine
    closures_cache.save(closures_cache.path_in(tmp_path), 4,
                        (closures.LiveClosure("abuse-helpline", NOW, TODAY_12, "ill", "Anna"),))
    live = Live(create_engine("sqlite://"), C.directory.timezone, clock=lambda: NOW, state_dir=tmp_path)
    live.recall_closures()  # what start() does before the database has answered
    assert live.closed_until == frozenset({("abuse-helpline", TODAY_12)})
    client = make_app("2026-11-25T07:00", live=live).test_client()
    assert _next_sentence(Call(client), "3") == _expected("abuse-helpline", "heute um 12 Uhr")
