"""The `aldesk` entry point: the app's window for `aldesk [PROJECT]`, the CLI for commands.

This module and `aldesk.ui` are the only places that may load Qt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

QT_PROBE = "_qt-probe"  # hidden command: the self-test's Qt check, run in a child process


def _is_command(arg: str) -> bool:
    from aldesk.cli.commands import COMMANDS

    return arg in COMMANDS or arg.startswith("-")


def main(argv: Sequence[str] | None = None) -> int:
    if getattr(sys, "frozen", False):  # a bundle: its compute process is this executable too
        import multiprocessing

        multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    from aldesk.core.malloc import keep_freed_memory

    keep_freed_memory()  # before the first image: decode buffers are reused, not re-faulted
    if argv[:1] == [QT_PROBE]:
        from aldesk.ui.probe import main as probe

        return probe()
    from aldesk import cli

    if argv[:2] == ["bench", "ui"]:  # the responsiveness benchmark needs the window
        from aldesk.ui.bench import main as bench

        return bench(argv[2:])
    if argv[:1] == ["bench"]:
        asked = argv[1:] in (["--help"], ["-h"])
        print("usage: aldesk bench ui [--help | OPTIONS]: the window's responsiveness "
              "benchmark (offscreen)", file=sys.stdout if asked else sys.stderr)
        return cli.EXIT_OK if asked else cli.EXIT_USAGE
    if argv == ["demo"]:
        return _window(None, demo=True)
    if argv and _is_command(argv[0]):
        return cli.main(argv)
    if len(argv) > 1:
        print(f"aldesk: error: unknown command {argv[0]!r} (see 'aldesk --help')",
              file=sys.stderr)
        return cli.EXIT_USAGE
    if argv and not _looks_like_project(argv[0]):
        print(f"aldesk: error: {argv[0]!r} is neither a command nor a project file "
              "(see 'aldesk --help')", file=sys.stderr)
        return cli.EXIT_USAGE
    return _window(Path(argv[0]) if argv else None)


def _window(project: Path | None, demo: bool = False) -> int:
    """The desktop app; a clear message instead of a Qt abort when there is no screen."""

    from aldesk import cli

    if project is not None:
        from aldesk.store.project import project_path

        if not project.exists() and project_path(project).exists():
            project = project_path(project)
    if project is not None:
        problem = _unopenable(project)
        if problem:
            print(f"aldesk: error: {problem}", file=sys.stderr)
            return cli.EXIT_USAGE
    from aldesk.core.display import no_display

    if no_display():
        print("aldesk: error: no display to open the window on (no DISPLAY or WAYLAND_DISPLAY); "
              "the commands work without one: see 'aldesk --help'", file=sys.stderr)
        return cli.EXIT_USAGE
    from aldesk.ui.app import run

    return run(project, demo=demo)


def _unopenable(path: Path) -> str | None:
    """Why `path` cannot be opened as a project, checked before the window opens."""
    from aldesk.core.errors import AldeskError
    from aldesk.store.project import OutdatedProjectError, Project

    try:
        Project.open(path, readonly=True).close()
    except OutdatedProjectError:
        return None  # the window opens it for writing, which upgrades it
    except AldeskError as err:
        return str(err)
    return None


def _looks_like_project(arg: str) -> bool:
    return arg.endswith(".aldesk") or Path(arg).exists() or Path(arg + ".aldesk").exists()


if __name__ == "__main__":
    sys.exit(main())
