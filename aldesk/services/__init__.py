"""Use cases that combine the store, io and ml layers: ingest, labels, export, demo, info."""
