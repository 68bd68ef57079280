"""The `stagecast` argument parser: every subcommand, its flags and help."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from recorder import __version__

from . import subcommands
from .subcommands import EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, like every other bad input
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stagecast",
        description="Terminal demos that must not fail on stage: YAML scenarios run in a real "
        "shell, checked step by step, recorded as verified asciinema casts.",
    )
    parser.add_argument("--version", action="version", version=f"stagecast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    lint = sub.add_parser("lint", help="validate scenario files; run nothing")
    lint.add_argument("files", nargs="+", type=Path)
    lint.set_defaults(func=subcommands.cmd_lint)

    schema = sub.add_parser("schema", help="print the scenario JSON Schema")
    schema.set_defaults(func=subcommands.cmd_schema)

    rec = sub.add_parser("record", help="record a verified cast at human typing speed")
    rec.add_argument(
        "file",
        type=Path,
        nargs="?",
        help="scenario (default: scenarios/lab/cni-from-zero.yaml when root and its packages "
        "are here, else scenarios/tour.yaml)",
    )
    rec.add_argument("-o", "--output", type=Path, help="cast path (default casts/NAME.cast)")
    rec.add_argument(
        "--cps", type=float, help="type at this many characters/s instead (a quick preview)"
    )
    _cast_format_flag(rec)
    _output_flags(rec)
    rec.set_defaults(func=subcommands.cmd_record)

    reh = sub.add_parser("rehearse", help="run scenarios fast and check every step")
    reh.add_argument("files", nargs="+", type=Path)
    reh.add_argument("--junit", type=Path, help="write JUnit XML here")
    reh.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="compare each rehearsal with DIR/NAME.cast (the scenario's masks, timing ignored); "
        "a changed, added or removed step fails the run",
    )
    reh.add_argument(
        "--cast-dir",
        type=Path,
        metavar="DIR",
        help="also save each rehearsal's cast as DIR/NAME.cast (never verified; leak-scanned)",
    )
    _cast_format_flag(reh)
    reh.add_argument(
        "--repeat",
        type=int,
        metavar="N",
        help="run each scenario N times: per-step p50/p95 and pass rate, total against budget",
    )
    _output_flags(reh)
    reh.set_defaults(func=subcommands.cmd_rehearse)

    chk = sub.add_parser(
        "check", help="compare a scenario with the speaker's own asciinema recording"
    )
    chk.add_argument("file", type=Path, help="scenario")
    chk.add_argument(
        "--against",
        type=Path,
        required=True,
        metavar="RECORDING",
        help="asciicast v1, v2 or v3 file",
    )
    chk.add_argument("--json", action="store_true", help="print results as JSON on stdout")
    chk.set_defaults(func=subcommands.cmd_check)

    imp = sub.add_parser("import", help="draft a scenario from a hand-made asciinema recording")
    imp.add_argument("recording", type=Path, help="asciicast v1, v2 or v3 file")
    imp.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="SCENARIO",
        help="write the draft here (default: stdout); an earlier draft is replaced",
    )
    imp.add_argument(
        "--prompt",
        metavar="REGEX",
        help="the main shell's prompt, when it is not detected (e.g. '\\$ ' or 'λ ')",
    )
    imp.add_argument("--title", metavar="T", help="the scenario's title")
    imp.set_defaults(func=subcommands.cmd_import)

    dif = sub.add_parser("diff", help="compare two casts step by step, as the audience saw them")
    dif.add_argument("old", type=Path, help="asciicast v1, v2 or v3 file")
    dif.add_argument("new", type=Path, help="asciicast v1, v2 or v3 file")
    dif.add_argument(
        "--scenario", type=Path, help="mask with this scenario's masks (default: every built-in)"
    )
    dif.add_argument(
        "--timing-threshold",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="report a step whose duration changed by more than this (default 2; never fails)",
    )
    dif.add_argument("--json", action="store_true", help="print the diff as JSON on stdout")
    dif.set_defaults(func=subcommands.cmd_diff)

    play = sub.add_parser(
        "play",
        help="play a cast with chapters (keys: space pause, . step, ] next, [ previous, q quit)",
    )
    play.add_argument("cast", type=Path, help="asciicast v1, v2 or v3 file")
    play.add_argument("--speed", type=float, default=1.0, help="playback speed (default 1)")
    play.add_argument(
        "--idle-limit", type=float, help="cap idle time at S seconds (default: the cast's header)"
    )
    play.add_argument(
        "--from", dest="from_marker", metavar="MARKER", help="start at this marker (label or 1-N)"
    )
    play.add_argument("--pause-on-markers", action="store_true", help="pause at each marker")
    play.add_argument("--list", action="store_true", help="print the chapters and exit")
    play.set_defaults(func=subcommands.cmd_play)

    live = sub.add_parser(
        "live",
        help="run a scenario live, paced by the presenter's keys, with the verified cast "
        "as the safety net",
        description="Keys: any key reveals the next characters, Enter runs the command "
        "(early Enter types the rest), Tab autopilot for this step, Ctrl-N/Ctrl-P next/previous "
        "step without running, ! a free shell (Ctrl-D comes back), Ctrl-F play this step from "
        "the verified cast, Ctrl-C interrupts a running command, Ctrl-Q ends the show.",
    )
    live.add_argument("file", type=Path, help="scenario")
    live.add_argument(
        "--cast", type=Path, help="the verified cast to fall back on (default casts/NAME.cast)"
    )
    live.add_argument(
        "--no-fallback", action="store_true", help="no safety net: run without a verified cast"
    )
    live.add_argument(
        "--fallback-rest",
        action="store_true",
        help="after a fallback, play the rest of the show from the recording",
    )
    live.add_argument(
        "--reveal",
        default="1-3",
        metavar="N|LOW-HIGH",
        help="characters revealed per key (default 1-3)",
    )
    live.add_argument(
        "--auto",
        action="store_true",
        help="dress rehearsal: simulated key presses at the typing model's speed, unattended",
    )
    live.add_argument("--cps", type=float, help="typing speed for autopilot and --auto")
    live.add_argument(
        "--presenter-view",
        action="store_true",
        help="open the presenter view in a second terminal (a tmux pane, or a new window)",
    )
    live.add_argument("--socket", type=Path, help="the presenter channel's unix socket")
    live.add_argument(
        "--save-cast",
        type=Path,
        metavar="PATH",
        help="record the show as the audience saw it (fallbacks marked) to PATH, for the "
        "archive: written however the show ends; not a verified cast",
    )
    live.add_argument(
        "--keep-cluster",
        action="store_true",
        help="leave the scenario's kind cluster running afterwards",
    )
    _profile_flag(live)
    live.set_defaults(func=subcommands.cmd_live)

    scan = sub.add_parser(
        "scan",
        help="fail when a cast holds a secret, kubeconfig material, a bearer token, a private "
        "key, or an OSC 7/1337 host or cwd sequence",
    )
    scan.add_argument("casts", nargs="+", type=Path, metavar="CAST", help="asciicast files")
    scan.add_argument(
        "--scenario",
        type=Path,
        help="also look for this scenario's declared secret values (env: {from_env, secret})",
    )
    scan.set_defaults(func=subcommands.cmd_scan)

    up = sub.add_parser("upload", help="upload a verified cast to an asciinema server")
    up.add_argument("cast", type=Path, help="asciicast file")
    up.add_argument(
        "--server",
        metavar="URL",
        help="asciinema server (default: asciinema's config, https://asciinema.org)",
    )
    up.add_argument(
        "--scenario",
        type=Path,
        help="also look for this scenario's declared secret values (env: {from_env, secret})",
    )
    up.add_argument(
        "--force",
        action="store_true",
        help="upload an unverified cast, or one naming secrets that cannot be checked for "
        "(the leak scan still runs)",
    )
    up.set_defaults(func=subcommands.cmd_upload)

    web = sub.add_parser("site", help="build a static site of casts that opens from file://")
    web.add_argument("casts_dir", type=Path, metavar="CASTS_DIR")
    web.add_argument("-o", "--output", type=Path, default=Path("site"), metavar="OUT_DIR")
    web.add_argument(
        "--idle-limit",
        type=float,
        metavar="SECONDS",
        help="cut every idle gap to SECONDS (default: the cast's idle_time_limit, else none)",
    )
    web.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first cast that cannot be read, or whose pictures cannot be rendered "
        "(exit 2), instead of leaving it out (or its pictures)",
    )
    web.add_argument(
        "--no-pictures",
        dest="pictures",
        action="store_false",
        help="no stills or GIFs (by default each chapter's still is its thumbnail, with a GIF)",
    )
    web.add_argument(
        "--gif-max",
        type=float,
        metavar="SECONDS",
        help="no GIF of a chapter or a whole cast that plays longer than SECONDS, idle-capped "
        "(default 600; 0: stills only)",
    )
    web.set_defaults(func=subcommands.cmd_site)

    ren = sub.add_parser(
        "render",
        help="render a cast, or one chapter, to a GIF, SVG, PNG, MP4 or WebM",
        description="Plays the cast through a terminal emulator (pyte) and draws what it "
        "showed: colours, bold, wide characters and the cursor as they were.",
    )
    ren.add_argument("cast", type=Path, help="asciicast v1, v2 or v3 file")
    ren.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT",
        help="OUT.gif, .svg (animated), .png (a still), .mp4 or .webm: the extension decides",
    )
    ren.add_argument(
        "--chapter",
        metavar="LABEL",
        help="only this chapter (marker label, part of one, or 1-N), from the screen as it "
        "stood when the chapter began",
    )
    ren.add_argument(
        "--chapters",
        type=Path,
        metavar="DIR",
        help="one file per chapter in DIR (NN-label.EXT), plus the whole cast",
    )
    ren.add_argument(
        "--formats",
        metavar="LIST",
        help="with --chapters: the formats, comma-separated (default gif,png,svg)",
    )
    ren.add_argument(
        "--at",
        metavar="TIME",
        help="a .png of the screen at TIME (SECONDS or M:SS, idle-capped, from the chapter's "
        "start) instead of the last frame",
    )
    ren.add_argument("--speed", type=float, default=1.0, help="playback speed (default 1)")
    ren.add_argument(
        "--idle-limit",
        type=float,
        metavar="SECONDS",
        help="cap idle gaps at SECONDS (default: the cast's idle_time_limit, else none)",
    )
    ren.add_argument(
        "--fps", type=float, default=15.0, help="frames per second, at most (default 15; 1-50)"
    )
    ren.add_argument(
        "--theme",
        metavar="NAME",
        help="asciinema (the player's dark default), solarized-light, solarized-dark, dracula, "
        "tango, or cast (the cast's own theme header: the default when it has one)",
    )
    ren.add_argument(
        "--font-size", type=int, default=14, metavar="PX", help="font size in pixels (default 14)"
    )
    ren.add_argument("--cols", type=int, metavar="N", help="show only the first N columns")
    ren.add_argument(
        "--rows", type=int, metavar="N", help="show N rows, a window that follows the cursor"
    )
    ren.set_defaults(func=subcommands.cmd_render)

    notes = sub.add_parser("notes", help="the presenter view of a running `stagecast live`")
    notes.add_argument("--socket", type=Path, help="the live session's socket")
    notes.set_defaults(func=subcommands.cmd_notes)
    return parser


def _profile_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="run under a profile: what differs on this machine (images, node image, setup); "
        "steps declared unavailable there are reported as not run",
    )


def _cast_format_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cast-format",
        choices=("v2", "v3"),
        default="v2",
        help="asciicast version to write: v2 (default; every player reads it) or v3 "
        "(asciinema 3.x's own)",
    )


def _output_flags(parser: argparse.ArgumentParser) -> None:
    _profile_flag(parser)
    parser.add_argument(
        "--keep-cluster",
        action="store_true",
        help="leave the scenario's kind cluster running afterwards",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only the summary line")
    parser.add_argument("--json", action="store_true", help="print results as JSON on stdout")
