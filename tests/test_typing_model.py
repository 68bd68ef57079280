"""The typing model: deterministic per seed, shaped by character class, calibrated."""

from __future__ import annotations

import json
import statistics

import pytest

from conftest import RECORDINGS
from recorder.shell.typing_model import TypingModel

COMMAND = 'kubectl get pods -n kube-system -o wide | grep -E "flannel|coredns"'


def test_same_seed_same_delays_byte_for_byte() -> None:
    a = TypingModel(seed=11).delays(COMMAND)
    b = TypingModel(seed=11).delays(COMMAND)
    assert json.dumps(a) == json.dumps(b)
    assert TypingModel(seed=12).delays(COMMAND) != a


def test_mean_follows_cps() -> None:
    text = COMMAND * 20
    for cps in (3, 5, 10, 20):
        mean = statistics.mean(TypingModel(cps=cps).delays(text))
        assert mean == pytest.approx(1 / cps, rel=0.25), cps


def test_quicker_inside_words_than_after_spaces_and_punctuation() -> None:
    model = TypingModel(jitter=0)
    text = "kubectl get-pods"
    delays = dict(enumerate(model.delays(text)))
    inside = delays[1]  # 'u' after 'k'
    word_start = delays[8]  # 'g' after ' '
    after_dash = delays[12]  # 'p' after '-'
    assert inside < word_start and inside < after_dash


def test_zero_jitter_is_still_seeded_but_regular() -> None:
    delays = TypingModel(jitter=0, seed=1).delays("aaaaaaaaaaaaaaaaaaaa")
    # Apart from the first key and rare thinking pauses, identical context gives equal delays.
    common = statistics.mode(delays[1:])
    assert sum(1 for d in delays[1:] if d == common) >= 15


def _speaker_intervals() -> list[float]:
    out: list[float] = []
    for name in ("demo11.cast", "demo12.cast", "demo2.cast"):
        lines = (RECORDINGS / name).read_text().splitlines()
        previous = None
        for line in lines[1:]:
            t, code, data = json.loads(line)
            if code != "o":
                continue
            if len(data) == 1 and previous is not None and t - previous < 1:
                out.append(t - previous)
            previous = t
    return out


def _quantiles(values: list[float]) -> tuple[float, float, float]:
    values = sorted(values)
    n = len(values)
    return values[n // 10], values[n // 2], values[9 * n // 10]


def test_defaults_match_the_speakers_typing() -> None:
    if not RECORDINGS.is_dir():
        pytest.skip("../shared/seed/meetup-recordings is absent: no speaker recordings to compare")
    speaker = _speaker_intervals()
    assert len(speaker) > 1000
    commands = [
        line for line in (RECORDINGS / "meetup.txt").read_text().splitlines() if line.strip()
    ]
    model = TypingModel()
    ours = [d for line in commands for d in model.delays(line + "\r") if d < 1]
    names = ("p10", "median", "p90")
    for mine, theirs, name in zip(_quantiles(ours), _quantiles(speaker), names, strict=True):
        assert mine == pytest.approx(theirs, rel=0.3), name
    assert 1 / statistics.mean(ours) == pytest.approx(1 / statistics.mean(speaker), rel=0.2)
