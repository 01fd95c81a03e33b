"""The server's limits, on loopback: a real socket server and real client sockets (issue 24).

Many clients at once are all answered; idle and half-sent connections are closed; past the
connection cap a client gets a quick 503; a client that disconnects mid-answer prints nothing.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from generator.httpd import LiveState, SiteServer

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

REQUEST = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


class Served:
    def __init__(self, server: SiteServer) -> None:
        self.server = server
        self.port = server.port

    def connect(self, timeout: float = 10.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)


@contextmanager
def serve(out: Path, **limits: float) -> Iterator[Served]:
    server = SiteServer("127.0.0.1", 0, out, LiveState(reload=False), **limits)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Served(server)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("<!doctype html><html><body><h1>Dashboard</h1></body></html>")
    (out / "big.html").write_bytes(b"<p>" + b"x" * (32 * 1024 * 1024) + b"</p>")
    return out


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes the connection (recv gives b"") before `seconds` pass."""
    sock.settimeout(seconds)
    try:
        return sock.recv(65536) == b"" or read_all(sock) is not None
    except TimeoutError:
        return False


def test_five_hundred_clients_at_once_are_all_answered(site: Path) -> None:
    with serve(site) as served:
        start = threading.Barrier(500)

        def one(_: int) -> int:
            start.wait()
            with served.connect(timeout=10.0) as sock:
                sock.sendall(REQUEST)
                return status_of(read_all(sock))

        with ThreadPoolExecutor(max_workers=500) as pool:
            statuses = list(pool.map(one, range(500)))
        assert len(statuses) == 500
        assert set(statuses) <= {200, 503}
        assert statuses.count(200) >= 250  # loopback is fast: nearly all are served in full


def test_an_idle_connection_is_closed_and_its_thread_ends(site: Path) -> None:
    with serve(site, idle_seconds=0.5) as served:
        before = threading.active_count()
        with served.connect() as sock:
            time.sleep(0.1)
            assert threading.active_count() == before + 1  # one thread holds the connection
            assert closed_within(sock, 5.0)
        deadline = time.monotonic() + 5
        while threading.active_count() > before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert threading.active_count() == before


def test_a_request_sent_halfway_is_closed(site: Path) -> None:
    with serve(site, idle_seconds=0.5) as served:
        with served.connect() as sock:
            sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: 127")
            assert closed_within(sock, 5.0)
        with served.connect() as sock:  # and the server still answers the next client
            sock.sendall(REQUEST)
            assert status_of(read_all(sock)) == 200


def test_past_the_connection_cap_a_client_gets_a_quick_503(site: Path) -> None:
    with serve(site, max_connections=8, idle_seconds=30.0) as served:
        idle = [served.connect() for _ in range(8)]
        time.sleep(0.2)
        with served.connect(timeout=3.0) as sock:
            reply = read_all(sock)  # answered without sending anything: no slot is free
        assert status_of(reply) == 503
        assert b"Retry-After: 1" in reply
        idle.pop().close()
        time.sleep(0.2)
        with served.connect() as sock:
            sock.sendall(REQUEST)
            assert status_of(read_all(sock)) == 200
        for sock in idle:
            sock.close()


def test_a_client_that_resets_mid_answer_prints_nothing(
    site: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with serve(site) as served:
        for _ in range(3):
            sock = served.connect()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /big.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            sock.recv(1024)  # the answer has started
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # an RST, with most of the 32 MB page unsent
        time.sleep(0.5)
        with served.connect() as sock:
            sock.sendall(REQUEST)
            assert status_of(read_all(sock)) == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert "ConnectionResetError" not in err and "BrokenPipeError" not in err
