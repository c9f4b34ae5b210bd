"""A stand-in for the partners' endpoints: a real HTTP server on loopback serving a generated partnership.

``GET /<partner>/<feed>.csv`` returns the feed with ``ETag`` (its SHA-256), ``X-Extract-Period`` and
``X-Extract-Kind`` headers, honours ``If-None-Match`` with a 304, and needs ``Authorization: Bearer <token>`` with
that partner's token. Faults can be queued per feed, each used by one request, to show how the pipeline copes:

- ``500`` / ``503`` / ``429``: that status (``503:2`` adds ``Retry-After: 2``);
- ``401``: refused as if the token were wrong;
- ``timeout:S``: wait S seconds before answering;
- ``cut``: promise the whole body, send half, close the connection;
- ``trickle:S``: promise the whole body, send half, then one byte every S seconds (a partner that never finishes);
- ``html``: answer 200 with an HTML error page (wrong content type).

Optionally it pages (``page_rows``: each page a CSV with the header and a ``Link: <...>; rel="next"``), gzips
bodies for clients that accept it, serves HTTPS (``tls``: certificate, key, and a CA whose client certificates it
requires, for mutual TLS), and takes the token as ``X-API-Key`` as well as a bearer token. ``Last-Modified`` and
``If-Modified-Since`` work as ETags do.

Faults are queued on the command line (``--fault police_outcomes=500,500``) or, for tests, with
``POST /_faults`` (JSON ``{"feed": ["500", "cut"]}``). ``GET /_requests`` lists what was asked for.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
import time
from collections import defaultdict, deque
from email.utils import formatdate, parsedate_to_datetime
from gzip import compress as gzip_compress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


class PartnerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        host: str,
        port: int,
        root: Path,
        tokens: dict[str, str],
        page_rows: int | None = None,
        gzip: bool = False,
        tls: tuple[Path, Path, Path | None] | None = None,
    ) -> None:
        super().__init__((host, port), _Handler)
        self.page_rows = page_rows
        self.gzip = gzip
        self.scheme = "http"
        if tls:
            cert, key, client_ca = tls
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            if client_ca:
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(client_ca)
            self.socket = ctx.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"
        self.root = root
        self.tokens = tokens
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # set by shutdown: a trickling answer stops too
        manifest = root / "manifest.json"
        self.manifest = json.loads(manifest.read_text()) if manifest.exists() else {"feeds": {}}
        self._etags: dict[tuple[str, int, int], str] = {}

    def etag_of(self, path: Path) -> str:
        """The file's SHA-256 as an ETag, hashed once per version of the file (as a partner system would store it),
        so a conditional request for an unchanged national-size file costs no re-read."""
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        if key not in self._etags:
            with open(path, "rb") as f:
                self._etags[key] = '"' + hashlib.file_digest(f, "sha256").hexdigest() + '"'
        return self._etags[key]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up mid-answer (a timeout test, a cut body) is expected here

    def queue_faults(self, feed: str, faults: list[str]) -> None:
        with self.lock:
            self.faults[feed].extend(faults)

    def next_fault(self, feed: str) -> str | None:
        with self.lock:
            return self.faults[feed].popleft() if self.faults[feed] else None

    def shutdown(self) -> None:
        self.stopping.set()
        super().shutdown()

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.serve_forever, name="partner-server", daemon=True)
        t.start()
        return t


class _Handler(BaseHTTPRequestHandler):
    server: PartnerServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet: the pipeline logs what matters
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _trickle(self, rest: bytes, every: float) -> None:
        try:
            for i in range(len(rest)):
                if self.server.stopping.wait(every):
                    return
                self.wfile.write(rest[i : i + 1])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what a deadline is for

    def do_POST(self) -> None:
        if self.path != "/_faults":
            return self._send(404)
        length = int(self.headers.get("Content-Length", 0))
        for feed, faults in json.loads(self.rfile.read(length) or b"{}").items():
            self.server.queue_faults(feed, list(faults))
        self._send(204)

    def do_GET(self) -> None:
        if self.path == "/_health":
            return self._send(200, b"ok", {"Content-Type": "text/plain"})
        if self.path == "/_requests":
            body = json.dumps(self.server.requests).encode()
            return self._send(200, body, {"Content-Type": "application/json"})
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 2 or not parts[1].endswith(".csv"):
            return self._send(404, b"not found", {"Content-Type": "text/plain"})
        partner, feed = parts[0], parts[1][: -len(".csv")]
        fault = self.server.next_fault(feed)
        self.server.requests.append(
            {
                "partner": partner,
                "feed": feed,
                "fault": fault,
                "if_none_match": self.headers.get("If-None-Match"),
            }
        )
        expected = self.server.tokens.get(partner)
        given = self.headers.get("Authorization", "")
        key = self.headers.get("X-API-Key", "")
        authorised = expected is not None and (
            hmac.compare_digest(given, f"Bearer {expected}") or hmac.compare_digest(key, expected)
        )
        if fault == "401" or not authorised:
            return self._send(401, b"invalid token", {"Content-Type": "text/plain", "WWW-Authenticate": "Bearer"})
        path = self.server.root / partner / f"{feed}.csv"
        if not path.is_file():
            return self._send(404, b"no such feed", {"Content-Type": "text/plain"})
        if fault and fault.split(":")[0] in ("500", "503", "429"):
            status, _, after = fault.partition(":")
            return self._send(
                int(status),
                b"partner system unavailable",
                {"Content-Type": "text/plain", **({"Retry-After": after} if after else {})},
            )
        if fault and fault.startswith("timeout"):
            time.sleep(float(fault.partition(":")[2] or 30))
        etag = self.server.etag_of(path)
        modified = formatdate(path.stat().st_mtime, usegmt=True)
        meta = self.server.manifest["feeds"].get(feed, {})
        since = self.headers.get("If-Modified-Since")
        if since and not self.headers.get("If-None-Match"):
            try:
                if parsedate_to_datetime(since).timestamp() >= int(path.stat().st_mtime):
                    return self._send(304, b"", {"Last-Modified": modified})
            except (TypeError, ValueError):
                pass
        if fault != "html" and self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", {"ETag": etag})
        body = path.read_bytes()
        query = parse_qs(urlsplit(self.path).query)
        link = None
        if self.server.page_rows:
            lines = body.split(b"\n")
            rows = [r for r in lines[1:] if r]
            page = int(query.get("page", ["1"])[0])
            n = self.server.page_rows
            body = b"\n".join([lines[0], *rows[(page - 1) * n : page * n]]) + b"\n"
            if page * n < len(rows):
                link = f'</{partner}/{feed}.csv?page={page + 1}>; rel="next"'
        headers = {
            "Content-Type": "text/csv; charset=utf-8",
            "Last-Modified": modified,
            **({"Link": link} if link else {}),
            "ETag": etag,
            "X-Extract-Kind": meta.get("kind", ""),
            "X-Extract-Period": f"{meta.get('period_start', '')}/{meta.get('period_end', '')}",
        }
        if fault == "html":
            return self._send(200, b"<html><body>Service error</body></html>", {"Content-Type": "text/html"})
        if fault == "cut" or (fault and fault.startswith("trickle")):
            # promise the whole body and send half; then close (cut), or a byte every S seconds (trickle:S)
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if fault != "cut":
                self._trickle(body[len(body) // 2 :], float(fault.partition(":")[2] or 20))
            self.close_connection = True
            return
        if self.server.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip_compress(body)
            headers["Content-Encoding"] = "gzip"
        self._send(200, body, headers)


def serve(
    root: Path,
    tokens: dict[str, str],
    host: str = "127.0.0.1",
    port: int = 0,
    faults: dict[str, list[str]] | None = None,
    page_rows: int | None = None,
    gzip: bool = False,
    tls: tuple[Path, Path, Path | None] | None = None,
) -> PartnerServer:
    """Start a partner server in a background thread; ``port=0`` picks a free port (see ``.url``)."""
    server = PartnerServer(host, port, root, tokens, page_rows=page_rows, gzip=gzip, tls=tls)
    for feed, fs in (faults or {}).items():
        server.queue_faults(feed, fs)
    server.start()
    return server
