"""Fixtures of the project-wide tests."""

from tests.catalog.test_catalog import world  # noqa: F401  (fixture)
