"""The project file: one SQLite database per project (`NAME.aldesk`).

`Project` opens, creates, locks, backs up and migrates the file; the modules beside it hold the
queries for one area each (sources and items, classes, annotations, models and scores).
"""

from aldesk.store.project import PROJECT_SUFFIX, Project

__all__ = ["PROJECT_SUFFIX", "Project"]
