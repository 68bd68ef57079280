"""A seeded human typing model: per-key delays with bursts, pauses and rolled-over keys.

Each key's delay is, in seconds at the speaker's pace (then scaled by `SPEAKER.cps / cps`):

- a lognormal core: a base delay times the key's context (inside a word, a word start, a
  space, after punctuation, a symbol, a shifted key, Enter) times exp(jitter * noise), where
  the noise is an AR(1) process from key to key (normalised so that the factor's mean is 1);
- a hidden fast/slow regime, a two-state Markov chain carried from key to key: bursts of
  quick keys and short stretches of slow ones (with the noise's memory, the lag-1
  autocorrelation of real typing);
- now and then, more often at a word boundary, a hesitation (a short lognormal pause) or a
  long pause (a longer, wider one) added to the core: a continuous mixture, so no delay is
  more likely than its neighbours (no spike);
- now and then a rolled-over key, pressed before the previous one is up: 2 to 30 ms.

The pause before a step (`think`) is lognormal too: its mean the scenario's `think`, its
spread the speaker's, seeded by the step's text, so no two steps wait the same time. The
same seed and text give the same delays, byte for byte.

`SPEAKER` holds the fitted constants: `benchmarks/typing_fit.py --fit` fits them on the
speaker's own recordings (../shared/seed/meetup-recordings/demo11, demo12 and demo2.cast:
single printable characters under 1 s apart, 4,192 intervals, median 0.150 s, p10 0.070 s,
p90 0.401 s), and `tests/test_typing_model.py` checks the fit for every demo scenario.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal

# Written into each cast's provenance (`stagecast.typing.model`): casts typed by an older
# model say so, and are re-recorded to be checked against the speaker's typing.
# 1: a lognormal per key and a fixed pause range; 2: this model.
TYPING_MODEL_VERSION = 2

PUNCTUATION = frozenset("-_/.:=|,;'\"()[]{}<>$&*!?~@%^+\\`")
SHIFTED = frozenset('~!@#$%^&*()_+{}|:"<>?ABCDEFGHIJKLMNOPQRSTUVWXYZ')


@dataclass(frozen=True)
class Shape:
    """The model's constants, in seconds at its own pace (`cps`)."""

    cps: float  # its pace: 1 / the mean delay over the speaker's commands, pauses included
    base: float  # mean core delay of a key inside a word (over the regimes and the noise)
    jitter: float  # lognormal sigma of the core (the scenario's `jitter` replaces it)
    memory: float  # the core noise's AR(1) coefficient from key to key (its variance stays 1)
    # Context factors, relative to a key inside a word.
    space: float
    word_start: float
    after_punctuation: float
    symbol: float
    shift: float  # a shifted key after an unshifted one
    enter: float
    # The hidden regime: the slow one's factor (at the default jitter; scaled with jitter in
    # the log) and the chances of switching at each key.
    slow: float
    to_slow: float
    to_fast: float
    # Pauses added to the core: (probability per key inside a word or before a space,
    # probability at a word boundary: a word start, after punctuation, a symbol, Enter;
    # median, lognormal sigma).
    hesitation: tuple[float, float, float, float]
    pause: tuple[float, float, float, float]
    # The think pause before a step: its lognormal sigma (its mean is the scenario's `think`).
    think_sigma: float
    # Rolled-over keys: probability per key, then a delay uniform in this range.
    rollover: float
    rollover_range: tuple[float, float] = field(default=(0.002, 0.03))

    def factor(self, prev: str, ch: str) -> float:
        """How much slower than a key inside a word `ch` is, typed after `prev`."""
        factor = 1.0 if (kind := context(prev, ch)) == "in_word" else getattr(self, kind)
        # Shift is pressed once for a run of shifted keys (CNI_COMMAND): the first is slower.
        return factor * self.shift if ch in SHIFTED and prev not in SHIFTED else factor


Context = Literal["in_word", "space", "word_start", "after_punctuation", "symbol", "enter"]


def context(prev: str, ch: str) -> Context:
    """The kind of key `ch` is after `prev` (`prev` is "" for a line's first key)."""
    if ch in "\r\n":
        return "enter"
    if ch == " ":
        return "space"
    if prev in PUNCTUATION:
        return "after_punctuation"
    if prev == "" or prev == " ":
        return "word_start"
    if ch.isalnum() and prev.isalnum():
        return "in_word"
    return "symbol"


