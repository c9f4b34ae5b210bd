"""(a) The floor: DuckDB's read_csv of every feed file into plain tables, and nothing else."""

import sys
from pathlib import Path

import duckdb

partners, target = Path(sys.argv[1]), Path(sys.argv[2])
target.unlink(missing_ok=True)
con = duckdb.connect(str(target))
for path in sorted(partners.rglob("*.csv")):
    con.execute(f"create table {path.stem} as select * from read_csv('{path}', header = true)")
con.execute("checkpoint")
con.close()
