"""Undo and redo as command objects, without Qt.

A command does its work in `do()` and takes it back in `undo()`; `redo()` is `do()` again unless
the command says otherwise. The stack runs a command when it is pushed, so a command that fails
never enters the history.
"""

from __future__ import annotations

from typing import Protocol


class Command(Protocol):
    @property
    def text(self) -> str:
        """What the command did, in words for a menu ("Label frame-003.png as cup")."""
        ...

    def do(self) -> None: ...

    def undo(self) -> None: ...


class UndoStack:
    """Done commands below, undone ones above; pushing a new command drops the undone ones."""

    def __init__(self, limit: int = 1000) -> None:
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self._limit = limit

    def push(self, command: Command) -> None:
        command.do()
        self._done.append(command)
        self._undone.clear()
        if len(self._done) > self._limit:
            del self._done[0]

    def undo(self) -> Command | None:
        """Take back the newest done command; None when there is nothing to undo."""
        if not self._done:
            return None
        command = self._done[-1]
        command.undo()
        self._undone.append(self._done.pop())
        return command

    def redo(self) -> Command | None:
        if not self._undone:
            return None
        command = self._undone[-1]
        command.do()
        self._done.append(self._undone.pop())
        return command

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
