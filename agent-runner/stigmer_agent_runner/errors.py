"""The one exception the HTTP API turns into a 4xx/5xx JSON answer: `{"error": reason, "field"?: name}`."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from starlette.responses import JSONResponse


class RequestError(Exception):
    def __init__(self, status: int, message: str, field: Optional[str] = None,
                 headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        body: Dict[str, Any] = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return JSONResponse(body, status_code=self.status, headers=self.headers)
