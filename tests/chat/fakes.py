"""Local fakes of the push providers on 127.0.0.1: FCM HTTP v1 (HTTP/1.1) and APNs (HTTP/2)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

DEAD_TOKEN = "dead-token"


@dataclass
class Recorded:
    requests: list[dict[str, Any]] = field(default_factory=list)
    tokens_issued: int = 0


@contextmanager
def fake_fcm(tmp_path: Path) -> Iterator[tuple[str, Path, Recorded]]:
    """An FCM HTTP v1 fake: OAuth token endpoint and ``messages:send``.

    Yields (base URL, service-account credentials file, what it received). A device
    token equal to ``DEAD_TOKEN`` is answered like FCM answers an uninstalled app.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key()
    recorded = Recorded()

    class Handler(BaseHTTPRequestHandler):
        base = ""

        def log_message(self, *args: Any) -> None:
            return

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/token":
                from urllib.parse import parse_qs

                form = parse_qs(raw.decode())
                claims = jwt.decode(
                    form["assertion"][0],
                    public,
                    algorithms=["RS256"],
                    audience=self.base + "/token",
                )
                assert claims["scope"].endswith("firebase.messaging")
                recorded.tokens_issued += 1
                self._json(200, {"access_token": "fake-access", "expires_in": 3600})
                return
            if self.headers.get("Authorization") != "Bearer fake-access":
                self._json(401, {"error": {"status": "UNAUTHENTICATED"}})
                return
            body = json.loads(raw)
            recorded.requests.append({"path": self.path, "body": body})
            if body["message"]["token"] == DEAD_TOKEN:
                self._json(
                    404,
                    {
                        "error": {
                            "status": "NOT_FOUND",
                            "details": [{"errorCode": "UNREGISTERED"}],
                        }
                    },
                )
                return
            self._json(200, {"name": "projects/p/messages/1"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    Handler.base = base
    credentials = tmp_path / "fcm.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "meetnow-test",
                "client_email": "push@meetnow-test.iam.gserviceaccount.com",
                "private_key": pem,
                "token_uri": base + "/token",
            }
        )
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, credentials, recorded
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class _ApnsServer:
    """The APNs fake's server side: one HTTP/2 connection per accepted socket."""

    public: ec.EllipticCurvePublicKey
    recorded: Recorded
    listener: socket.socket
    stop: threading.Event = field(default_factory=threading.Event)

    def respond(
        self, conn: h2.connection.H2Connection, stream_id: int, request: dict[str, Any]
    ) -> None:
        headers = request["headers"]
        token = headers[":path"].rsplit("/", 1)[-1]
        bearer = headers.get("authorization", "").removeprefix("bearer ")
        claims = jwt.decode(bearer, self.public, algorithms=["ES256"])
        assert jwt.get_unverified_header(bearer)["kid"] == "KEYID"
        assert claims["iss"] == "TEAMID"
        self.recorded.requests.append(
            {"token": token, "headers": headers, "body": json.loads(request["body"])}
        )
        if token == DEAD_TOKEN:
            status, body = "410", json.dumps({"reason": "Unregistered"}).encode()
        else:
            status, body = "200", b""
        conn.send_headers(
            stream_id,
            [(":status", status), ("apns-id", "00000000-0000-0000-0000-000000000000")]
            + ([("content-length", str(len(body)))] if body else []),
            end_stream=not body,
        )
        if body:
            conn.send_data(stream_id, body, end_stream=True)

    def handle(
        self,
        conn: h2.connection.H2Connection,
        streams: dict[int, dict[str, Any]],
        event: h2.events.Event,
    ) -> bool:
        """Take one HTTP/2 event; False when the client ended the connection."""
        if isinstance(event, h2.events.RequestReceived):
            streams[event.stream_id] = {"headers": dict(event.headers), "body": b""}
        elif isinstance(event, h2.events.DataReceived):
            streams[event.stream_id]["body"] += event.data
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.respond(conn, event.stream_id, streams.pop(event.stream_id))
        elif isinstance(event, h2.events.ConnectionTerminated):
            return False
        return True

    def serve(self, sock: socket.socket) -> None:
        conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        streams: dict[int, dict[str, Any]] = {}
        with sock:
            while not self.stop.is_set():
                try:
                    data = sock.recv(65535)
                except OSError:
                    return
                if not data:
                    return
                for event in conn.receive_data(data):
                    if not self.handle(conn, streams, event):
                        return
                sock.sendall(conn.data_to_send())

    def accept_loop(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(sock,), daemon=True).start()


@contextmanager
def fake_apns(tmp_path: Path) -> Iterator[tuple[str, Path, Recorded]]:
    """An APNs fake speaking HTTP/2 (prior knowledge, cleartext) with the h2 library.

    Checks the provider token (ES256, kid) and answers 410 Unregistered for
    ``DEAD_TOKEN``. Yields (base URL, .p8 key file, what it received).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "apns.p8"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    recorded = Recorded()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    server = _ApnsServer(public=key.public_key(), recorded=recorded, listener=listener)
    thread = threading.Thread(target=server.accept_loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", key_file, recorded
    finally:
        server.stop.set()
        listener.close()
        thread.join(timeout=2)
