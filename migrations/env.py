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


# Kept by hand-written SQL, not models: 0002_search (FTS5 on SQLite, pg_trgm on PostgreSQL) and
# 0006_wordrows (SQLite's ``offer_search`` and its indexes). Names are matched by prefix.
HAND_WRITTEN = ("offer_fts", "offer_search", "ix_offer_search_")


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave out of autogenerate's comparisons what hand-written SQL keeps: the search
    objects of 0002_search and 0006_wordrows, and the demand → lot key
    on PostgreSQL, which 0002_pooling enforces with statement-level triggers instead of the
    foreign key the models declare (and SQLite keeps)."""
    if reflected and name is not None and name.startswith(HAND_WRITTEN):
        return False
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
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one, which fails while
            # foreign keys are enforced and other rows refer to it. The pragma only takes
            # effect outside a transaction, so it is set before any migration runs; the keys
            # are checked once all have run.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
            include_object=_include,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
