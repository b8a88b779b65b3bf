"""The gateway's one error shape: ``{"error": {"code", "message", "message_ja"}}`` with an HTTP status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """A request the gateway refuses, in English and Japanese."""

    def __init__(
        self, status: int, code: str, message: str, message_ja: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.message_ja = status, code, message, message_ja
        self.headers = dict(headers or {})
        self.detail: list[dict[str, Any]] = []

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "message_ja": self.message_ja}
        if self.detail:
            error["errors"] = self.detail
        return {"error": error}


def unauthorized(message: str = "a valid bearer token is required") -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        f"{message} (Authorization: Bearer <token>)",
        "有効なトークンが必要です（Authorization: Bearer <トークン>）",
        {"WWW-Authenticate": 'Bearer realm="kouiki"'},
    )
