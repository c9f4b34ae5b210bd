"""Pulling over HTTP against a real server on 127.0.0.1 with faults: retries, Retry-After, cut bodies, bad auth,
conditional requests, wrong content type."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from partners.http import FetchError, RetryPolicy, client_for, fetch
from partnership.config import Partner, SecretRef
from sandbox.partner_server import serve

FAST = RetryPolicy(attempts=3, backoff_seconds=0.01, timeout_seconds=2)


@pytest.fixture
def server(partnership: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("YOS_TEST_TOKEN", "s3cret-token")
    s = serve(partnership, {"police": "s3cret-token"})
    yield s
    s.shutdown()


@pytest.fixture
def police(server) -> Partner:  # noqa: ANN001
    return Partner(
        "police",
        "Police",
        server.url + "/police",
        "bearer",
        SecretRef(env="YOS_TEST_TOKEN"),
        (),
        ("police_outcomes",),
    )


def pull(pipeline, police, policy=FAST):  # noqa: ANN001, ANN201
    return fetch(pipeline.con, pipeline.paths.data, police, "police_outcomes", policy=policy)


def attempts(pipeline) -> list[tuple]:  # noqa: ANN001
    return pipeline.con.execute("select http_status, outcome, detail from audit.fetches order by fetched_at").fetchall()


def landed_files(pipeline) -> list[Path]:  # noqa: ANN001
    return sorted((pipeline.paths.landing / "police_outcomes").glob("*"))


def test_a_500_is_retried_then_the_extract_lands(pipeline, server, police, partnership: Path) -> None:
    server.queue_faults("police_outcomes", ["500"])
    extract = pull(pipeline, police)
    assert extract.path.read_bytes() == (partnership / "police" / "police_outcomes.csv").read_bytes()
    assert [a[:2] for a in attempts(pipeline)] == [(500, "retry"), (200, "landed")]


def test_retry_after_is_honoured(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["503:1"])
    started = time.monotonic()
    assert pull(pipeline, police) is not None
    assert time.monotonic() - started >= 1.0


def test_a_body_cut_off_lands_nothing_half_written(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["cut", "cut", "cut"])
    with pytest.raises(FetchError) as e:
        pull(pipeline, police)
    assert e.value.transient
    assert landed_files(pipeline) == []
    assert pipeline.con.execute("select count(*) from landing.extracts").fetchone()[0] == 0


def test_a_timeout_is_a_transient_failure(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["timeout:2"])
    with pytest.raises(FetchError, match="ReadTimeout") as e:
        pull(pipeline, police, RetryPolicy(attempts=1, timeout_seconds=0.5))
    assert e.value.transient


def test_bad_auth_stops_at_once_and_names_the_credential_not_its_value(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["401", "401", "401"])
    with pytest.raises(FetchError) as e:
        pull(pipeline, police)
    assert not e.value.transient
    assert "YOS_TEST_TOKEN" in str(e.value) and "s3cret-token" not in str(e.value)
    assert len(attempts(pipeline)) == 1  # no retry storm
    assert "s3cret" not in str(attempts(pipeline))


def test_an_unchanged_extract_costs_one_304(pipeline, server, police) -> None:
    assert pull(pipeline, police) is not None
    assert pull(pipeline, police) is None
    assert server.requests[-1]["if_none_match"]
    assert [a[:2] for a in attempts(pipeline)] == [(200, "landed"), (304, "unchanged")]


def test_a_night_with_nothing_new_does_not_import_pandas(pipeline, server, police) -> None:
    # Binding a Python parameter makes DuckDB import pandas (measured: bench/NOTES.md); the 304 path and the
    # escalation check, which run every night, write their values as literals instead. A fresh process, as `yos run
    # nightly` is.
    assert pull(pipeline, police) is not None
    pipeline.close()
    code = f"""
import sys
from pathlib import Path
from warehouse import problems
from warehouse.db import connect_loader
from partnership.config import Partner, SecretRef
from partners.http import fetch
con = connect_loader(Path({str(pipeline.paths.loader_db)!r}))
police = Partner("police", "Police", {police.base_url!r}, "bearer", SecretRef(env="YOS_TEST_TOKEN"), (),
                 ("police_outcomes",))
