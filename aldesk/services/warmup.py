"""Loading what the jobs compute with, once, before the first job needs it.

The app's compute process (`services.compute`) calls `load_libraries` when it starts, so torch and
scikit-learn are imported while the user looks at the first item, and the heap they build can
be exempted from garbage collection (`core.heap`) before the first round allocates on top of it.
"""

from __future__ import annotations

import importlib

#: Modules the embedding, training and ranking jobs import inside their functions.
JOB_MODULES = (
    "torch",
    "aldesk.ml.backbones",
    "aldesk.ml.committee",
    "aldesk.ml.embed",
    "aldesk.al.context",
    "aldesk.al.policy",
    "aldesk.al.stopping",
    "aldesk.services.representation",
    "aldesk.services.train",
)


def load_libraries() -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)
