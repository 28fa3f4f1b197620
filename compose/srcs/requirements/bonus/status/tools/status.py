"""Status page of the Inception stack (bonus B05).

Probes every service over the private Docker network with its own protocol (a TLS request to
nginx, a FastCGI ping to php-fpm, the MariaDB greeting, a Redis PING, the FTP banner, an HTTP GET)
and shows the result as an HTML page (/) and as JSON (/api). It needs no Docker socket: it sees
what a client of each service sees, which is what "healthy" means to a user (see DEV_DOC.md).

Standard library only; runs as the user nobody.
"""

from __future__ import annotations

import html
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from http.client import HTTPConnection, HTTPSConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

SERVICES_FILE = "/etc/inception-status/services.json"
LISTEN_PORT = 8000
PROBE_TIMEOUT_S = 3.0
# Results are reused for a few seconds so that a burst of page loads does not probe every
# service again each time.
CACHE_TTL_S = 5.0
PAGE_REFRESH_S = 10
DOMAIN_NAME = os.environ.get("DOMAIN_NAME", "localhost")


@dataclass
class Probe:
    name: str
    probe: str
    port: int
    up: bool = False
    detail: str = ""
    latency_ms: int = 0


def _connect(host: str, port: int) -> socket.socket:
    return socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S)


def _recv_some(sock: socket.socket, limit: int = 4096) -> bytes:
    data = sock.recv(limit)
    if not data:
        raise ConnectionError("closed without answering")
    return data


def probe_https(host: str, port: int) -> str:
    # The stack's certificate is self-signed: the page checks that TLS and HTTP answer, not trust.
    # The path is one nginx refuses by itself (403), so this times nginx alone: WordPress has its
    # own probe, and its first page after a boot can take longer than PROBE_TIMEOUT_S.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = HTTPSConnection(host, port, timeout=PROBE_TIMEOUT_S, context=context)
    try:
        conn.request("GET", "/wp-config.php", headers={"Host": DOMAIN_NAME})
        response = conn.getresponse()
        version = conn.sock.version() if conn.sock else "TLS"
        if response.status >= 500:
            raise ConnectionError(f"HTTP {response.status} over {version}")
        return f"HTTP {response.status} over {version}"
    finally:
        conn.close()


def probe_http(host: str, port: int) -> str:
    conn = HTTPConnection(host, port, timeout=PROBE_TIMEOUT_S)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        if response.status != 200:
            raise ConnectionError(f"HTTP {response.status}")
        return f"HTTP {response.status}, {len(response.read())} bytes"
    finally:
        conn.close()


def _fcgi_record(record_type: int, content: bytes, request_id: int = 1) -> bytes:
    return struct.pack("!BBHHBx", 1, record_type, request_id, len(content), 0) + content


def _fcgi_pair(name: bytes, value: bytes) -> bytes:
    def length(n: int) -> bytes:
        return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)

    return length(len(name)) + length(len(value)) + name + value


def probe_fastcgi_ping(host: str, port: int) -> str:
    """php-fpm's ping.path, asked in FastCGI directly (as the containers' own health checks do)."""
    begin, params, stdin, stdout, end = 1, 4, 5, 6, 3
    pairs = b"".join(
        _fcgi_pair(k, v) for k, v in ((b"SCRIPT_NAME", b"/ping"), (b"SCRIPT_FILENAME", b"/ping"), (b"REQUEST_METHOD", b"GET"))
    )
    request = (
        _fcgi_record(begin, struct.pack("!HB5x", 1, 0))
        + _fcgi_record(params, pairs)
        + _fcgi_record(params, b"")
        + _fcgi_record(stdin, b"")
    )
    with _connect(host, port) as sock:
        sock.sendall(request)
        buffer, output = b"", b""
        deadline = time.monotonic() + PROBE_TIMEOUT_S
        while time.monotonic() < deadline:
            buffer += _recv_some(sock)
            while len(buffer) >= 8:
                _, rtype, _, clen, plen = struct.unpack("!BBHHBx", buffer[:8])
                if len(buffer) < 8 + clen + plen:
                    break
                content, buffer = buffer[8 : 8 + clen], buffer[8 + clen + plen :]
                if rtype == stdout:
                    output += content
                elif rtype == end:
                    if b"pong" not in output:
                        raise ConnectionError("php-fpm answered without pong")
                    return "php-fpm answers its FastCGI ping"
        raise TimeoutError("no complete FastCGI answer")


def probe_mysql_greeting(host: str, port: int) -> str:
    with _connect(host, port) as sock:
        packet = _recv_some(sock)
    # 3-byte length, sequence id, then protocol version 10 and the NUL-terminated server version.
    if len(packet) < 6 or packet[4] != 10:
        raise ConnectionError("not a MySQL protocol greeting")
    version = packet[5:].split(b"\0", 1)[0].decode("ascii", "replace")
    return f"server {version.removeprefix('5.5.5-')}"


