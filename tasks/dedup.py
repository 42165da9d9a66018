"""Story assignment. Placeholder: every article is its own story (replaced by the dedup issue)."""
from __future__ import annotations

import duckdb


def assign_stories(con: duckdb.DuckDBPyConnection, article_ids: list[str]) -> None:
    """Give each new article a story; runs inside the load transaction."""
    if not article_ids:
        return
    con.execute(
        """
        UPDATE articles SET story_id = article_id
        WHERE article_id IN (SELECT unnest($ids)) AND story_id IS NULL
        """,
        {"ids": article_ids},
    )
    con.execute(
        """
        INSERT OR REPLACE INTO stories
        SELECT a.story_id, a.article_id, a.wire_service, a.published_at, 1, 1
        FROM articles a WHERE a.article_id IN (SELECT unnest($ids))
        """,
        {"ids": article_ids},
    )


def rebuild_stories(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every assignment from the stored articles."""
    con.execute("DELETE FROM stories")
    con.execute("UPDATE articles SET story_id = NULL")
    ids = [r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()]
    assign_stories(con, ids)
