"""What the API does before a request reaches an endpoint: size limit, errors, API key.

- ``BodySizeLimit`` answers 413 to a body over ``serving.max_request_bytes``, whether
  its size is declared up front or only shows as it streams in, so an oversized request
  is never held in memory whole.
- ``brief_validation_errors`` answers a 422 that names each bad field and says what is
  wrong with it, without the value that was refused: echoing it back could return
  megabytes, or a value (``NaN``, a lone surrogate) that JSON cannot even encode.
- ``api_key_check`` demands the ``X-API-Key`` header when the key's environment
  variable is set.
"""

import os
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request, Security, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ProjectError

API_KEY_VARIABLE = "{{ cookiecutter.package_name | upper }}_API_KEY"
API_KEY_HEADER = "X-API-Key"
# 422 by number: Starlette renamed its constant (_ENTITY became _CONTENT) between versions.
UNPROCESSABLE = 422
LONGEST_NAME = 80  # characters of a field name quoted in an error
LONGEST_MESSAGE = 300
MOST_ERRORS = 20  # listed in one 422; the count says how many there were in all


class BodySizeLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._too_large()(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:  # FastAPI turns this into the response
                raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, self._reason())
            return message

        await self.app(scope, counted, send)

    def _reason(self) -> str:
        return f"request body over {self.limit} bytes (serving.max_request_bytes)"

    def _too_large(self) -> JSONResponse:
        return JSONResponse({"detail": self._reason()}, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def _printable(part: Any, longest: int = LONGEST_NAME) -> int | str:
    """A location part or message as JSON can always carry it: short, and valid Unicode."""
    if isinstance(part, int):
        return part
    text = str(part).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= longest else text[:longest] + "..."


async def brief_validation_errors(_: Request, error: Exception) -> JSONResponse:
    """A 422 listing each error's location, message and type, never the refused input."""
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for it alone
    problems = error.errors()
    detail: list[dict[str, Any]] = [
        {
            "loc": [_printable(part) for part in problem["loc"]],
            "msg": _printable(problem["msg"], LONGEST_MESSAGE),
            "type": problem["type"],
        }
        for problem in problems[:MOST_ERRORS]
    ]
    if len(problems) > MOST_ERRORS:
        detail.append(
            {
                "loc": ["body"],
                "msg": f"and {len(problems) - MOST_ERRORS} more errors, not listed",
                "type": "more_errors",
            }
        )
    return JSONResponse({"detail": detail}, UNPROCESSABLE)


def api_key_check(expected: str) -> Callable[[str | None], Awaitable[None]]:
    """A dependency that answers 401 unless the request carries ``expected`` as its key."""

    async def check(
        given: str | None = Security(APIKeyHeader(name=API_KEY_HEADER, auto_error=False)),
    ) -> None:
        if given is None or not secrets.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                f"missing or wrong {API_KEY_HEADER} header",
                headers={"WWW-Authenticate": API_KEY_HEADER},
            )

    return check


def configured_api_key() -> str | None:
    """The key from the environment; unset or empty means the API is open."""
    key = os.environ.get(API_KEY_VARIABLE) or None
    if key is not None and not (key.isascii() and key.isprintable()):
        # HTTP carries header values as bytes that servers read as Latin-1: no client
        # could send a key with other characters so that it compares equal.
        raise ProjectError(f"{API_KEY_VARIABLE}: use printable ASCII characters only")
    return key
