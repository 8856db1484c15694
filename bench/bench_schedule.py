"""Who is open, over 10,000 lines: OpenIndex.open_lines against the naive per-line scan.

    .venv/bin/python bench/bench_schedule.py            # 10,000 lines, 20,000 indexed queries
    .venv/bin/python bench/bench_schedule.py --quick    # the same directory, fewer queries
    .venv/bin/python bench/bench_schedule.py --bundled  # data/hotlines.yaml (4 lines) instead

Builds a directory of random lines in Python (seeded, so every run measures the same
directory): seed-like weekly hours (weekday daytime shifts, split days, a few evening lines that
cross midnight, a few around the clock), who they serve, regional holidays for some, Christmas
and New Year's Eve closures and holidays off for most, an occasional extra opening; best-fit
orders for every audience and for "anyone"; one zone (Europe/Berlin). Then, on random instants
of 2026-2027 and random audiences, times both ways of answering "who is open now, best fit
first" in the same run, checks that they agree, and prints microseconds per query and the ratio.

Standard library plus the project only. Times are wall-clock (time.perf_counter_ns) on whatever
else the machine is doing: compare figures from one run, not across machines.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

# the checkout, if the package is not installed; PYTHONPATH (a candidate checkout) still wins
sys.path.append(str(Path(__file__).resolve().parent.parent))

from ivr.directory.directory import ANYONE, AUDIENCES, Closure, Directory, ExtraOpening, Interval, Line  # noqa: E402
from ivr.directory.schedule import OpenIndex, is_open  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
STATES = ("BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH")
H = 60


def _weekly(rng: random.Random) -> tuple[tuple[Interval, ...], ...]:
    """Weekly hours shaped like the seed's: daytime shifts on some weekdays, sometimes split."""
    kind = rng.random()
    if kind < 0.01:  # around the clock
        return tuple((Interval(0, 24 * H),) for _ in range(7))
    if kind < 0.06:  # evening line that crosses midnight, e.g. "20:00-02:00+1"
        days = rng.sample(range(7), rng.randint(2, 7))
        start = rng.choice((18, 19, 20, 21, 22)) * H
        return tuple((Interval(start, 24 * H + rng.choice((0, 1, 2, 3)) * H + H),) if d in days else ()
                     for d in range(7))
    days = rng.choice(([0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5], [0, 2, 4], [1, 3], [0], [0, 1, 3],
                       sorted(rng.sample(range(7), rng.randint(1, 6)))))
    week: list[tuple[Interval, ...]] = []
    for d in range(7):
        if d not in days:
            week.append(())
            continue
        start = rng.choice((8, 9, 9, 10, 14, 15, 16)) * H + rng.choice((0, 0, 0, 30))
        end = min(start + rng.choice((3, 4, 5, 6, 8)) * H, 22 * H)
        if rng.random() < 0.1 and end + 2 * H <= 22 * H:  # a split day: morning and evening
            week.append((Interval(start, end), Interval(end + H, min(end + 4 * H, 22 * H))))
        else:
            week.append((Interval(start, end),))
    return tuple(week)


def build_directory(count: int, seed: int) -> Directory:
    rng = random.Random(seed)
    lines: list[Line] = []
    for n in range(count):
        closures: list[Closure] = []
        if rng.random() < 0.6:
            closures += [Closure(dt.date(y, 12, 24), dt.date(y, 12, 24), "Christmas Eve") for y in (2026, 2027)]
            closures += [Closure(dt.date(y, 12, 31), dt.date(y, 12, 31), "New Year's Eve") for y in (2026, 2027)]
        if rng.random() < 0.2:
            first = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(700))
            closures.append(Closure(first, first + dt.timedelta(days=rng.randint(6, 20)), "team holiday"))
        extras = []
        if rng.random() < 0.05:
            day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(730))
            start = rng.choice((10, 12, 18)) * H
            extras.append(ExtraOpening(day, Interval(start, start + 3 * H), "campaign day"))
        line_id = f"line-{n:05d}"
        lines.append(Line(
            id=line_id, name={"de": line_id, "en": line_id}, phone=f"+49800{n:07d}",
            spoken=f"0800 {n:07d}", serves=frozenset(rng.sample(AUDIENCES, rng.randint(1, 4))),
            timezone=BERLIN, weekly=_weekly(rng), public_holidays="closed" if rng.random() < 0.9 else "open",
            holiday_subdivision=rng.choice(STATES) if rng.random() < 0.3 else None,
            closures=tuple(closures), extra_openings=tuple(extras),
        ))
    best_fit: dict[str, tuple[str, ...]] = {}
    for audience in AUDIENCES:
        serving = [line.id for line in lines if audience in line.serves]
        rng.shuffle(serving)
        best_fit[audience] = tuple(serving)
    everyone = [line.id for line in lines]
    rng.shuffle(everyone)
    best_fit[ANYONE] = tuple(everyone)
    return Directory(BERLIN, tuple(lines), best_fit, (), {line.id: line for line in lines})


