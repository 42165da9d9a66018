"""The statuses and kinds the SQL compares with are members of the enums the code writes
(tasks/core/kinds.py): a renamed or misspelt value would leave a query silently matching nothing."""
from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from tasks.core.kinds import ErrorKind, QueueStatus

QUERIES = Path(__file__).resolve().parents[1] / "sql" / "queries"
# `status = 'done'`, `q.status IN ('pending', 'failed')`, `kind = 'blocked'`
_COMPARED = re.compile(r"\b(status|kind)\s*(?:=\s*'([^']*)'|IN\s*\(([^)]*)\))", re.IGNORECASE)


def compared_values(sql: str) -> list[tuple[str, str]]:
    """(column, literal) for each literal a status or kind column is compared with."""
    found = []
    for column, one, many in _COMPARED.findall(sql):
        values = [one] if one else re.findall(r"'([^']*)'", many)
        found += [(column, value) for value in values]
    return found


def test_the_statuses_and_kinds_the_queries_filter_on_are_enum_members():
    checked: dict[str, set[str]] = {}
    for path in sorted(QUERIES.glob("*.sql")):
        sql = path.read_text()
        # fetch_queue.status is a QueueStatus; feed_polls.status and page_errors.kind are ErrorKinds
        vocabulary: type[StrEnum] = QueueStatus if "fetch_queue" in sql else ErrorKind
        for column, value in compared_values(sql):
            assert value in {m.value for m in vocabulary}, \
                f"{path.name}: {column} = '{value}' is not a {vocabulary.__name__}"
            checked.setdefault(path.name, set()).add(value)
    assert checked == {"due_fetches.sql": {"pending", "failed", "disallowed"},
                       "merge_fetch_queue.sql": {"done", "pending", "disallowed"},
                       "stored_urls.sql": {"refused"},
                       "blocked_hosts.sql": {"blocked"}}, "every filtering query was read"
