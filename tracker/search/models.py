"""The search index: which columns of which tables the header's search box reads, and the database objects
that index them. They are not mapped classes: the migrations create them for each database, and the comparison of
the models with the database leaves them out through `include_name`.

* words of three characters or more (20261207_e3a5c7e9b1d4_search_index): on SQLite an FTS5 trigram table
  ``search_<table>`` per table, kept in step by triggers; on PostgreSQL a pg_trgm GIN index ``ix_search_<table>``;
* words of one or two characters (20261207_a18s0e4c1b2d_search_short_words), an index of every character and
  every pair of adjacent characters: on SQLite a contentless FTS5 table ``search_grams_<table>`` per table, kept in
  step by triggers, whose words are the hex of each lower-cased character and pair (``search_positions`` counts
  the characters off; a text longer than that is the one word ``overflow``); on PostgreSQL a GIN index
  ``ix_search_grams_<table>`` on the function ``search_grams(<the searched columns>)``.
"""

from __future__ import annotations

from collections.abc import Mapping

# table -> its searched columns (the migration keeps its own copy, as of its revision;
# tests/search/test_index.py checks that the two and the database agree)
SEARCHED: Mapping[str, tuple[str, ...]] = {
    "plans": ("title", "short_name", "doc_number", "description"),
    "tasks": ("code", "title", "description"),
    "milestones": ("title", "evidence"),
    "supervision_cases": ("title", "problem"),
    "key_projects": ("content",),
    "indicators": ("name", "definition"),
    "progress_reports": ("achievements", "problems", "next_steps"),
}

FTS_PREFIX = "search_"  # SQLite: search_tasks and its shadow tables search_tasks_data, _idx, _docsize, _config
INDEX_PREFIX = "ix_search_"  # PostgreSQL: ix_search_tasks on tasks
OVERFLOW = "overflow"  # SQLite: the word that stands for a text too long to index by its characters


def fts_table(table: str) -> str:
    return f"{FTS_PREFIX}{table}"


def grams_table(table: str) -> str:
    return f"{FTS_PREFIX}grams_{table}"


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic's ``include_name`` hook: the search index is the migration's, not the models' (for
    ``compare_metadata`` in tests/test_migrations.py and ``tracker db check``)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(FTS_PREFIX)
    if type_ == "index":
        return not name.startswith(INDEX_PREFIX)
    return True
