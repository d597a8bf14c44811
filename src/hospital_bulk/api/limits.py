"""Reject an upload larger than the limit while it streams in, before the whole body is read."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hospital_bulk.errors import UploadRejected

_FIX = "Split the file into smaller files, or raise HOSPITAL_BULK_MAX_UPLOAD_BYTES."


def _too_large(max_bytes: int) -> str:
    return f"The request body is larger than the limit of {max_bytes} bytes."


class BodySizeLimit:
    """ASGI middleware: return 413 once a request body passes `max_bytes`.

    A declared Content-Length over the limit is rejected before any of the body is read.
    A chunked body is counted as it arrives, and reading stops with a 413 as soon as it
    passes the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return

        received = 0
        exceeded = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise UploadRejected(_too_large(self.max_bytes), fix=_FIX, status_code=413)
            return message

        async def replacing_send(message: Message) -> None:
            # Whatever the app returns once the body was cut off (form parsers turn the
            # error into a 400), the client gets the 413 that explains it.
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif not replaced:
                replaced = True
                await self._reject(send)

        try:
            await self.app(scope, counting_receive, replacing_send)
        except Exception:
            if not exceeded:
                raise
            if not replaced:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Upload rejected",
                "status": 413,
                "detail": _too_large(self.max_bytes),
                "fix": _FIX,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
