"""The safety net: loading a verified cast against a scenario, segments, and timed playback."""

from __future__ import annotations

import json
import os
import select
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, scenario_text
from player.live.safety_net import SafetyNet, SafetyNetError
from recorder.scenario.loader import LoadedScenario, load_scenario

TOUR_CAST = ROOT / "casts" / "tour.cast"
TOUR_YAML = ROOT / "scenarios" / "tour.yaml"
SKIP, QUIT = b"\x06", b"\x11"

SCENARIO = """
steps:
  - marker: One
    run: echo one
  - marker: Two
    run: echo two
"""
LABELS = ["One", "Two"]


def labels_of(loaded: LoadedScenario) -> list[str]:
    return [s.label() for s in loaded.scenario.steps if not s.hidden]


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedScenario:
    path = tmp_path / "small.yaml"
    path.write_text(scenario_text(SCENARIO))
    return load_scenario(path)


def write_cast(
    path: Path,
    events: list[list[Any]],
    loaded: LoadedScenario | None = None,
    *,
    provenance: dict[str, Any] | None = None,
    idle_time_limit: float | None = None,
) -> Path:
    """An asciicast v2 file as `stagecast record` writes it, by hand."""
    header: dict[str, Any] = {"version": 2, "width": 80, "height": 24}
    if provenance is None and loaded is not None:
        provenance = {
            "verified": True,
            "scenario": loaded.path.name,
            "scenario_sha256": loaded.sha256,
            "steps": [],
        }
    if provenance is not None:
        header["stagecast"] = provenance
    if idle_time_limit is not None:
        header["idle_time_limit"] = idle_time_limit
    lines = [json.dumps(header), *(json.dumps(e) for e in events)]
    path.write_text("\n".join(lines) + "\n")
    return path


# Output before the first marker, two steps, and a trailing prompt: times as recorded.
EVENTS = [
    [0.0, "o", "test$ "],
    [0.1, "m", "One"],
    [0.2, "o", "echo one"],
    [0.5, "o", "\r\none\r\n"],
    [0.6, "o", "test$ "],
    [1.0, "m", "Two"],
    [1.3, "o", "echo two"],
    [1.4, "o", "\r\ntwo\r\n"],
    [1.5, "o", "test$ "],
]


@pytest.fixture
def small(tmp_path: Path, loaded: LoadedScenario) -> SafetyNet:
    return SafetyNet.load(write_cast(tmp_path / "small.cast", EVENTS, loaded), loaded, LABELS)


