"""Prefect databases for the suite's test servers: migrated once per test run, then copied.

A Prefect server's first start in a new home spends about 15 s of CPU creating its database; a
server whose test is not about that first start starts from a copy of a database made once."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

MIGRATE = """
import asyncio
from prefect.server.database import provide_database_interface
from prefect.server.models.block_registration import run_block_auto_registration

async def main():
    db = provide_database_interface()
    await db.create_db()
    async with await db.session() as session:  # as the server's own start-up registers them
        await run_block_auto_registration(session=session)

asyncio.run(main())
"""


def migrate(database: Path) -> None:
    """Create a Prefect database at `database`, in a process of its own (as a server would)."""
    subprocess.run([sys.executable, "-c", MIGRATE], check=True, timeout=600, env={
        **os.environ, "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{database}"})


def seed(template: Path, database: Path) -> Path:
    """A Prefect server's database, before the server first starts there: a copy of the template."""
    database.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, database)
    return database
