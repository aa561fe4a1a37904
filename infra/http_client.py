"""A tiny JSON-over-HTTP client for the local stack (demo and end-to-end tests)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class LocalClient:
    """Talks to `baton local`: JSON bodies by default, the bearer token on every request."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout_s: float = 60) -> None:
        """`timeout_s`: how long a request may wait for its answer (the local server answers
        once what the request started has settled: a whole campaign, for one)."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> HttpResponse:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        sent_headers = dict(headers or {})
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        if auth and self.token:
            sent_headers.setdefault("Authorization", f"Bearer {self.token}")
        req = urllib.request.Request(url, data=body, method=method, headers=sent_headers)  # noqa: S310 (local URL)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310
                return HttpResponse(resp.status, dict(resp.headers.items()), resp.read().decode())
        except urllib.error.HTTPError as err:
            return HttpResponse(err.code, dict(err.headers.items()), err.read().decode())

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("DELETE", path, **kwargs)
