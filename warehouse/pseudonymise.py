"""Pseudonymisation: person identifiers are replaced on load by a keyed hash (HMAC-SHA256), computed inside
DuckDB so raw identifiers never reach a warehouse table. The key lives outside the warehouse (environment or a
file given by reference in the configuration); only its version is recorded.

``pseudonym(namespace, value)`` = first 32 hex of HMAC-SHA256(key, namespace || ':' || upper(trim(value))).
The namespace is the identifier's kind (``pnc``, ``la_child``, ...), so the same child links across agencies
through the identifiers each holds, and two kinds of identifier never collide."""

from __future__ import annotations

import hashlib
import hmac

import duckdb

BLOCK = 64  # SHA-256 block size in bytes


def pseudonym(key: str, namespace: str, value: str) -> str:
    """The pseudonym of one identifier, in Python (for tests and for matching a known child on request)."""
    message = f"{namespace}:{value.strip().upper()}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


def install(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Define the temporary ``pseudonym`` macro on this connection. Temporary: never written to the file."""
    k = key.encode()
    if len(k) > BLOCK:
        k = hashlib.sha256(k).digest()
    k = k.ljust(BLOCK, b"\0")
    ipad = bytes(b ^ 0x36 for b in k).hex()
    opad = bytes(b ^ 0x5C for b in k).hex()
    con.execute(
        f"""create or replace temp macro pseudonym(ns, v) as
            case when v is null then null else left(sha256(unhex('{opad}') ||
                 unhex(sha256(unhex('{ipad}') || (ns || ':' || upper(trim(v)))::blob))), 32) end"""
    )
