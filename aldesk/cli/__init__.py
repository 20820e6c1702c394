"""The headless command line (no Qt here). See DESIGN.md, "CLI contract".

Exit codes: 0 success; 2 bad usage or unusable input, with one line on stderr; 1 an internal
error, with the log file's path on stderr and the traceback in the log.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from aldesk import __version__
from aldesk.core.errors import AldeskError, Cancelled
from aldesk.core.logs import setup_logging

log = logging.getLogger("aldesk.cli")

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageExit(f"{message} (see '{self.prog} --help')")


class _UsageExit(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    from aldesk.cli import commands

    parser = _Parser(
        prog="aldesk",
        description="Offline active-learning labeling of local image and DICOM folders.",
        epilog="Run 'aldesk PROJECT' to open a project in the app, 'aldesk' for the start page; "
               "'aldesk bench ui' measures the window's responsiveness.",
    )
    parser.add_argument("--version", action="version", version=f"aldesk {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation (Qt, torch, decoders, project files)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # odd bytes in file names must not crash output
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    log_path = setup_logging()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.self_test:
            from aldesk.cli.selftest import run_self_test

            return run_self_test()
        if not getattr(args, "run", None):
            parser.print_help()
            return EXIT_OK
        log.info("command: %s", " ".join(argv))
        return int(args.run(args) or EXIT_OK)
    except _UsageExit as err:
        print(f"aldesk: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except AldeskError as err:
        log.info("refused: %s", err)
        print(f"aldesk: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's flush quiet
        return EXIT_OK
    except (Cancelled, KeyboardInterrupt):
        print("aldesk: cancelled", file=sys.stderr)
        return 130
    except Exception as err:
        log.exception("internal error in: aldesk %s", " ".join(argv))
        where = log_path or "the log (the log folder is not writable)"
        print(f"aldesk: internal error: {type(err).__name__}: {err}\n"
              f"details are in {where}", file=sys.stderr)
        return EXIT_INTERNAL