def random_queries(count: int, seed: int) -> list[tuple[dt.datetime, str]]:
    """Instants spread over 2026-2027 (any minute, in UTC) with a random audience each."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    span = 2 * 365 * 24 * 3600
    audiences = (*AUDIENCES, ANYONE)
    return [(start + dt.timedelta(seconds=rng.randrange(span)), rng.choice(audiences)) for _ in range(count)]


def naive(directory: Directory, at: dt.datetime, audience: str) -> tuple[Line, ...]:
    """The baseline: every line that serves the audience, best fit first, asked one by one."""
    return tuple(line for line in directory.ranked(audience) if is_open(line, at))


def _time(fn, queries: list[tuple[dt.datetime, str]]) -> tuple[list[float], list[int]]:
    """Microseconds per query, one measurement each; and how many lines each answer held."""
    micros, sizes = [], []
    for at, audience in queries:
        t0 = time.perf_counter_ns()
        found = fn(at, audience)
        micros.append((time.perf_counter_ns() - t0) / 1000)
        sizes.append(len(found))
    return micros, sizes


def ordinary_weekday(count: int, seed: int) -> list[tuple[dt.datetime, str]]:
    """What a running service asks: "now" on an ordinary weekday (no holiday), 08:00-20:00."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 11, 24, 8, tzinfo=BERLIN)
    audiences = (*AUDIENCES, ANYONE)
    return [(start + dt.timedelta(seconds=rng.randrange(12 * 3600)), rng.choice(audiences)) for _ in range(count)]


def _verdict(micros: float) -> str:
    if micros < 500:
        return "well under a millisecond"
    return "under a millisecond" if micros < 1000 else "NOT under a millisecond"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer queries; building the index still takes its seconds")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--bundled", action="store_true", help="data/hotlines.yaml instead of random lines")
    args = parser.parse_args(argv)
    indexed_count, naive_count = (2_000, 15) if args.quick else (20_000, 60)

    t0 = time.perf_counter()
    if args.bundled:
        from ivr.config.settings import bundled_dir
        from ivr.config.loading import load_directory
        directory = load_directory(bundled_dir("data"))
        naive_count = indexed_count // 10  # cheap with four lines
    else:
        directory = build_directory(args.lines, args.seed)
    built = time.perf_counter() - t0
    args.lines = len(directory.lines)
    print(f"Schedule benchmark: {args.lines:,} lines{' (bundled)' if args.bundled else ''}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {'quick' if args.quick else 'full'} run")
    t0 = time.perf_counter()
    index = OpenIndex(directory)
    indexed_build = time.perf_counter() - t0
    print(f"  directory built in {built:.1f} s; OpenIndex built in {indexed_build:.1f} s (once, at start-up)")

    queries = random_queries(indexed_count, args.seed + 1)
    for at, audience in queries[:200]:  # warm up: holiday calendars fill their years lazily
        index.open_lines(at, audience)
    index_us, sizes = _time(index.open_lines, queries)
    weekday = ordinary_weekday(indexed_count // 4, args.seed + 2)
    weekday_us, _ = _time(index.open_lines, weekday)
    baseline = queries[:naive_count]
    naive_us, _ = _time(lambda at, audience: naive(directory, at, audience), baseline)

    # the two must agree, or the speed means nothing
    mismatches = sum(index.open_lines(at, a) != naive(directory, at, a) for at, a in baseline + weekday[:naive_count])
    print(f"  answers checked against the naive scan on {len(baseline) + min(naive_count, len(weekday))} "
          f"queries: {'all agree' if not mismatches else f'{mismatches} DIFFER'}")
    print(f"  lines open per answer: mean {statistics.fmean(sizes):,.1f}, max {max(sizes)} of up to {args.lines:,}")
    print()
    print(f"  {'per query, microseconds':38} {'queries':>8} {'mean':>8} {'median':>8} {'p99':>8}")
    for label, us in (("OpenIndex, any time 2026-2027", index_us),
                      ("OpenIndex, Tue 24 Nov 2026 08-20h", weekday_us),
                      ("naive is_open scan, any time", naive_us)):
        print(f"  {label:38} {len(us):>8} {statistics.fmean(us):>8.0f} {statistics.median(us):>8.0f} "
              f"{_p(us, 0.99):>8.0f}")
    print()
    mean_index, mean_naive = statistics.fmean(index_us), statistics.fmean(naive_us)
    print(f"  speed-up: {mean_naive / mean_index:,.0f}x (mean naive / mean OpenIndex, same instants, same run)")
    for label, value in (("median", statistics.median(index_us)), ("mean", mean_index), ("p99", _p(index_us, 0.99))):
        print(f"  OpenIndex {label:6} {value / 1000:6.3f} ms: {_verdict(value)}")
    return 0 if not mismatches else 1


if __name__ == "__main__":
    sys.exit(main())
