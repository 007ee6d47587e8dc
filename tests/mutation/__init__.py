"""Mutation testing of the rule modules (not part of the suite, not run in CI): ``python -m tests.mutation``."""
