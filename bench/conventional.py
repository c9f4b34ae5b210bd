"""(b) A conventional load: pandas read_csv, the contract's rules as GX's own pandas expectations, failing rows set
aside, the rest written to DuckDB.

It does what (c) does up to loading, the way a pipeline built on pandas and GX's pandas datasource would: every
column rule of the contract (required, type, codes, format, range, not in the future, the key unique) as a native
pandas expectation, with every failing row's index (result format COMPLETE) so those rows can be quarantined, then the
passing rows written to DuckDB. It does not run the contract's cross-column rules (they are SQL, which GX's pandas
datasource cannot run), pseudonymise, keep versions or publish, so it does less than (c), never more.
"""

import datetime as dt
import os
import sys
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from expectations.contract import Contract, Rule, all_contracts  # noqa: E402
from expectations.suite import expectation_for  # noqa: E402

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
TYPE_CHECKS = {  # a column type's check on the raw text, as a native expectation can say it
    "int": lambda c, _: gxe.ExpectColumnValuesToMatchRegex(column=c, regex=r"^-?[0-9]{1,18}$"),
    "number": lambda c, _: gxe.ExpectColumnValuesToMatchRegex(column=c, regex=NUMBER),
    "bool": lambda c, _: gxe.ExpectColumnValuesToBeInSet(column=c, value_set=["true", "false", "1", "0"]),
    "date": lambda c, fmt: gxe.ExpectColumnValuesToMatchStrftimeFormat(column=c, strftime_format=fmt),
    "timestamp": lambda c, _: gxe.ExpectColumnValuesToMatchRegex(
        column=c, regex=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)$"
    ),
}


def expectation(contract: Contract, rule: Rule, today: dt.date):  # noqa: ANN201
    """The native pandas expectation for ``rule``, or None for a rule only SQL can say (cross-column)."""
    col = rule.columns[0]
    raw = f"{col}__raw"
    if rule.kind in ("required", "codes", "format", "range"):  # native already, as (c) runs them
        return expectation_for(rule)
    if rule.kind == "type":
        return TYPE_CHECKS[contract.columns[col].type](raw, contract.date_format)
    if rule.kind == "not_future":
        return gxe.ExpectColumnValuesToBeBetween(column=col, max_value=pd.Timestamp(today))
    if rule.kind == "unique":
        if len(rule.columns) == 1:
            return gxe.ExpectColumnValuesToBeUnique(column=raw)
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=[f"{c}__raw" for c in rule.columns])
    return None


def main() -> None:
    partners, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("frames")
    today = dt.date.today()
    for feed, contract in all_contracts().items():
        df = pd.read_csv(partners / contract.partner / f"{feed}.csv", dtype=str, keep_default_na=False, na_values=[""])
        frame = df.rename(columns={c: f"{c}__raw" for c in df.columns})
        for name, col in contract.columns.items():
            if col.min is not None or col.max is not None:
                frame[name] = pd.to_numeric(df[name], errors="coerce")
            elif col.not_future:
                frame[name] = pd.to_datetime(df[name], format=contract.date_format, errors="coerce")
        rules = contract.rules(today)
        suite = gx.ExpectationSuite(name=feed)
        for rule in rules:
            e = expectation(contract, rule, today)
            if e is not None:
                e.meta = {"rule_id": rule.id, "severity": rule.severity}
                suite.add_expectation(e)
        batch = source.add_dataframe_asset(feed).add_batch_definition_whole_dataframe(feed)
        result = batch.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format="COMPLETE")
        for r in result.results:  # an expectation GX could not evaluate would make (b) look faster than it is
            if r.exception_info and any(
                v.get("raised_exception") for v in [r.exception_info, *r.exception_info.values()] if isinstance(v, dict)
            ):
                raise RuntimeError(
                    f"{r.expectation_config.meta['rule_id']}: GX could not evaluate it: {r.exception_info}"
                )
        failing = pd.DataFrame(
            [
                (r.expectation_config.meta["rule_id"], i)
                for r in result.results
                if r.expectation_config.meta["severity"] == "error"
                for i in r.result.get("unexpected_index_list") or []
            ],
            columns=["rule_id", "row"],
        )
        quarantined = set(failing["row"])
        good = df[~df.index.isin(quarantined)]
        con.register("frame", good)
        con.execute(f"create table {feed} as select * from frame")
        con.unregister("frame")
        con.register("failing", failing)
        con.execute(f'create table {feed}__quarantine as select rule_id, "row" + 2 as line from failing')
        con.unregister("failing")
        print(f"{feed}: {len(df)} rows, {len(good)} loaded, {len(quarantined)} quarantined", flush=True)
    con.execute("checkpoint")
    con.close()


if __name__ == "__main__":
    main()
