from alembic import context
from sqlalchemy import engine_from_config, pool

from guide import models  # noqa: F401  (registers the tables)
from guide.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}),
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Pages freed while a migration rewrites a table (e.g. to encrypt it) are zeroed,
            # so the plaintext they held does not linger in the file.
            connection.exec_driver_sql("PRAGMA secure_delete=ON")
            connection.commit()  # else the migrations would run inside this transaction and never commit
        # Batch mode lets later migrations alter tables on SQLite as on PostgreSQL.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
