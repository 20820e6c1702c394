"""The `aldesk` entry point: the app's window for `aldesk [PROJECT]`, the CLI for commands.

This module and `aldesk.ui` are the only places that may load Qt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

QT_PROBE = "_qt-probe"  # hidden command: the self-test's Qt check, run in a child process


def _is_command(arg: str) -> bool:
    from aldesk.cli.commands import COMMANDS

    return arg in COMMANDS or arg.startswith("-")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [QT_PROBE]:
        from aldesk.ui.probe import main as probe

        return probe()
    from aldesk import cli

    if argv and _is_command(argv[0]):
        return cli.main(argv)
    # `aldesk` or `aldesk PROJECT`: the desktop window is built by a later issue; until then
    # say so and show what can be done from the command line.
    if argv and not _looks_like_project(argv[0]):
        print(f"aldesk: error: {argv[0]!r} is neither a command nor a project file "
              "(see 'aldesk --help')", file=sys.stderr)
        return cli.EXIT_USAGE
    code = cli.main(["info", *argv] if argv else ["--help"])
    if code == 0:
        print("\naldesk: the desktop window is not part of this version yet; the commands above "
              "work today.", file=sys.stderr)
    return code


def _looks_like_project(arg: str) -> bool:
    from pathlib import Path

    return arg.endswith(".aldesk") or Path(arg).exists() or Path(arg + ".aldesk").exists()


if __name__ == "__main__":
    sys.exit(main())
