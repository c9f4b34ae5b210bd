"""Pseudonymisation: person identifiers are replaced on load by a keyed hash (HMAC-SHA256), computed inside
DuckDB (by a function holding the key in process memory only) so raw identifiers never reach a warehouse table. The key lives outside the warehouse (environment or a
file given by reference in the configuration); only its version is recorded.

``pseudonym(namespace, value)`` = first 32 hex of HMAC-SHA256(key, namespace || ':' || upper(trim(value))).
The namespace is the identifier's kind (``pnc``, ``la_child``, ...), so the same child links across agencies
through the identifiers each holds, and two kinds of identifier never collide."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Callable

import duckdb

from expectations.sql import sql_literal

BLOCK = 64  # SHA-256 block size in bytes
# What the check value of a key is the pseudonym of: a fixed text, no person's identifier.
CHECK = ("key-check", "yos-pipeline")


class KeyMismatch(RuntimeError):
    """The configured pseudonym key is not the one this warehouse's pseudonyms were made with."""


def pseudonym(key: str, namespace: str, value: str) -> str:
    """The pseudonym of one identifier, in Python (for tests and for matching a known child on request)."""
    message = f"{namespace}:{value.strip().upper()}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


KEYED_HASH = "_yos_keyed_hash"


def install(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Define the temporary ``pseudonym`` macro on this connection. Temporary: never written to the file.

    The HMAC itself is a Python function DuckDB calls (:func:`register`), holding the key's hash states in this
    process's memory only: the key, and its inner and outer pads, are never a constant of a macro or a plan, nor a
    value of any column DuckDB could spill to disk under memory pressure. The macro gives it the normalised text
    (``namespace:VALUE``, built in SQL). It costs no more than computing the HMAC in SQL did (measured:
    bench/NOTES.md)."""
    inner, outer = _hash_states(key)

    def keyed_hash(message: str) -> str:
        h = inner.copy()
        h.update(message.encode())
        o = outer.copy()
        o.update(h.digest())
        return o.hexdigest()[:32]

    register(con, keyed_hash)


_registered = itertools.count()


def register(con: duckdb.DuckDBPyConnection, keyed_hash: Callable[[str], str]) -> None:
    """Point the ``pseudonym`` macro on ``con`` at ``keyed_hash``, registered under a name of its own
    (``<KEYED_HASH>_<n>``). Not replaced under one name: after a load, DuckDB's ``remove_function`` took the
    function out of the connection's list but left it in the catalog, so registering it again failed (a second
    install on one connection, as `bench/feeds.py --pseudonym-cost` makes). The functions go with the connection."""
    name = f"{KEYED_HASH}_{next(_registered)}"
    con.create_function(name, keyed_hash, ["VARCHAR"], "VARCHAR", side_effects=False)
    con.execute(f"create or replace temp macro pseudonym(ns, v) as {name}(ns || ':' || upper(trim(v)))")


def _hash_states(key: str) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 having absorbed the key's inner pad, and having absorbed its outer pad (RFC 2104)."""
    k = key.encode()
    if len(k) > BLOCK:
        k = hashlib.sha256(k).digest()
    k = k.ljust(BLOCK, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in k)), hashlib.sha256(bytes(b ^ 0x5C for b in k))


def check_key(con: duckdb.DuckDBPyConnection, key: str, version: int, source: str) -> None:
    """Refuse to load under a key other than the one the warehouse's pseudonyms of ``version`` were made with, or
    under a version the warehouse has not been re-keyed to; record the key's check value on its first use.

    Without this, a load under another key (a shell without the service's environment reads the key file instead,
    say) would give every child in it a second pseudonym: nothing would fail, and every child's rows would stop
    linking across agencies and nights. ``source`` says where the key is read from; no key appears in a message."""
    check = pseudonym(key, *CHECK)
    known = dict(con.execute("select version, check_value from audit.pseudonym_keys").fetchall())
    rotate = (
        "to rotate the key, put the new key there, raise pseudonymisation.version and run `yos rekey`, which "
        "rebuilds every pseudonym from the landing zone"
    )
    if version in known and known[version] != check:
        raise KeyMismatch(
            f"the pseudonym key read from {source} is not the key this warehouse's pseudonyms (key version "
            f"{version}) were made with, so nothing was loaded: restore that key there; {rotate}"
        )
    newest = max(known, default=None)
    if newest is not None and version < newest:
        raise KeyMismatch(
            f"pseudonymisation.version is {version} but this warehouse was re-keyed to version {newest}, so nothing "
            f"was loaded: configure version {newest} and its key ({source})"
        )
    if version in known:
        return
    used = con.execute(
        f"select max(pseudonym_key_version) from audit.loads where status = 'loaded' and "
        f"pseudonym_key_version <> {int(version)}"
    ).fetchone()[0]
    if used is not None:
        raise KeyMismatch(
            f"pseudonymisation.version is {version} but this warehouse's pseudonyms were made with key version "
            f"{used}, so nothing was loaded: {rotate}"
        )
    con.execute(f"insert into audit.pseudonym_keys values ({int(version)}, {sql_literal(check)}, current_timestamp)")
