"""The local gateway's socket layer, met over raw sockets as a misbehaving or busy client meets it:
bad framing is answered as API Gateway would (the template's GatewayResponses shape) and never
hangs; a burst of concurrent connections is accepted; a response leaves in one piece."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator

import pytest

from sandbox.functions import functions
from sandbox.gateway import MAX_BODY_BYTES, Gateway, api_routes
from tests.support import invoice_body, wait_for

BODY_TIMEOUT = 0.5  # the gateway's bounded read of a body, shortened for the test
CLIENT_TIMEOUT = 20.0  # far longer: a hanging gateway fails the test instead of passing it


@pytest.fixture
def gateway(aws: None) -> Iterator[Gateway]:
    server = Gateway(api_routes(functions()), port=0, body_timeout=BODY_TIMEOUT).start()
    yield server
    server.stop()


def connect(gateway: Gateway) -> socket.socket:
    sock = socket.create_connection(gateway.server.server_address[:2], timeout=CLIENT_TIMEOUT)
    return sock


def post(body: bytes, content_length: str | None = None, extra: str = "") -> bytes:
    length = str(len(body)) if content_length is None else content_length
    head = (
        "POST /api/create-invoice HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    )
    return head.encode() + body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response, framed by its Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        rest += chunk
    return int(lines[0].split()[1]), headers, rest[:length]


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", " "])
def test_a_content_length_that_is_not_a_number_is_a_400_json_and_the_connection_closes(
    gateway: Gateway, length: str
) -> None:
    with connect(gateway) as sock:
        sock.sendall(post(b"{}", content_length=length))
        status, headers, body = read_response(sock)
        assert status == 400
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "bad_request"
        assert closed_by_server(sock)


def test_a_body_shorter_than_its_content_length_is_answered_after_the_read_timeout(gateway: Gateway) -> None:
    with connect(gateway) as sock:
        sock.sendall(post(b'{"amount": 1', content_length="500"))  # 488 bytes never come
        status, _, body = read_response(sock)  # the socket's own timeout is 20 s
        assert status == 400
        assert "shorter than its Content-Length" in json.loads(body)["error"]["message"]
        assert closed_by_server(sock)


def test_a_client_that_closes_inside_the_body_is_not_served(gateway: Gateway) -> None:
    with connect(gateway) as sock:
        sock.sendall(post(b'{"amount": 1', content_length="500"))
        sock.shutdown(socket.SHUT_WR)
        status, _, body = read_response(sock)
        assert status == 400
        assert json.loads(body)["error"]["code"] == "bad_request"  # the gateway's, not the handler's
    # The gateway still serves.
    with connect(gateway) as sock:
        sock.sendall(post(json.dumps(invoice_body()).encode()))
        assert read_response(sock)[0] == 200


def test_a_body_over_api_gateways_limit_is_a_413_before_it_is_read(gateway: Gateway) -> None:
    with connect(gateway) as sock:
        sock.sendall(post(b"", content_length=str(MAX_BODY_BYTES + 1)))
        status, _, body = read_response(sock)
        assert status == 413
        assert json.loads(body)["error"]["code"] == "bad_request"
        assert closed_by_server(sock)


def test_a_chunked_body_is_refused_instead_of_being_read_as_the_next_request(gateway: Gateway) -> None:
    with connect(gateway) as sock:
        sock.sendall(
            b"POST /api/create-invoice HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
        )
        status, _, body = read_response(sock)
        assert status == 411
        assert json.loads(body)["error"]["code"] == "bad_request"
        assert closed_by_server(sock)


def test_sixty_connections_arriving_at_once_are_all_accepted_and_answered(aws: None) -> None:
    # Sixty clients connect while the gateway's accept loop is not running yet (as when it is
    # busy): the kernel must hold every handshake in the listen backlog. socketserver's default
    # backlog of 5 dropped the rest (clients saw resets, or connects that never completed).
    clients = 60
    gateway = Gateway(api_routes(functions()), port=0)
    socks = []
    try:
        for _ in range(clients):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(gateway.server.server_address[:2])
            socks.append(sock)
        wait_for(lambda: len(select.select([], socks, [], 0.1)[1]) == clients, timeout=10)
        assert all(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for sock in socks)

        gateway.start()
        for index, sock in enumerate(socks):
            sock.settimeout(CLIENT_TIMEOUT)
            sock.sendall(post(json.dumps(invoice_body(reference=f"burst-{index}")).encode()))
        assert [read_response(sock)[0] for sock in socks] == [200] * clients
    finally:
        for sock in socks:
            sock.close()
        if gateway.thread is None:
            gateway.server.server_close()
        else:
            gateway.stop()


def test_each_response_on_a_keep_alive_connection_arrives_whole_in_one_read(gateway: Gateway) -> None:
    # Headers and body in one send with TCP_NODELAY: a client's first read gets the whole answer.
    # With two sends, Nagle held the body back until the client's delayed ACK (~40 ms each).
    with connect(gateway) as sock:
        for index in range(10):
            sock.sendall(post(json.dumps(invoice_body(reference=f"ka-{index}")).encode()))
            first = sock.recv(65536)
            head, _, body = first.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            length = int(
                next(
                    v for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k.lower() == b"content-length"
                )
            )
            assert len(body) == length, f"response {index}: {len(body)} of {length} body bytes in the first read"
