"""An analyst's process for tests: holds one read-only connection on the published lake open for its
whole life, queries it in a loop, and on each `check` line from stdin prints what it sees as JSON.

    python lake_reader.py connect DB      # through wirecopy.connect(DB)
    python lake_reader.py attach SQL      # plain duckdb: the README's ATTACH statement, then USE wirecopy
"""
from __future__ import annotations

import json
import sys
import threading
import time

import duckdb

SEEN = """
SELECT count(*) AS articles,
       md5(string_agg(url, ' ' ORDER BY url)) AS urls,
       (SELECT count(*) FROM stories) AS stories,
       count(*) FILTER (WHERE story_id IS NULL
                        OR story_id NOT IN (SELECT story_id FROM stories)) AS without_story,
       (SELECT count(*) FROM story_pickup) AS pickup_rows,
       (SELECT count(*) FROM articles_deduped) AS deduped_rows
FROM articles
"""


def main() -> None:
    mode, target = sys.argv[1], sys.argv[2]
    if mode == "connect":
        import wirecopy

        con = wirecopy.connect(target)
    else:
        con = duckdb.connect(config={"autoinstall_known_extensions": False})
        con.execute(target)
        con.execute("USE wirecopy")
    lock = threading.Lock()
    state = {"queries": 0, "failures": []}

    def loop() -> None:
        cursor = con.cursor()
        cursor.execute("USE wirecopy")
        while True:
            try:
                cursor.execute(SEEN).fetchone()
                with lock:
                    state["queries"] += 1
            except duckdb.Error as exc:
                with lock:
                    state["failures"].append(str(exc).splitlines()[0])
            time.sleep(0.2)

    threading.Thread(target=loop, daemon=True).start()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "check":
            continue
        try:
            row = con.execute(SEEN).fetchone()
            seen = dict(zip(("articles", "urls", "stories", "without_story", "pickup_rows", "deduped_rows"), row))
            seen["data_path"] = con.execute(
                "SELECT value FROM wirecopy.options() WHERE option_name = 'data_path'").fetchone()[0]
        except duckdb.Error as exc:
            seen = {"error": str(exc).splitlines()[0]}
        with lock:
            print(json.dumps({**seen, **state}), flush=True)


if __name__ == "__main__":
    main()
