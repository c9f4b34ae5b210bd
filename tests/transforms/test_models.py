"""The SQL models as declared: each model's YAML names the inputs its SQL reads (checked against the SQL, so the
declarations cannot drift), publishing builds them in the order those inputs give and names the file at fault, and
every model holds to its grain (its unique key) in a real published warehouse."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from expectations.contract import all_contracts
from tests.conftest import TEST_KEY
from warehouse.db import connect_analyst
from warehouse.publish import MATERIALISED, TRANSFORMS, ModelError, apply_transforms, build_order, read_models

MODELS = read_models()
# The schemas a model can read: the warehouse's own (main.catalog and the hidden _live/_stored are never inputs).
RELATION = re.compile(r"\b((?:core|conformed|kpi|audit|history|published)\.\w+)\b")


def referenced(sql: str, model: str) -> set[str]:
    """The relations the model's create statement reads: its first statement, comments and strings left out."""
    create = sql[sql.index("create or replace view") :]
    create = create[: re.search(r";\s*\n", create).start()]
    code = re.sub(r"'(?:[^']|'')*'", "''", re.sub(r"--[^\n]*", "", create))
    return set(RELATION.findall(code)) - {model}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_declared_inputs_are_what_the_sql_reads(name: str) -> None:
    model = MODELS[name]
    assert sorted(model.inputs) == sorted(referenced(model.path.read_text(), name)), (
        f"{model.file}: correct `inputs` in {model.path.with_suffix('.yml').name}"
    )


def test_every_layer_file_is_a_declared_model() -> None:
    sql = {
        f"{p.parent.name}.{p.stem}"
        for layer in ("conformed", "kpi", "audit")
        for p in (TRANSFORMS / layer).glob("*.sql")
    }
    assert sql == set(MODELS)
    assert all(m.grain.startswith("one row per") and m.unique for m in MODELS.values())


def test_stored_models_are_stored_after_the_stored_models_they_read() -> None:
    stored = [m for m in MATERIALISED if not m.endswith(".*")]
    stored += sorted(n for n in MODELS if n.startswith("kpi.") and n != "kpi.measures") + ["kpi.measures"]
    for i, name in enumerate(stored):
        later = set(stored[i + 1 :])
        assert not later & set(MODELS[name].inputs), f"{name} reads {later & set(MODELS[name].inputs)}, stored after it"


def write_model(root: Path, name: str, sql: str, inputs: list[str]) -> None:
    layer, stem = name.split(".")
    (root / layer).mkdir(parents=True, exist_ok=True)
    (root / layer / f"{stem}.sql").write_text(sql)
    (root / layer / f"{stem}.yml").write_text(f"grain: one row per thing\ninputs: [{', '.join(inputs)}]\nunique: [a]\n")


def test_models_are_built_after_their_inputs_whatever_their_names(tmp_path: Path) -> None:
    write_model(
        tmp_path, "kpi.a_first", "create or replace view kpi.a_first as select * from kpi.z_last;\n", ["kpi.z_last"]
    )
    write_model(
        tmp_path,
        "kpi.z_last",
        "create or replace view kpi.z_last as select * from conformed.base;\n",
        ["conformed.base"],
    )
    write_model(tmp_path, "conformed.base", "create or replace view conformed.base as select 1 as a;\n", [])
    (tmp_path / "macros").mkdir()
    order = [m.name for m in build_order(read_models(tmp_path), set())]
    assert order == ["conformed.base", "kpi.z_last", "kpi.a_first"]
    con = duckdb.connect()
    con.execute("create schema conformed; create schema kpi")
    apply_transforms(con, tmp_path)
    assert con.execute("select a from kpi.a_first").fetchall() == [(1,)]


def test_a_cycle_or_a_missing_input_names_the_model(tmp_path: Path) -> None:
    write_model(tmp_path, "kpi.a", "create or replace view kpi.a as select * from kpi.b;\n", ["kpi.b"])
    write_model(tmp_path, "kpi.b", "create or replace view kpi.b as select * from kpi.a;\n", ["kpi.a"])
    with pytest.raises(
        ModelError, match=r"^transforms/kpi/a\.sql: its inputs form a cycle: kpi\.a -> kpi\.b -> kpi\.a"
    ):
        build_order(read_models(tmp_path), set())
    write_model(tmp_path, "kpi.b", "create or replace view kpi.b as select * from core.nowhere;\n", ["core.nowhere"])
    with pytest.raises(ModelError, match=r"^transforms/kpi/b\.sql: declares input core\.nowhere, which is neither"):
        build_order(read_models(tmp_path), set())
    assert [m.name for m in build_order(read_models(tmp_path), {"core.nowhere"})] == ["kpi.b", "kpi.a"]


def test_a_failing_model_is_named_by_its_own_file(tmp_path: Path) -> None:
    write_model(tmp_path, "kpi.good", "create or replace view kpi.good as select a from kpi.bad;\n", ["kpi.bad"])
    write_model(tmp_path, "kpi.bad", "create or replace view kpi.bad as select no_such_column as a;\n", [])
    (tmp_path / "macros").mkdir()
    con = duckdb.connect()
    con.execute("create schema kpi")
    with pytest.raises(ModelError, match=r"^transforms/kpi/bad\.sql: Binder Error.*no_such_column"):
        apply_transforms(con, tmp_path)


def test_a_model_without_its_declaration_is_refused(tmp_path: Path) -> None:
    write_model(tmp_path, "kpi.a", "create or replace view kpi.a as select 1 as a;\n", [])
    (tmp_path / "kpi" / "a.yml").unlink()
    with pytest.raises(ModelError, match=r"^transforms/kpi/a\.yml: missing"):
        read_models(tmp_path)
    (tmp_path / "kpi" / "a.yml").write_text("grain: one row per thing\ninputs: []\nunique: [a]\nmaterialized: table\n")
    with pytest.raises(ModelError, match=r"^transforms/kpi/a\.yml: needs grain"):
        read_models(tmp_path)


@pytest.fixture(scope="module", params=["partnership", "defective"])
def published(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated partnership (clean, and with every defect) loaded and published once for the module."""
    from flows.steps import Pipeline

    partners = request.getfixturevalue(request.param)
    tmp = tmp_path_factory.mktemp(f"models-{request.param}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("YOS_DATA_DIR", str(tmp / "data"))
        mp.setenv("YOS_PSEUDONYM_KEY", TEST_KEY)
        mp.setenv("TMPDIR", str(tmp))
        with Pipeline() as pipeline:
            for feed, c in all_contracts().items():
                pipeline.load(pipeline.land_file(feed, partners / c.partner / f"{feed}.csv"))
            return pipeline.publish()


def duplicates(con: duckdb.DuckDBPyConnection, model: str, unique: tuple[str, ...]) -> int:
    columns = ", ".join(f'"{c}"' for c in unique)
    return con.execute(
        f"select count(*) from (select {columns}, count(*) from {model} group by all having count(*) > 1)"
    ).fetchone()[0]


@pytest.mark.parametrize("name", sorted(n for n, m in MODELS.items() if m.unique))
def test_each_model_holds_to_its_grain(name: str, published: Path) -> None:
    con = connect_analyst(published)
    assert duplicates(con, name, MODELS[name].unique) == 0, f"{name} has rows sharing {MODELS[name].unique}"