assert fetch(con, Path({str(pipeline.paths.data)!r}), police, "police_outcomes") is None
problems.escalations(con, 3)
print("pandas" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert out.stdout.strip() == "False", out.stderr
    assert server.requests[-1]["if_none_match"]


def test_a_wrong_content_type_is_refused(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["html"])
    with pytest.raises(FetchError, match="text/html"):
        pull(pipeline, police)
    assert landed_files(pipeline) == []


def test_pages_are_followed_and_joined_under_one_header(pipeline, partnership: Path) -> None:
    s = serve(partnership, {"police": "t"}, page_rows=100)
    try:
        partner = Partner(
            "police", "Police", s.url + "/police", "api_key", SecretRef(env="YOS_TEST_KEY"), (), ("police_outcomes",)
        )
        os.environ["YOS_TEST_KEY"] = "t"  # an API key header this time
        extract = fetch(pipeline.con, pipeline.paths.data, partner, "police_outcomes", policy=FAST)
        whole = (partnership / "police" / "police_outcomes.csv").read_bytes()
        assert extract.path.read_bytes() == whole
        assert len(s.requests) == -(-(whole.count(b"\n") - 1) // 100)  # one request per page
    finally:
        s.shutdown()


def test_gzip_bodies_are_accepted_and_landed_as_sent(pipeline, partnership: Path, monkeypatch) -> None:
    monkeypatch.setenv("YOS_TEST_TOKEN", "t")
    s = serve(partnership, {"police": "t"}, gzip=True)
    try:
        partner = Partner(
            "police", "Police", s.url + "/police", "bearer", SecretRef(env="YOS_TEST_TOKEN"), (), ("police_outcomes",)
        )
        extract = fetch(pipeline.con, pipeline.paths.data, partner, "police_outcomes", policy=FAST)
        assert extract.path.read_bytes() == (partnership / "police" / "police_outcomes.csv").read_bytes()
    finally:
        s.shutdown()


def test_an_extract_over_the_size_limit_lands_nothing(pipeline, server) -> None:
    partner = Partner(
        "police",
        "Police",
        server.url + "/police",
        "bearer",
        SecretRef(env="YOS_TEST_TOKEN"),
        (),
        ("police_outcomes",),
        max_bytes=1000,
    )
    with pytest.raises(FetchError, match="larger than the limit") as e:
        fetch(pipeline.con, pipeline.paths.data, partner, "police_outcomes", policy=FAST)
    assert not e.value.transient
    assert landed_files(pipeline) == []


def test_if_modified_since_is_sent_when_the_partner_gives_no_etag(pipeline, server, police) -> None:
    assert pull(pipeline, police) is not None
    pipeline.con.execute("update landing.extracts set etag = null")
    assert pull(pipeline, police) is None
    assert server.requests[-1]["if_none_match"] is None


def test_mutual_tls_against_a_custom_ca(pipeline, partnership: Path, tmp_path: Path, monkeypatch) -> None:
    certs = make_certificates(tmp_path)
    s = serve(partnership, {"police": "t"}, tls=(certs["server.crt"], certs["server.key"], certs["ca.crt"]))
    try:
        partner = Partner(
            "police",
            "Police",
            s.url.replace("127.0.0.1", "localhost") + "/police",
            "mtls",
            None,
            (),
            ("police_outcomes",),
            client_cert=str(certs["client.crt"]),
            client_key=str(certs["client.key"]),
            ca_bundle=str(certs["ca.crt"]),
        )
        # mTLS proves who we are; this server still wants its token too, so give both
        s.tokens["police"] = "t"
        with client_for(partner, FAST) as client:
            client.headers["Authorization"] = "Bearer t"
            extract = fetch(pipeline.con, pipeline.paths.data, partner, "police_outcomes", policy=FAST, client=client)
        assert extract is not None
        # without the CA bundle the server's certificate is refused: verification is always on
        untrusted = Partner(
            "police",
            "Police",
            partner.base_url,
            "mtls",
            None,
            (),
            ("police_outcomes",),
            client_cert=partner.client_cert,
            client_key=partner.client_key,
        )
        with pytest.raises(FetchError):
            fetch(
                pipeline.con,
                pipeline.paths.data,
                untrusted,
                "police_outcomes",
                policy=RetryPolicy(attempts=1, timeout_seconds=2),
            )
        # the TLS context is built once per set of files, and again when one is replaced: a bundle swapped for another
        # CA's now refuses this server
        (tmp_path / "other").mkdir()
        other = make_certificates(tmp_path / "other")["ca.crt"]
        Path(partner.ca_bundle).write_bytes(other.read_bytes())
        os.utime(partner.ca_bundle, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
        with pytest.raises(FetchError):
            fetch(pipeline.con, pipeline.paths.data, partner, "police_outcomes", policy=RetryPolicy(attempts=1))
    finally:
        s.shutdown()


def make_certificates(folder: Path) -> dict[str, Path]:
    """A throwaway CA, a server certificate for localhost and a client certificate, all signed by the CA."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("yos test CA"))
        .issuer_name(name("yos test CA"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    out = {"ca.crt": folder / "ca.crt"}
    out["ca.crt"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for who, san in (("server", x509.DNSName("localhost")), ("client", x509.DNSName("yos-client"))):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(who))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(2 if who == "server" else 3)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        out[f"{who}.crt"] = folder / f"{who}.crt"
        out[f"{who}.key"] = folder / f"{who}.key"
        out[f"{who}.crt"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        out[f"{who}.key"].write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return out