# Fitted by `benchmarks/typing_fit.py --fit` on the speaker's recordings (see the module
# docstring and the script's). The context factors are ratios of the speaker's median
# key-to-key intervals by context (Enter's: from the last key to the echoed newline);
# `think_sigma` is the spread of their gaps from a prompt to the first key. The rest comes
# from a search: the model types the speaker's own commands (meetup.txt) and every demo
# scenario, with other seeds than the scenarios' own, and is brought closest to the speaker
# in KS distance, rank lag-1 autocorrelation, share of gaps over 0.5 s (each per text and
# seed), the distribution's percentiles, the share under 30 ms and the share of key-to-key
# gaps of 1 s or more. `cps` is the resulting pace: 1 / the mean delay, pauses included.
SPEAKER = Shape(
    cps=3.93,
    base=0.162,
    jitter=0.3873,
    memory=0.2061,
    space=1.05,
    word_start=1.49,
    after_punctuation=1.68,
    symbol=1.82,
    shift=1.69,
    enter=2.11,
    slow=4.0,
    to_slow=0.0429,
    to_fast=0.5467,
    hesitation=(0.0236, 0.0878, 0.585, 0.3357),
    pause=(0.0058, 0.0701, 0.8547, 0.4532),
    think_sigma=0.94,
    rollover=0.0174,
)

DEFAULT_CPS = SPEAKER.cps
DEFAULT_JITTER = SPEAKER.jitter
# The speaker's mean pause from a prompt to the first key of the next command: the lognormal
# with `think_sigma` through their geometric mean (1.30 s, over 81 prompts).
DEFAULT_THINK = 2.02


@dataclass(frozen=True)
class TypingModel:
    cps: float = DEFAULT_CPS
    jitter: float = DEFAULT_JITTER
    seed: int = 0
    shape: Shape = SPEAKER

    @property
    def scale(self) -> float:
        """Every delay of the shape is multiplied by this: 1 at the shape's own pace."""
        return self.shape.cps / self.cps

    def delays(self, text: str) -> list[float]:
        """Delay before each character of `text`; the same seed and text give the same list."""
        shape = self.shape
        rng = random.Random(f"{self.seed}\x00{text}")
        # The regime's factor follows the jitter (in the log), and both it and the core
        # noise are divided by their means: the mean delay does not depend on the jitter.
        spread = self.jitter / shape.jitter if shape.jitter else 0.0
        slow = shape.slow**spread
        slow_share = shape.to_slow / (shape.to_slow + shape.to_fast)
        regime_mean = 1 - slow_share + slow_share * slow
        noise_mean = math.exp(self.jitter**2 / 2)
        core = shape.base / regime_mean / noise_mean
        in_slow = rng.random() < slow_share
        noise = rng.gauss(0.0, 1.0)
        innovation = math.sqrt(1 - shape.memory**2)
        out: list[float] = []
        prev = ""
        for ch in text:
            switch = rng.random()
            in_slow = switch >= shape.to_fast if in_slow else switch < shape.to_slow
            noise = shape.memory * noise + innovation * rng.gauss(0.0, 1.0)
            delay = core * shape.factor(prev, ch) * math.exp(self.jitter * noise)
            if in_slow:
                delay *= slow
            if prev and ch not in "\r\n" and rng.random() < shape.rollover:
                delay = rng.uniform(*shape.rollover_range)
            else:
                boundary = context(prev, ch) not in ("in_word", "space")
                for within, at_boundary, median, sigma in (shape.hesitation, shape.pause):
                    if rng.random() < (at_boundary if boundary else within):
                        delay += rng.lognormvariate(math.log(median), sigma)
            out.append(round(delay * self.scale, 6))
            prev = ch
        return out

    def think(self, mean: float, key: str) -> float:
        """The pause before a step typed as `key`: lognormal, with this mean (already at the
        scenario's pace) and the shape's `think_sigma`; seeded by the seed and `key`."""
        if mean <= 0:
            return 0.0
        sigma = self.shape.think_sigma
        rng = random.Random(f"{self.seed}\x00think\x00{key}")
        return round(rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma), 6)
