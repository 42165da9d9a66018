"""Recompute every story assignment from the stored articles (after a dedup change)."""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.prefect_tasks import publisher
from flows.writer import writer_slot
from tasks import db, dedup, lake
from tasks.core import errors
from tasks.core.settings import load_settings


@task(name="rebuild stories", cache_policy=NO_CACHE)
def rebuild(db_path: str | None) -> dict[str, int]:
    """Recompute every story, then publish: analysts see the old stories or the new, never a mix."""
    settings = load_settings(None, db_path)
    with writer_slot(settings.db_wait_seconds), \
            db.writer(settings.db_path, wait_seconds=settings.db_wait_seconds,
                         memory_limit=settings.db_memory_limit) as con:
        with db.transaction(con, f"rebuilding the stories of {settings.db_path}",
                            outcome="the stories are as they were"):
            dedup.rebuild_stories(con)
        articles, stories = con.execute(db.sql("count_articles_and_stories")).fetchone() or (0, 0)
        try:
            published = lake.publish(con, settings, publisher())
        except errors.LakeError as exc:
            raise errors.DatabaseError(str(exc)) from None
    return {"articles": articles, "stories": stories, "published_version": published.version}


@flow(name="rebuild-stories", log_prints=False)
def rebuild_stories(db_path: str | None = None) -> dict[str, int]:
    counts = rebuild(db_path)
    create_table_artifact(key="rebuild-stories", description="Stories after the rebuild",
                          table=[{"measure": k, "value": v} for k, v in counts.items()])
    get_run_logger().info("stories rebuilt: %(articles)d articles in %(stories)d stories", counts)
    return counts
