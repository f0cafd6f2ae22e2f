"""Golden files of stored instances: see :mod:`tests.engine.golden.cases` and docs/engine.md, "Stored state"."""
