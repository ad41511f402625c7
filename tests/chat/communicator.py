"""A minimal WebSocket communicator over asgiref's ApplicationCommunicator.

(``channels.testing`` imports daphne at package level, which MeetNow does not use.)
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.testing import ApplicationCommunicator

from tests.ws_schema import assert_documented


class WebsocketCommunicator(ApplicationCommunicator):
    def __init__(self, application: Any, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        scope = {
            "type": "websocket",
            "path": path,
            "query_string": b"",
            "headers": headers,
            "subprotocols": [],
        }
        super().__init__(application, scope)  # type: ignore[no-untyped-call]

    # Typed faces of asgiref's methods (asgiref does not annotate them).

    async def send_input(self, message: dict[str, Any]) -> None:
        await super().send_input(message)  # type: ignore[no-untyped-call]

    async def receive_output(self, timeout: float = 1) -> dict[str, Any]:
        output: dict[str, Any] = await super().receive_output(timeout)  # type: ignore[no-untyped-call]
        return output

    async def receive_nothing(self, timeout: float = 0.1, interval: float = 0.01) -> bool:
        nothing: bool = await super().receive_nothing(timeout, interval)  # type: ignore[no-untyped-call]
        return nothing

    async def wait(self, timeout: float = 1) -> None:
        await super().wait(timeout)  # type: ignore[no-untyped-call]

    async def connect(self, timeout: float = 1) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, response.get("subprotocol")

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data: Any) -> None:
        await self.send_to(json.dumps(data))

    async def receive_json_from(self, timeout: float = 1) -> Any:
        response = await self.receive_output(timeout)
        if response["type"] != "websocket.send":
            raise AssertionError(f"expected a frame, got {response}")
        frame = json.loads(response["text"])
        assert_documented(frame)  # every frame the consumer sends, as /api/schema/ says
        return frame

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
