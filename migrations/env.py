"""Alembic environment: one set of migrations for SQLite and PostgreSQL."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool

from lap_market.config import get_settings
from lap_market.db import make_engine, metadata
from lap_market.registry import import_all_models

import_all_models()
config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave out of comparisons the demand → lot key on PostgreSQL: there migration
    0002_pooling enforces it with statement-level triggers, not the foreign key the models
    declare (and SQLite keeps)."""
    return not (
        type_ == "foreign_key_constraint"
        and name == "fk_demand_tender_id_lot_id_lot"
        and context.get_bind().dialect.name == "postgresql"
    )


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(_url(), poolclass=pool.NullPool) if not _url().startswith(
        "sqlite"
    ) else make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
            include_object=_include,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
