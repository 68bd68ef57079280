"""The `stagecast` subcommands: each calls one function and maps its outcome to an exit code.

Exit codes: 0 all passed, 1 a check failed, 2 bad input or a missing prerequisite,
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# Only the standard library at module level: `stagecast --help` (and the parser, which
# points at these functions) must not pay for pydantic, rich, pexpect or the Kubernetes
# client. Each subcommand imports what it needs when it runs.
if TYPE_CHECKING:
    from recorder.run.progress import NullReporter, RichReporter
    from recorder.run.results import ScenarioResult
    from recorder.scenario.loader import LoadedScenario

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _usage(message: str) -> int:
    print(f"stagecast: {message}", file=sys.stderr)
    return EXIT_USAGE


def _load_all(files: Sequence[Path], profile: Path | None = None) -> list[LoadedScenario]:
    """Load every file (under `profile`, if given) before running any: one bad file means
    nothing runs."""
    from recorder.errors import StagecastError
    from recorder.scenario.loader import load_scenario

    loaded, errors = [], []
    overlay = None
    if profile is not None:
        from recorder.scenario.profile import load_profile

        try:
            overlay = load_profile(profile)
        except StagecastError as exc:
            errors.append(str(exc))
    for file in files:
        try:
            scenario = load_scenario(file)
            if overlay is not None:
                from recorder.scenario.profile import apply_profile

                scenario = apply_profile(scenario, overlay)
            loaded.append(scenario)
        except StagecastError as exc:
            errors.append(str(exc))
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    from recorder.scenario.preflight import short_secret_warnings

    for item in loaded:
        for warning in short_secret_warnings(item):
            print(warning, file=sys.stderr)
    return loaded


def _reporter(args: argparse.Namespace) -> NullReporter | RichReporter:
    from recorder.run.progress import NullReporter, RichReporter, make_console

    if args.quiet or args.json:
        return NullReporter()
    return RichReporter(make_console(stderr=True))


def _interrupted_code(results: list[ScenarioResult]) -> int:
    """The exit code of the signal that interrupted the run (130 for Ctrl-C)."""
    return max(r.interrupt_exit_code for r in results if r.interrupted)


def _finish(args: argparse.Namespace, results: list[ScenarioResult]) -> int:
    from recorder.run.progress import make_console
    from recorder.run.report import results_json, summary_line

    if args.json:
        print(results_json(results))
    else:
        console = make_console(stderr=False)
        for result in results:
            style = "green" if result.passed else "red"
            console.print(summary_line(result), style=style, soft_wrap=True)
            if result.cast_path:
                console.print(f"  verified cast: {result.cast_path}", soft_wrap=True)
            if result.rehearsal_cast_path:
                where = result.rehearsal_cast_path
                console.print(f"  rehearsal cast (not verified): {where}", soft_wrap=True)
            if result.failed_cast_path:
                console.print(
                    f"  failed attempt: {result.failed_cast_path}; report: {result.report_path}",
                    soft_wrap=True,
                )
            elif result.report_path:  # a leak: no failed cast, it would hold the leak
                if result.failed_cast_withheld:
                    console.print(f"  {result.failed_cast_withheld}", soft_wrap=True, markup=False)
                console.print(f"  report: {result.report_path}", soft_wrap=True)
    if any(r.interrupted for r in results):
        return _interrupted_code(results)
    return EXIT_OK if all(r.passed for r in results) else EXIT_FAILED


def cmd_lint(args: argparse.Namespace) -> int:
    loaded = _load_all(args.files)
    for item in loaded:
        steps = len(item.scenario.steps)
        print(f"{item.path}: ok ({steps} steps)")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from recorder.scenario.model import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    from recorder.cast.writer import CAST_FORMATS
    from recorder.run.record import record
    from recorder.scenario.defaults import default_scenario

    if args.file is None:
        loaded, why = default_scenario()
        if not (args.quiet or args.json):
            print(f"stagecast: {why}", file=sys.stderr)
    else:
        (loaded,) = _load_all([args.file], args.profile)
    if args.cps is not None and not 0 < args.cps <= 1000:
        raise SystemExit(_usage("--cps takes a speed between 0 and 1000 characters/s"))
    result = record(
        loaded,
        args.output,
        _reporter(args),
        cps=args.cps,
        keep_cluster=args.keep_cluster,
        cast_format=CAST_FORMATS[args.cast_format],
    )
    return _finish(args, [result])


def cmd_rehearse(args: argparse.Namespace) -> int:
    """0 all passed (and matched --baseline), 1 a check failed or a step differs from the
    baseline (with --repeat: any run failed; the budget is only reported), 2 bad input,
    130 interrupted."""
    from recorder.cast.diff import print_diff
    from recorder.cast.writer import CAST_FORMATS
    from recorder.run.progress import make_console
    from recorder.run.rehearse import (
        BaselineCheck,
        load_baseline,
        rehearsal_json,
        rehearse_once,
    )
    from recorder.run.report import write_junit

    if args.repeat is not None and args.repeat < 1:
        return _usage("--repeat takes a number of runs, 1 or more")
    if args.baseline is not None and not args.baseline.is_dir():
        return _usage(f"--baseline {args.baseline}: not a directory")
    if args.cast_dir is not None and args.repeat is not None:
        return _usage("--cast-dir saves one rehearsal's cast: it cannot be combined with --repeat")
    if args.cast_dir is not None and args.cast_dir.exists() and not args.cast_dir.is_dir():
        return _usage(f"--cast-dir {args.cast_dir}: not a directory")
    loaded = _load_all(args.files, args.profile)
    # Every baseline is read before anything runs: an unreadable one is bad input (exit 2).
    baselines = [load_baseline(item, args.baseline) if args.baseline else None for item in loaded]
    if args.repeat is not None:
        from recorder.run.rehearsal_stats import RepeatStats, print_stats, repeat_json
        from recorder.run.rehearse import rehearse_series

        def say(text: str) -> None:
            if not (args.quiet or args.json):
                print(f"stagecast: {text}", file=sys.stderr, flush=True)

        def run_reporter(item: LoadedScenario, run: int) -> NullReporter | RichReporter:
            say(f"{item.path}: run {run}/{args.repeat}")
            return _reporter(args)

        series: list[RepeatStats] = []
        try:
            for stats in rehearse_series(
                loaded,
                args.repeat,
                run_reporter,
                keep_cluster=args.keep_cluster,
                baselines=baselines,
                announce=say,
            ):
                series.append(stats)
        finally:
            if args.junit and series:
                write_junit([r for stats in series for r in stats.results], args.junit)
        interrupted = len(series) < len(loaded) or any(stats.interrupted for stats in series)
        if args.json:
            print(repeat_json(series, interrupted))
        else:
            console = make_console(stderr=False)
            for stats in series:
                if args.quiet:
                    style = "green" if stats.passed else "red"
                    console.print(stats.summary(), style=style, soft_wrap=True, markup=False)
                else:
                    print_stats(stats, console)
        if interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if all(stats.passed for stats in series) else EXIT_FAILED
    results: list[ScenarioResult] = []
    checks: list[BaselineCheck | None] = []
    try:
        for item, baseline in zip(loaded, baselines, strict=True):
            done = rehearse_once(
                item,
                _reporter(args),
                keep_cluster=args.keep_cluster,
                baseline=baseline,
                cast_dir=args.cast_dir,
                cast_format=CAST_FORMATS[args.cast_format],
            )
            results.append(done.result)
            checks.append(done.baseline)
            if results[-1].interrupted:
                break
    finally:
        if args.junit and results:
            write_junit(results, args.junit)
    if args.baseline is None:
        return _finish(args, results)
    if args.json:
        print(rehearsal_json(results, checks))
        if any(r.interrupted for r in results):
            return _interrupted_code(results)
        return EXIT_OK if all(r.passed for r in results) else EXIT_FAILED
    code = _finish(args, results)
    if not args.quiet:
        console = make_console(stderr=False)
        for check in checks:
            if check is None:
                continue
            console.print(f"  {check.note()}", soft_wrap=True, markup=False)
            if check.diff is not None and check.diff.semantic:
                print_diff(check.diff, console, changes_only=True)
    return code


def cmd_check(args: argparse.Namespace) -> int:
    from recorder.recording_check.check import check, print_report, result_json
    from recorder.recording_check.recording import CastError
    from recorder.run.progress import make_console

    (loaded,) = _load_all([args.file])
    try:
        result = check(loaded, args.against)
    except CastError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(result_json(result))
    else:
        print_report(result, make_console(stderr=False))
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_import(args: argparse.Namespace) -> int:
    """0 the draft was written (the detected prompt and counts on stderr), 2 bad input: not a
    cast, no prompt in it, or an output path that is not an earlier draft."""
    from recorder.importer.draft import DRAFT_MARK, import_cast

    output: Path | None = args.output
    if output is not None:
        if output.is_dir():
            return _usage(f"-o {output}: is a directory: give a file name for the draft")
        if not output.parent.is_dir():
            return _usage(f"-o {output}: its folder {output.parent} does not exist")
        if output.exists():
            try:
                head = output.read_text(errors="replace")[: len(DRAFT_MARK)]
            except OSError as exc:
                return _usage(f"-o {output}: cannot read it: {exc.strerror or exc}")
            if head != DRAFT_MARK:
                return _usage(
                    f"-o {output}: exists and is not a draft `stagecast import` wrote: "
                    "give another path (or remove it first)"
                )
    result = import_cast(args.recording, prompt=args.prompt, title=args.title)
    if output is None:
        sys.stdout.write(result.text)
    else:
        from recorder.cast.writer import write_text_atomically

        write_text_atomically(result.text, output)
    print(f"stagecast: {result.line}", file=sys.stderr)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    """0 the casts show the same steps (identical, or different only in masked values; timing
    never counts), 1 a step changed, was added or removed, 2 bad input."""
    from recorder.cast.diff import (
        builtin_masks,
        diff_casts,
        diff_json,
        ordered_steps,
        print_diff,
        scenario_masks,
    )
    from recorder.cast.reader import CastReadError, stream_cast
    from recorder.run.progress import make_console

    if not args.timing_threshold >= 0:
        return _usage("--timing-threshold takes a number of seconds, 0 or more")
    masks, ordered = builtin_masks(), frozenset[str]()
    if args.scenario is not None:
        (loaded,) = _load_all([args.scenario])
        masks, ordered = scenario_masks(loaded), ordered_steps(loaded)
    try:  # read as streams, a step at a time: a bad event line is found during the diff
        old, new = stream_cast(args.old), stream_cast(args.new)
        diff = diff_casts(old, new, masks, args.timing_threshold, ordered)
    except CastReadError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(diff_json(diff))
    else:
        print_diff(diff, make_console(stderr=False))
    return EXIT_FAILED if diff.semantic else EXIT_OK


def cmd_play(args: argparse.Namespace) -> int:
    """Exit 0 when played to the end or quit with q; Ctrl-C exits 130 (see main)."""
    from player.play import PlayError, list_chapters, play
    from player.streamed import StreamedCast

    if args.speed <= 0 or (args.idle_limit is not None and args.idle_limit <= 0):
        return _usage("--speed and --idle-limit take a positive number")
    try:
        cast = StreamedCast.open(args.cast)  # events read as they are played, never all at once
        if args.list:
            print("\n".join(list_chapters(cast)))
            return EXIT_OK
        play(
            cast,
            speed=args.speed,
            idle_time_limit=args.idle_limit,
            from_marker=args.from_marker,
            pause_on_markers=args.pause_on_markers,
        )
    except PlayError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_live(args: argparse.Namespace) -> int:
    """0: every step passed live; 1: a step failed or fell back; 130: ended with Ctrl-Q."""
    from player.live.presenter_keys import RevealWidth
    from player.live.show import ShowSettings, run_show
    from recorder.run.report import summary_line

    try:
        reveal = RevealWidth.parse(args.reveal)
    except ValueError as exc:
        return _usage(str(exc))
    if args.cps is not None and not 0 < args.cps <= 1000:
        return _usage("--cps takes a speed between 0 and 1000 characters/s")
    if args.no_fallback and (args.cast or args.fallback_rest):
        return _usage("--no-fallback cannot be combined with --cast or --fallback-rest")
    (loaded,) = _load_all([args.file], args.profile)
    settings = ShowSettings(
        cast=args.cast,
        fallback=not args.no_fallback,
        fallback_rest=args.fallback_rest,
        reveal=reveal,
        auto=args.auto,
        cps=args.cps,
        presenter_view=args.presenter_view,
        socket=args.socket,
        keep_cluster=args.keep_cluster,
        save_cast=args.save_cast,
    )
    outcome = run_show(loaded, settings)
    result = outcome.result
    if args.auto:  # a rehearsal: no audience to keep this from
        line = summary_line(result)
        if outcome.fallbacks:
            line += f"; {outcome.fallbacks} step(s) played from the verified cast"
        if outcome.saved:
            line += f"; the show's recording: {outcome.saved}"
        print(line, file=sys.stderr)
    if outcome.archive_problem:  # the show is over: this may be said on its terminal
        print(f"stagecast: {outcome.archive_problem}", file=sys.stderr)
    if result.interrupted:
        return result.interrupt_exit_code
    if args.save_cast is not None and outcome.saved is None:
        return EXIT_FAILED  # the archive the presenter asked for is lost
    return EXIT_OK if result.passed and not outcome.fallbacks else EXIT_FAILED


def cmd_scan(args: argparse.Namespace) -> int:
    """0 clean, 1 a leak found (one line each, the value itself never printed), 2 bad input or
    a secret the cast's provenance names that cannot be checked for (one line each)."""
    from recorder.cast.leak_scan import scan_checked
    from recorder.scenario.preflight import resolve_env

    secrets: list[str] = []
    if args.scenario is not None:
        (loaded,) = _load_all([args.scenario])
        _, secrets = resolve_env(loaded)
    leaks, errors, unchecked = [], [], []
    for path in args.casts:
        try:
            found, check = scan_checked(Path(path), secrets)
        except ValueError as exc:
            errors.append(" ".join(str(exc).split()))
            continue
        leaks += [(path, leak) for leak in found]
        if (problem := check.problem(path)) is not None:
            unchecked.append(problem)
    for line in errors + unchecked:
        print(line, file=sys.stderr)
    for path, leak in leaks:
        print(f"{path}: {leak}")
    if errors:
        return EXIT_USAGE
    if leaks:
        print(f"stagecast: {len(leaks)} leak(s) found: do not publish", file=sys.stderr)
        return EXIT_FAILED
    if unchecked:
        print("stagecast: not known to be clean: do not publish", file=sys.stderr)
        return EXIT_USAGE
    print(f"clean: {len(args.casts)} cast(s) scanned")
    return EXIT_OK


def cmd_upload(args: argparse.Namespace) -> int:
    from player.publish.upload import cmd_upload as run

    return run(args)


def cmd_site(args: argparse.Namespace) -> int:
    from player.publish.site import cmd_site as run

    return run(args)


def cmd_render(args: argparse.Namespace) -> int:
    from player.render.cli import cmd_render as run

    return run(args)


def cmd_notes(args: argparse.Namespace) -> int:
    from player.live.notes import run_notes
    from player.live.presenter import default_socket_path

    return run_notes(args.socket or default_socket_path())
