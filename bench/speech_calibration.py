"""The spoken-seconds estimate against espeak-ng, over every sentence of every prompt.

Prints the error of the committed coefficients (ivr/timing/spoken_seconds.py) and a fresh least-squares
fit per language, to paste there when the prompts have changed a lot. Needs espeak-ng (Debian
package `espeak-ng`; `make bench` installs it).

    .venv/bin/python bench/speech_calibration.py
"""
from __future__ import annotations

import statistics
import sys
from collections import defaultdict

from ivr.timing import espeak
from ivr.timing.caller_time import _SENTENCE_END, filled_prompts
from ivr.config.settings import Settings
from ivr.config.loading import load_config
from ivr.timing.spoken_seconds import Coefficients, Estimate, features


def corpus() -> list[tuple[str, str, str]]:
    """(voice language, prompt key, sentence): sentences, as the caller-time walk times them."""
    settings = Settings.from_env()
    config = load_config(settings.data_dir, settings.prompts_dir)
    return [(language, key, part) for _, key, language, text in filled_prompts(config)
            for part in _SENTENCE_END.split(text) if part.strip()]


def solve(rows: list[list[float]], targets: list[float]) -> list[float]:
    """Least squares by the normal equations (five unknowns: no library needed)."""
    n = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]
    b = [sum(r[i] * t for r, t in zip(rows, targets)) for i in range(n)]
    for col in range(n):  # Gauss-Jordan with partial pivoting
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot], b[col], b[pivot] = a[pivot], a[col], b[pivot], b[col]
        for r in range(n):
            if r != col and a[col][col]:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col])]
                b[r] -= f * b[col]
    return [b[i] / a[i][i] if a[i][i] else 0.0 for i in range(n)]


def main() -> int:
    if not espeak.available():
        print("espeak-ng is not installed: apt-get install espeak-ng", file=sys.stderr)
        return 2
    engine, estimate = espeak.Espeak(), Estimate()
    by_language: dict[str, list[tuple[str, str, float, float]]] = defaultdict(list)
    for language, key, sentence in corpus():
        by_language[language].append((key, sentence, engine.seconds(sentence, language),
                                      estimate.seconds(sentence, language)))
    for language, items in sorted(by_language.items()):
        errors = [est - real for _, _, real, est in items]
        relative = [abs(e) / real for e, (_, _, real, _) in zip(errors, items)]
        total_real = sum(real for _, _, real, _ in items)
        total_est = sum(est for _, _, _, est in items)
        worst = max(items, key=lambda item: abs(item[3] - item[2]))
        print(f"{language}: {len(items)} sentences, espeak-ng {total_real:.0f} s, estimate {total_est:.0f} s "
              f"({(total_est / total_real - 1) * 100:+.1f} % in total); per sentence: mean abs error "
              f"{statistics.mean(map(abs, errors)):.2f} s, max {max(map(abs, errors)):.2f} s "
              f"({worst[0]}), mean relative {statistics.mean(relative) * 100:.1f} %")
        rows = [[*features(sentence, language), 1.0] for _, sentence, _, _ in items]
        fit = solve(rows, [real for _, _, real, _ in items])
        print(f"  fresh fit: {Coefficients(*[round(x, 4) for x in fit])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
