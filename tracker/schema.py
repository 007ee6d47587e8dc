"""The database schema's migrations (Alembic, `migrations/` at the project's top): the configuration for a
database URL and the upgrade to a revision. The CLI, the backup's restore and the tests use these."""

from __future__ import annotations

from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig

from .config import PROJECT_ROOT


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade_database(database_url: str, revision: str = "head") -> None:
    alembic_command.upgrade(alembic_config(database_url), revision)