def probe_redis_ping(host: str, port: int) -> str:
    with _connect(host, port) as sock:
        sock.sendall(b"PING\r\n")
        answer = _recv_some(sock).strip()
    if answer != b"+PONG":
        raise ConnectionError(f"unexpected answer {answer[:40]!r}")
    return "PONG"


def probe_ftp_banner(host: str, port: int) -> str:
    with _connect(host, port) as sock:
        banner = _recv_some(sock).decode("ascii", "replace").strip()
        sock.sendall(b"QUIT\r\n")
    if not banner.startswith("220"):
        raise ConnectionError(f"unexpected banner {banner[:40]!r}")
    return f"banner: {banner[:60]}"


def probe_self(_host: str, _port: int) -> str:
    return "this page"


PROBES: dict[str, Callable[[str, int], str]] = {
    "https": probe_https,
    "http": probe_http,
    "fastcgi-ping": probe_fastcgi_ping,
    "mysql-greeting": probe_mysql_greeting,
    "redis-ping": probe_redis_ping,
    "ftp-banner": probe_ftp_banner,
    "self": probe_self,
}


def run_probe(spec: Probe) -> Probe:
    started = time.monotonic()
    result = Probe(spec.name, spec.probe, spec.port)
    try:
        result.detail = PROBES[spec.probe](spec.name, spec.port)
        result.up = True
    except socket.gaierror:
        # Docker's DNS only knows running containers: an unknown name is a stopped service.
        result.detail = "not running (the name does not resolve on the network)"
    except (OSError, ssl.SSLError, ConnectionError, TimeoutError) as error:
        result.detail = f"{type(error).__name__}: {error}"
    result.latency_ms = round((time.monotonic() - started) * 1000)
    return result


def load_services() -> list[Probe]:
    with open(SERVICES_FILE, encoding="utf-8") as f:
        entries = json.load(f)["services"]
    unknown = [e["probe"] for e in entries if e["probe"] not in PROBES]
    if unknown:
        raise SystemExit(f"status: unknown probe type(s) in {SERVICES_FILE}: {', '.join(unknown)}")
    return [Probe(e["name"], e["probe"], int(e["port"])) for e in entries]


class StatusCache:
    def __init__(self, services: list[Probe]) -> None:
        self._services = services
        self._lock = threading.Lock()
        self._results: list[Probe] = []
        self._at = 0.0
        self._pool = ThreadPoolExecutor(max_workers=len(services))

    def results(self) -> tuple[list[Probe], float]:
        with self._lock:
            if time.monotonic() - self._at > CACHE_TTL_S:
                self._results = list(self._pool.map(run_probe, self._services))
                self._at = time.monotonic()
            return self._results, time.time() - (time.monotonic() - self._at)


def render_html(results: list[Probe], checked_at: float) -> str:
    rows = "\n".join(
        f'<tr class="{"up" if r.up else "down"}"><td>{html.escape(r.name)}</td>'
        f'<td>{"up" if r.up else "DOWN"}</td><td>{html.escape(r.detail)}</td><td>{r.latency_ms} ms</td></tr>'
        for r in results
    )
    up = sum(r.up for r in results)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(checked_at))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{PAGE_REFRESH_S}">
<title>Inception status: {up}/{len(results)} up</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;width:100%}}td,th{{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}}
tr.up td:nth-child(2){{color:#1a7f37;font-weight:bold}}tr.down td:nth-child(2){{color:#cf222e;font-weight:bold}}</style>
</head><body><h1>Inception status: {up}/{len(results)} services up</h1>
<p>Each service is probed over the private network with its own protocol. Checked {stamp};
this page refreshes every {PAGE_REFRESH_S} s. JSON: <a href="api">api</a>.</p>
<table><thead><tr><th>service</th><th>state</th><th>detail</th><th>answer time</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def make_handler(cache: StatusCache) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "inception-status"
        sys_version = ""

        def _send(self, status: int, content_type: str, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._send(200, "text/plain; charset=utf-8", "ok\n")
            elif path == "/api":
                results, at = cache.results()
                body = {"checked_at": int(at), "services": [asdict(r) for r in results]}
                self._send(200, "application/json", json.dumps(body, indent=2) + "\n")
            elif path in ("/", "/index.html"):
                results, at = cache.results()
                self._send(200, "text/html; charset=utf-8", render_html(results, at))
            else:
                self._send(404, "text/plain; charset=utf-8", "not found\n")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
            if not self.path.startswith("/healthz"):
                sys.stderr.write(f"status: {self.address_string()} {format % args}\n")

    return Handler


def main() -> None:
    cache = StatusCache(load_services())
    server = ThreadingHTTPServer(("0.0.0.0", LISTEN_PORT), make_handler(cache))
    sys.stderr.write(f"status: listening on port {LISTEN_PORT} for {DOMAIN_NAME}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
