"""(b) A conventional load: pandas read_csv, the contract's native expectations on GX's pandas datasource, then
the frames written to DuckDB."""

import datetime as dt
import os
import sys
from pathlib import Path

import duckdb
import great_expectations as gx
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from expectations.contract import all_contracts  # noqa: E402
from expectations.suite import expectation_for  # noqa: E402

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
partners, target = Path(sys.argv[1]), Path(sys.argv[2])
target.unlink(missing_ok=True)
con = duckdb.connect(str(target))
context = gx.get_context(mode="ephemeral")
source = context.data_sources.add_pandas("frames")
for feed, contract in all_contracts().items():
    df = pd.read_csv(partners / contract.partner / f"{feed}.csv", dtype=str)
    frame = df.rename(columns={c: f"{c}__raw" for c in df.columns})
    for name, col in contract.columns.items():
        if col.min is not None or col.max is not None:
            frame[name] = pd.to_numeric(df[name], errors="coerce")
    asset = source.add_dataframe_asset(feed)
    batch = asset.add_batch_definition_whole_dataframe(feed)
    suite = context.suites.add(gx.ExpectationSuite(name=feed))
    for rule in contract.rules(dt.date.today()):
        if rule.kind in ("required", "codes", "format", "range"):
            suite.add_expectation(expectation_for(rule))
    vd = context.validation_definitions.add(gx.ValidationDefinition(name=feed, data=batch, suite=suite))
    vd.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
    con.register("frame", df)
    con.execute(f"create table {feed} as select * from frame")
    con.unregister("frame")
con.execute("checkpoint")
con.close()
