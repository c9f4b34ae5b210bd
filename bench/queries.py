"""The query time of every kpi view on the published warehouse; prints JSON {view: seconds}."""

import json
import sys
import time

import duckdb

con = duckdb.connect(sys.argv[1], read_only=True)
views = [
    r[0] for r in con.execute("select view_name from duckdb_views() where schema_name = 'kpi' order by 1").fetchall()
]
times = {}
for view in views:
    started = time.perf_counter()
    con.execute(f"select * from kpi.{view}").fetchall()
    times[view] = round(time.perf_counter() - started, 3)
print(json.dumps(times))
