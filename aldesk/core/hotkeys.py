"""Hotkeys for classes.

A class whose name is one character gets that character as its hotkey, so the digit classes
0-9 are typed as they are seen. Other classes get the digit of their position (1-9), or the next
free key. Keys the labeling view uses for itself are never handed out.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Keys bound to actions in the labeling view (skip, unsure, fit, window reset, help, accept).
RESERVED = frozenset({"s", "u", "f", "w", "?", " "})

_FALLBACK = "1234567890abcdeghijklmnopqrtvxyz"


def _own_key(name: str, used: set[str]) -> str | None:
    key = name.strip().lower()
    if len(key) == 1 and key.isprintable() and key not in used:
        return key
    return None


def _position_key(position: int, used: set[str]) -> str | None:
    if 1 <= position <= 9 and str(position) not in used:
        return str(position)
    return next((k for k in _FALLBACK if k not in used), None)


def hotkey_for(name: str, position: int, taken: Iterable[str]) -> str | None:
    """The hotkey for a class called `name` at 1-based `position`, avoiding `taken` keys.

    Returns None when every key is in use (the class is then labeled with the mouse).
    """
    used = {k.lower() for k in taken if k} | RESERVED
    return _own_key(name, used) or _position_key(position, used)


def assign_hotkeys(
    names: list[str], taken: Iterable[str] = (), first_position: int = 1
) -> list[str | None]:
    """Hotkeys for classes created together, in order, avoiding keys already `taken`.

    `first_position` is the 1-based position of `names[0]` among all the project's classes.

    Single-character names are served first so that a class "1" keeps "1" even if a
    longer-named class stands before it.
    """
    used = {k.lower() for k in taken if k} | RESERVED
    keys: list[str | None] = [_own_key(name, used) for name in names]
    own = [k for k in keys if k]
    # Two classes named "A" and "a" cannot share a key: the first keeps it.
    for i, key in enumerate(keys):
        if key and key in keys[:i]:
            keys[i] = None
    used |= set(own)
    for i, _name in enumerate(names):
        if keys[i] is None:
            keys[i] = _position_key(first_position + i, used)
            if keys[i]:
                used.add(keys[i])
    return keys
