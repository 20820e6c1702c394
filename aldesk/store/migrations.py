"""Forward migrations of the project file.

`STEPS[v]` takes a file from schema version `v` to `v + 1` inside the caller's transaction.
Add a step whenever `schema.SCHEMA_VERSION` goes up, freeze the old schema under
`tests/data/schema_v{v}.sql`, and the parametrised migration test covers it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Step = Callable[[sqlite3.Connection], None]

#: from-version -> the step to the next version. Version 1 is the first released schema.
STEPS: dict[int, Step] = {}


def migrate(conn: sqlite3.Connection, current: int, target: int) -> list[int]:
    """Apply the steps from `current` to `target` in order; returns the versions passed through.

    The caller owns the transaction, so a failing step leaves the file as it was.
    """
    done = []
    for version in range(current, target):
        step = STEPS.get(version)
        if step is None:
            raise RuntimeError(f"no migration from project format {version} to {version + 1}")
        step(conn)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version + 1),))
        done.append(version + 1)
    return done
