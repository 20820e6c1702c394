"""Domain types, errors, the job protocol and small pure helpers. Stdlib and numpy only."""