class Keys:
    """The presenter's keyboard as a real pipe: poll_key waits on it with select."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self.polls: list[float] = []

    def press(self, key: bytes) -> None:
        os.write(self.write_fd, key)

    def poll(self, timeout: float) -> bytes | None:
        self.polls.append(timeout)
        ready, _, _ = select.select([self.read_fd], [], [], timeout)
        return os.read(self.read_fd, 16) if ready else None

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


@pytest.fixture
def keys() -> Iterator[Keys]:
    k = Keys()
    yield k
    k.close()


def collector() -> tuple[list[str], Callable[[str], None]]:
    written: list[str] = []
    return written, written.append


def one_line_error(cast: Path, loaded: LoadedScenario, labels: list[str]) -> str:
    with pytest.raises(SafetyNetError) as info:
        SafetyNet.load(cast, loaded, labels)
    message = str(info.value)
    assert "\n" not in message
    assert str(cast) in message
    return message


# -- errors ------------------------------------------------------------------------------


def test_missing_cast(tmp_path: Path, loaded: LoadedScenario) -> None:
    message = one_line_error(tmp_path / "none.cast", loaded, LABELS)
    assert "no verified cast to fall back on" in message
    assert f"stagecast record {loaded.path}" in message
    assert "--no-fallback" in message


def test_missing_default_cast_names_no_output_path(
    tmp_path: Path, loaded: LoadedScenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default cast path is relative to the current directory
    message = one_line_error(Path("casts/small.cast"), loaded, LABELS)
    assert f"`stagecast record {loaded.path}`" in message


@pytest.mark.parametrize(
    "content",
    [
        "this is not json\n",
        "",
        '{"version": 2, "width": 80, "height": 24}\n[0.1, "o"\n',
        '{"version": 1, "width": 80, "height": 24, "stdout": [[0.1, "hi"]]}\n',
    ],
    ids=["text", "empty", "broken-event", "v1"],
)
def test_unreadable_cast(tmp_path: Path, loaded: LoadedScenario, content: str) -> None:
    cast = tmp_path / "bad.cast"
    cast.write_text(content)
    message = one_line_error(cast, loaded, LABELS)
    assert "asciicast v1" in message  # not a v1/v2/v3 cast, or a v1 without markers
    assert "stagecast record" in message


def test_cast_is_a_directory(tmp_path: Path, loaded: LoadedScenario) -> None:
    cast = tmp_path / "dir.cast"
    cast.mkdir()
    assert "cannot read it" in one_line_error(cast, loaded, LABELS)


def test_no_provenance(tmp_path: Path, loaded: LoadedScenario) -> None:
    cast = write_cast(tmp_path / "plain.cast", EVENTS)  # a plain asciinema recording
    assert "is not a verified cast" in one_line_error(cast, loaded, LABELS)


def test_failed_recording(tmp_path: Path, loaded: LoadedScenario) -> None:
    provenance = {"verified": False, "scenario_sha256": loaded.sha256}
    cast = write_cast(tmp_path / "failed.cast", EVENTS, provenance=provenance)
    message = one_line_error(cast, loaded, LABELS)
    assert "is not a verified cast" in message
    assert "record it again" in message


def test_marker_text_differs(tmp_path: Path, loaded: LoadedScenario) -> None:
    cast = write_cast(tmp_path / "small.cast", EVENTS, loaded)
    message = one_line_error(cast, loaded, ["One", "Deux"])
    assert "marker 2" in message and "'Deux'" in message and "'Two'" in message
    assert "record it again" in message


def test_fewer_markers_than_steps(tmp_path: Path, loaded: LoadedScenario) -> None:
    cast = write_cast(tmp_path / "small.cast", EVENTS, loaded)
    message = one_line_error(cast, loaded, [*LABELS, "Three"])
    assert "2 markers" in message and "expects 3" in message and "'Three'" in message


def test_more_markers_than_steps(tmp_path: Path, loaded: LoadedScenario) -> None:
    cast = write_cast(tmp_path / "small.cast", EVENTS, loaded)
    message = one_line_error(cast, loaded, ["One"])
    assert "2 markers" in message and "expects 1" in message and "'Two'" in message


# -- the real tour cast --------------------------------------------------------------------


def raw_events(path: Path) -> list[list[Any]]:
    """The cast's events straight from its JSON lines, independent of the player's reader."""
    return [json.loads(line) for line in path.read_text().splitlines()[1:] if line.strip()]


def test_tour_labels_match_and_not_stale() -> None:
    loaded = load_scenario(TOUR_YAML)
    assert not loaded.scenario.redact  # labels need no redaction for this scenario
    net = SafetyNet.load(TOUR_CAST, loaded, labels_of(loaded))
    assert not net.stale
    assert net.cast_path == TOUR_CAST
    assert len(net.planned()) == len(labels_of(loaded)) == 9
    assert [net.segment(i).label for i in range(9)] == labels_of(loaded)


def test_tour_segment_boundaries() -> None:
    loaded = load_scenario(TOUR_YAML)
    net = SafetyNet.load(TOUR_CAST, loaded, labels_of(loaded))
    events = raw_events(TOUR_CAST)
    marks = [i for i, e in enumerate(events) if e[1] == "m"]
    first = "".join(e[2] for e in events[marks[0] + 1 : marks[1]] if e[1] == "o")
    last = "".join(e[2] for e in events[marks[-1] + 1 :] if e[1] == "o")
    assert "".join(text for _, text in net.segment(0).events) == first
    assert "".join(text for _, text in net.segment(8).events) == last
    assert last.endswith(events[-1][2])  # the last segment runs to the end of the cast
    assert "Hello from stagecast" in first and "sum of 1..10 = 55" in last
    for ordinal in range(9):
        segment = net.segment(ordinal)
        times = [t for t, _ in segment.events]
        assert times == sorted(times) and times[0] >= 0
        assert times[-1] <= segment.duration
        # the tour's cap is 1.5 s: no gap, even the first from the marker, exceeds it
        gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
        assert max(gaps) <= 1.5 + 1e-9


def test_tour_stale_when_scenario_changed(tmp_path: Path) -> None:
    copy = tmp_path / "tour.yaml"
    shutil.copy(TOUR_YAML, copy)
    same = load_scenario(copy)
    assert not SafetyNet.load(TOUR_CAST, same, labels_of(same)).stale
    copy.write_text(TOUR_YAML.read_text() + "# a comment added after the recording\n")
    changed = load_scenario(copy)
    net = SafetyNet.load(TOUR_CAST, changed, labels_of(changed))  # stale is not an error
    assert net.stale


def test_tour_play_skipped_writes_the_whole_segment(keys: Keys) -> None:
    loaded = load_scenario(TOUR_YAML)
    net = SafetyNet.load(TOUR_CAST, loaded, labels_of(loaded))
    written, write = collector()
    keys.press(SKIP)  # the first output comes 0.67 s after the marker: skip while waiting
    assert net.play(0, write, keys.poll) == "skipped"
    assert written == ["".join(text for _, text in net.segment(0).events)]


# -- segments of a small cast ---------------------------------------------------------------


def test_segments(small: SafetyNet) -> None:
    one, two = small.segment(0), small.segment(1)
    assert (one.ordinal, one.label, two.ordinal, two.label) == (0, "One", 1, "Two")
    # times from the marker; the output before the first marker belongs to no segment
    assert [text for _, text in one.events] == ["echo one", "\r\none\r\n", "test$ "]
    assert [t for t, _ in one.events] == pytest.approx([0.1, 0.4, 0.5])
    assert one.duration == pytest.approx(0.9)  # to the next marker
    assert [text for _, text in two.events] == ["echo two", "\r\ntwo\r\n", "test$ "]
    assert [t for t, _ in two.events] == pytest.approx([0.3, 0.4, 0.5])
    assert two.duration == pytest.approx(0.5)  # to the last event
    assert small.planned() == pytest.approx([0.9, 0.5])


IDLE = [
    [0.0, "m", "One"],
    [5.0, "o", "slow"],
    [5.1, "o", "!"],
    [9.1, "m", "Two"],
    [9.2, "o", "two"],
]


def test_idle_capped_by_the_header(tmp_path: Path, loaded: LoadedScenario) -> None:
    cast = write_cast(tmp_path / "idle.cast", IDLE, loaded, idle_time_limit=1.0)
    net = SafetyNet.load(cast, loaded, LABELS)
    assert [t for t, _ in net.segment(0).events] == pytest.approx([1.0, 1.1])
    assert net.planned() == pytest.approx([2.1, 0.1])


def test_idle_capped_by_the_argument(tmp_path: Path, loaded: LoadedScenario) -> None:
    cast = write_cast(tmp_path / "idle.cast", IDLE, loaded, idle_time_limit=1.0)
    net = SafetyNet.load(cast, loaded, LABELS, idle_time_limit=0.5)
    assert [t for t, _ in net.segment(0).events] == pytest.approx([0.5, 0.6])
    assert net.planned() == pytest.approx([1.1, 0.1])


def test_no_idle_cap(tmp_path: Path, loaded: LoadedScenario) -> None:
    net = SafetyNet.load(write_cast(tmp_path / "idle.cast", IDLE, loaded), loaded, LABELS)
    assert [t for t, _ in net.segment(0).events] == pytest.approx([5.0, 5.1])
    assert net.planned() == pytest.approx([9.1, 0.1])


# -- play ------------------------------------------------------------------------------------


def test_play_writes_the_output_at_its_pace(small: SafetyNet, keys: Keys) -> None:
    written, write = collector()
    started = time.perf_counter()
    assert small.play(1, write, keys.poll) == "played"
    elapsed = time.perf_counter() - started
    assert "".join(written) == "echo two\r\ntwo\r\ntest$ "
    assert written == ["echo two", "\r\ntwo\r\n", "test$ "]
    assert elapsed >= 0.45  # the last event is 0.5 s after the marker
    assert keys.polls and all(timeout > 0 for timeout in keys.polls)


def test_play_gap(tmp_path: Path, loaded: LoadedScenario, keys: Keys) -> None:
    events = [[0.0, "m", "One"], [0.0, "o", "a"], [0.3, "o", "b"], [0.4, "m", "Two"]]
    net = SafetyNet.load(write_cast(tmp_path / "gap.cast", events, loaded), loaded, LABELS)
    written, write = collector()
    started = time.perf_counter()
    assert net.play(0, write, keys.poll) == "played"
    assert time.perf_counter() - started >= 0.25
    assert written == ["a", "b"]
    assert net.play(1, write, keys.poll) == "played"  # an empty segment plays at once
    assert written == ["a", "b"]


def test_other_keys_are_ignored(small: SafetyNet, keys: Keys) -> None:
    written, write = collector()
    keys.press(b"x")
    assert small.play(0, write, keys.poll) == "played"
    assert "".join(written) == "echo one\r\none\r\ntest$ "


def test_skip_writes_the_rest_at_once(tmp_path: Path, loaded: LoadedScenario, keys: Keys) -> None:
    events = [
        [0.0, "m", "One"],
        [0.0, "o", "first "],
        [3.0, "o", "second "],
        [3.1, "o", "third"],
        [4.0, "m", "Two"],
    ]
    net = SafetyNet.load(write_cast(tmp_path / "skip.cast", events, loaded), loaded, LABELS)
    written, write = collector()
    timer = threading.Timer(0.1, keys.press, args=(b"a" + SKIP,))  # with another key, same read
    timer.start()
    started = time.perf_counter()
    try:
        assert net.play(0, write, keys.poll) == "skipped"
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 2.5  # did not wait for the 3 s event
    assert written == ["first ", "second third"]


def test_quit_returns_at_once(small: SafetyNet, keys: Keys) -> None:
    written, write = collector()
    keys.press(QUIT)
    assert small.play(0, write, keys.poll) == "quit"
    assert written == []  # returned while waiting for the first event, 0.1 s in


def test_custom_keys(small: SafetyNet, keys: Keys) -> None:
    written, write = collector()
    keys.press(b"s")
    assert small.play(0, write, keys.poll, skip_keys=b"s", quit_keys=b"q") == "skipped"
    assert written == ["echo one\r\none\r\ntest$ "]
    keys.press(SKIP)  # not a skip key any more: ignored
    written.clear()
    keys.press(b"q")
    assert small.play(1, write, keys.poll, skip_keys=b"s", quit_keys=b"q") == "quit"


# -- a segment too big to keep in memory -------------------------------------------------------


def test_big_segments_wait_in_a_file_and_play_as_recorded(
    tmp_path: Path, loaded: LoadedScenario, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SEGMENT_KEEP (or KEEP_TOTAL for all), a segment is read back from a temporary file
    as it plays: the same events and times as kept in memory, even once the cast is replaced."""
    events = [[0.0, "o", "test$ "], [0.1, "m", "One"]]
    events += [[0.2 + n / 1000, "o", f"line {n}\r\n"] for n in range(200)]  # 2 KB
    events += [[1.0, "m", "Two"], [1.1, "o", "two\r\n"], [1.2, "o", "test$ "]]
    cast = write_cast(tmp_path / "big.cast", events, loaded)
    whole = SafetyNet.load(cast, loaded, LABELS)
    monkeypatch.setattr("player.live.safety_net.SEGMENT_KEEP", 1000)
    monkeypatch.setattr("player.live.safety_net.KEEP_TOTAL", 1005)
    monkeypatch.setattr("player.live.safety_net.SKIP_WRITE", 500)
    net = SafetyNet.load(cast, loaded, LABELS)
    one, two = net.segment(0), net.segment(1)
    assert one.spilled is not None and two.spilled is None  # "Two" fits what is left
    for ordinal in (0, 1):
        assert net.segment(ordinal).events == whole.segment(ordinal).events
    assert net.planned() == whole.planned()
    cast.write_text("replaced by another recording\n")  # the verified one is what plays
    assert one.events == whole.segment(0).events
    written, write = collector()
    keys.press(SKIP)
    assert net.play(0, write, keys.poll) == "skipped"
    assert "".join(written) == "".join(text for _, text in whole.segment(0).events)
    assert 1 < len(written) and all(len(piece) <= 500 + 20 for piece in written)
