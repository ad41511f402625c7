"""meetnow.lib.wsgi_bridge: Django (WSGI) served from uvicorn (ASGI) on a thread pool."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

from meetnow.lib.afterresponse import after_response
from meetnow.lib.wsgi_bridge import WSGIBridge


class _Echo:
    """A WSGI app that answers with what it received; records where it was closed."""

    def __init__(self, *, streaming: bool = False) -> None:
        self.streaming = streaming
        self.closed_in: list[str] = []
        self.content_length = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = environ["wsgi.input"].read()
        self.content_length = environ.get("CONTENT_LENGTH", "")
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-Echo", "yes")])
        app = self

        class Response:
            streaming = app.streaming

            def __iter__(self) -> Any:
                yield f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}?".encode()
                yield environ["QUERY_STRING"].encode() + b" "
                yield environ.get("HTTP_X_SESSION_TOKEN", "").encode() + b" " + body

            def close(self) -> None:
                app.closed_in.append(threading.current_thread().name)

        return Response()


def _call(app: Any, body: bytes, *, chunks: int = 1, length: bool = True) -> list[dict[str, Any]]:
    headers = [(b"x-session-token", b"tok")]
    if length:
        headers.append((b"content-length", str(len(body)).encode()))
    else:
        headers.append((b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/api/v1/x",
        "raw_path": b"/api/v1/x",
        "query_string": b"a=1",
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
    }
    size = max(1, len(body) // chunks)
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    incoming = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=10))
    return sent


def _body(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_small_request_runs_in_one_thread_call_and_answers_in_two_messages() -> None:
    echo = _Echo()
    sent = _call(WSGIBridge(echo, threads=2), b'{"text": "hi"}', chunks=3)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 201
    assert (b"x-echo", b"yes") in sent[0]["headers"]
    assert _body(sent) == b'POST /api/v1/x?a=1 tok {"text": "hi"}'
    # Closed (Django's request_finished: the DB connection goes back to the pool) in
    # the worker thread that ran the request, not on the event loop.
    assert len(echo.closed_in) == 1
    assert echo.closed_in[0].startswith("http")


def test_streaming_responses_are_sent_chunk_by_chunk() -> None:
    echo = _Echo(streaming=True)
    sent = _call(WSGIBridge(echo, threads=2), b"abc")
    assert [m["type"] for m in sent] == ["http.response.start"] + ["http.response.body"] * 4
    assert [m.get("more_body", False) for m in sent[1:]] == [True, True, True, False]
    assert _body(sent) == b"POST /api/v1/x?a=1 tok abc"
    assert echo.closed_in[0].startswith("http")


def test_large_and_chunked_bodies_reach_the_app() -> None:
    big = b"x" * 5000
    for length in (True, False):
        echo = _Echo()
        sent = _call(WSGIBridge(echo, threads=2, max_body=1000), big, chunks=5, length=length)
        assert sent[0]["status"] == 201
        assert _body(sent) == b"POST /api/v1/x?a=1 tok " + big
        assert len(echo.closed_in) == 1
        # Django reads a body only up to CONTENT_LENGTH: a chunked one gets its length.
        assert echo.content_length == "5000"


def test_a_chunked_body_over_the_limit_is_refused_with_411() -> None:
    echo = _Echo()
    bridge = WSGIBridge(echo, threads=2, max_body=100, max_chunked=1000)
    sent = _call(bridge, b"x" * 5000, chunks=10, length=False)
    assert sent[0]["status"] == 411
    body = json.loads(_body(sent))
    assert body["status"] == 411
    assert body["errors"][0]["code"] == "length_required"
    assert echo.closed_in == []  # the app never ran


class _Deferring(_Echo):
    """An app that registers work for after its answer (meetnow.lib.afterresponse)."""

    def __init__(self, work: list[Any], *, streaming: bool = False) -> None:
        super().__init__(streaming=streaming)
        self.work = work

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        for fn in self.work:
            after_response(fn)
        return super().__call__(environ, start_response)


def test_work_registered_for_after_the_answer_runs_once_the_answer_has_gone_out(
    caplog: Any,
) -> None:
    answered = threading.Event()
    ran: list[tuple[str, bool, int]] = []
    app: _Deferring

    def record(name: str) -> Any:
        def fn() -> None:
            # The answer goes out without waiting for this work (it would time out).
            ran.append((name, answered.wait(5), len(app.closed_in)))

        return fn

    def fail() -> None:
        raise RuntimeError("callback failed")

    app = _Deferring([record("event"), fail, record("push")])
    bridge = WSGIBridge(app, threads=2)
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/x",
        "raw_path": b"/x",
        "query_string": b"",
        "headers": [(b"content-length", b"0")],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            answered.set()

    with caplog.at_level(logging.ERROR, logger="meetnow.lib.afterresponse"):
        asyncio.run(asyncio.wait_for(bridge(scope, receive, send), timeout=10))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 201
    assert _body(sent) == b"POST /x?  "
    # In order, each after the answer, all before the response is closed (Django's
    # request_finished), in the request's worker thread; a failure is logged and the
    # next callback still runs.
    assert ran == [("event", True, 0), ("push", True, 0)]
    assert len(app.closed_in) == 1
    assert app.closed_in[0].startswith("http")
    assert "after-response callback" in caplog.text
    assert "fail" in caplog.text


def test_after_a_streaming_answer_too_and_at_once_outside_the_bridge() -> None:
    ran: list[int] = []
    closed_in: list[str] = []
    app = _Deferring([lambda: ran.append(len(closed_in))], streaming=True)
    app.closed_in = closed_in
    sent = _call(WSGIBridge(app, threads=2), b"x")
    assert _body(sent).endswith(b"tok x")
    assert ran == [0]
    assert app.closed_in
    # No bridge collecting (test client, a2wsgi, commands, tasks): the work runs at once.
    after_response(lambda: ran.append(-1))
    assert ran == [0, -1]
