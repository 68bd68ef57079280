"""The `stagecast` command: parse arguments, call one function, map the outcome to an exit code.

Exit codes: 0 all passed, 1 a check failed, 2 bad input or a missing prerequisite,
128 + N interrupted by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from .parser import build_parser
from .subcommands import EXIT_FAILED, EXIT_INTERRUPTED

# This module and the parser import only the standard library: `stagecast --help` and a
# usage error cost no more than Python's own start. A subcommand imports what it needs.


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from recorder.errors import StagecastError

    try:
        return int(args.func(args))
    except StagecastError as exc:
        print(f"stagecast: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("stagecast: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _stdout_gone()
    except OSError as exc:  # a full disk, a read-only folder, a file that vanished
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"stagecast: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - a traceback must never reach a user
        print(f"stagecast: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 70


def _stdout_gone() -> int:
    """Whoever read our output went away (`stagecast … | head`): say so once, and keep
    Python from failing again when it flushes stdout at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    with contextlib.suppress(OSError):
        print("stagecast: stdout was closed before all output was written", file=sys.stderr)
    return EXIT_FAILED


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
