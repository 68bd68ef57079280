"""A seeded human typing model: per-key delays that depend on the kind of character.

Defaults are calibrated on the speaker's own recordings (single-character output events
under 1 s apart in demo11/12/2.cast: median 0.15 s, p10 0.07 s, p90 0.40 s, about 5
characters/s); tests/test_typing_model.py checks the fit against those files.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

PUNCTUATION = set("-_/.:=|,;'\"()[]{}<>$&*!?~@%^+\\`")
SHIFTED = set('~!@#$%^&*()_+{}|:"<>?') | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Relative speed by context: fast inside a word, slow at word starts and symbols.
IN_WORD = 0.75
WORD_START = 1.35
AFTER_PUNCTUATION = 1.25
SPACE = 1.0
SHIFT_EXTRA = 1.2
ENTER = 2.2
# Occasional "thinking" pauses.
PAUSE_PROBABILITY = 0.02
PAUSE_RANGE = (0.6, 1.4)


@dataclass(frozen=True)
class TypingModel:
    cps: float = 5.0
    jitter: float = 0.55
    seed: int = 0

    def _factor(self, prev: str, ch: str) -> float:
        if ch in "\r\n":
            return ENTER
        if ch == " ":
            factor = SPACE
        elif prev in PUNCTUATION:
            factor = AFTER_PUNCTUATION
        elif prev == "" or prev == " ":
            factor = WORD_START
        elif ch.isalnum() and prev.isalnum():
            factor = IN_WORD
        else:
            factor = AFTER_PUNCTUATION
        if ch in SHIFTED:
            factor *= SHIFT_EXTRA
        return factor

    def delays(self, text: str) -> list[float]:
        """Delay before each character of `text`; the same seed and text give the same list."""
        rng = random.Random(f"{self.seed}\x00{text}")
        # Normalise so that the mean delay over typical text is 1/cps.
        lognormal_mean = math.exp(self.jitter**2 / 2)
        pause_mean = PAUSE_PROBABILITY * sum(PAUSE_RANGE) / 2
        base = max(1 / self.cps - pause_mean * (5.0 / self.cps) / 1.0, 0.001) / lognormal_mean
        base /= 0.98  # mean class factor over shell commands
        out: list[float] = []
        prev = ""
        for ch in text:
            delay = base * self._factor(prev, ch) * rng.lognormvariate(0, self.jitter)
            if rng.random() < PAUSE_PROBABILITY:
                delay += rng.uniform(*PAUSE_RANGE) * (5.0 / self.cps)
            out.append(round(delay, 6))
            prev = ch
        return out
