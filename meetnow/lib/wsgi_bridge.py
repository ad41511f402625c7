"""Serve a WSGI application (Django's) from an ASGI server on a fixed thread pool.

a2wsgi does the general job: it streams the request body and the response between
the event loop and the worker thread, one cross-thread hop per body read and per
response chunk (four or more per API request, about a third of a small request's
server CPU in ``bench/chat.py``). Almost every request here has a small body and a
response built in memory, so this bridge reads such a body on the event loop, runs
the whole request in one worker-thread call and sends the finished response back:
one hop out, one back. Requests with a large body go to a2wsgi; streaming responses
(exports, files) are sent chunk by chunk from the worker thread.

A chunked body (no ``Content-Length``) is read in full first (spooled to disk past
``max_body``) and handed to Django with its length: Django reads nothing without a
``Content-Length``, so such a request used to run with an empty body (a 200 that
changed nothing). One larger than ``max_chunked`` is refused with 411.

The response is closed in the worker thread that ran the request, so Django's
``request_finished`` handlers (which return the database connection to the pool)
run in the thread that owns that connection.

Work the request registered with ``meetnow.lib.afterresponse.after_response`` (a
live event, a push enqueued) runs in the same worker thread once the event loop has
written the response, before the response is closed: the client does not wait for
it. A request that registered nothing returns its response as before.
"""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ

from meetnow.lib import afterresponse

Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
_Result = tuple[int, list[tuple[bytes, bytes]], bytes]


class WSGIBridge:
    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        *,
        threads: int,
        max_body: int = 1 << 20,
        max_chunked: int = 64 << 20,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_chunked = max_chunked
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")
        self.streaming = WSGIMiddleware(app, workers=threads)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.streaming(scope, receive, send)  # type: ignore[arg-type]
            return
        if self._chunked(scope):
            await self._call_chunked(scope, receive, send)
            return
        if not self._buffered(scope):
            await self.streaming(scope, receive, send)  # type: ignore[arg-type]
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        stream = io.BytesIO(b"".join(chunks))
        environ = cast(dict[str, Any], build_environ(scope, stream))  # type: ignore[arg-type]
        await self._respond(environ, send)

    async def _respond(self, environ: dict[str, Any], send: Send) -> None:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self.executor, self._run, environ, loop, send)
        if result is not None:
            await self._send_whole(send, *result)

    @staticmethod
    def _chunked(scope: dict[str, Any]) -> bool:
        names = {name for name, _ in scope.get("headers", ())}
        return b"transfer-encoding" in names and b"content-length" not in names

    async def _call_chunked(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        body = tempfile.SpooledTemporaryFile(max_size=self.max_body)  # noqa: SIM115
        size = 0
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_chunked:
                    await self._refuse_length_required(send)
                    return
                body.write(chunk)
                if not message.get("more_body", False):
                    break
            body.seek(0)
            environ = cast(dict[str, Any], build_environ(scope, body))  # type: ignore[arg-type]
            environ["CONTENT_LENGTH"] = str(size)
            await self._respond(environ, send)
        finally:
            body.close()

    @staticmethod
    async def _refuse_length_required(send: Send) -> None:
        # The one error shape (meetnow.lib.errors), built here: Django is not involved.
        payload = json.dumps(
            {
                "status": 411,
                "errors": [
                    {
                        "code": "length_required",
                        "message": "This body is too large to send chunked: send it with "
                        "a Content-Length.",
                    }
                ],
            }
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 411, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _buffered(self, scope: dict[str, Any]) -> bool:
        """A body of a known size up to ``max_body`` (or none) is read up front."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value) <= self.max_body
                except ValueError:
                    return False
        return True

    def _run(
        self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop, send: Send
    ) -> _Result | None:
        started: list[tuple[int, list[tuple[bytes, bytes]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [
                (
                    int(status.split(" ", 1)[0]),
                    [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers],
                )
            ]
            return lambda chunk: None  # the legacy write() callable; Django never uses it

        afterresponse.collect()
        response: Any = None
        try:
            response = self.app(environ, start_response)
            if not getattr(response, "streaming", False):
                body = b"".join(response)
                status, headers = started[0]
                if not afterresponse.collecting_any():
                    return status, headers, body
                # Answer first, then the work registered for after the answer. This
                # thread waits (without the GIL) until the loop has written the answer:
                # running that work meanwhile made the loop wait for the GIL to send
                # it. A failed send is raised; the work still runs (``finally``).
                asyncio.run_coroutine_threadsafe(
                    self._send_whole(send, status, headers, body), loop
                ).result()
                afterresponse.run_collected()
                return None

            def emit(message: Message) -> None:
                asyncio.run_coroutine_threadsafe(send(message), loop).result()

            status, headers = started[0]
            emit({"type": "http.response.start", "status": status, "headers": headers})
            for chunk in response:
                if chunk:
                    emit({"type": "http.response.body", "body": chunk, "more_body": True})
            emit({"type": "http.response.body", "body": b""})
            return None
        finally:
            afterresponse.run_collected()
            close = getattr(response, "close", None)
            if close is not None:
                close()

    @staticmethod
    async def _send_whole(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
