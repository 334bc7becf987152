"""A package, so its conftest is `reliability.conftest` and never shadows tests/conftest.py, which test
modules import by the bare name `conftest`."""
