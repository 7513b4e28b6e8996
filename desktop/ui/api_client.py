"""HTTP client of the desktop window: bearer token, refresh, the API's error shape → exceptions.

Plain stdlib (urllib) so the window carries no server code; called only off the Tk thread
(through the bridge), never from a widget callback directly.
"""

from __future__ import annotations

import json
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any


class _Raw:
    """A body sent as is (already encoded), not as JSON."""

    def __init__(self, data: bytes) -> None:
        self.data = data


class ApiError(Exception):
    """A non-2xx answer in the API's error shape (or a transport failure: status 0)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class Unreachable(ApiError):
    """The server did not answer at all (down, wrong URL, network)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "unreachable", message)


class Untrusted(Unreachable):
    """HTTPS answered with a certificate no trusted authority signed (a private CA not given)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.code = "tls_untrusted"
        self.reason = reason  # OpenSSL's, e.g. "unable to get local issuer certificate"


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The system's trusted authorities, plus ``ca_file`` (PEM) when the server's certificate
    comes from a private CA (Caddy's ``tls internal``, a company CA). Verification stays on:
    a bad file raises here (OSError, ssl.SSLError) rather than being ignored."""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


class ApiClient:
    """One server, one signed-in user. Thread-safe: a lock serialises refreshes (the API revokes
    a device whose old refresh token is presented twice)."""

    def __init__(self, base_url: str, *, timeout: float = 15.0, device: str = "Conversa desktop",
                 ca_file: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.device = device
        self.ca_file = ca_file or None
        self._tls = tls_context(self.ca_file)
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.user: dict | None = None
        self._refresh_lock = threading.Lock()
        # Called with the new tokens after a sign-in or refresh (the window remembers its device).
        self.on_tokens: Callable[[dict], None] | None = None

    # -- session -----------------------------------------------------------------------------
    def _take_tokens(self, body: dict) -> dict:
        self.access_token = body.get("access_token")
        self.refresh_token = body.get("refresh_token")
        self.user = body.get("user") or self.user
        if self.on_tokens:
            self.on_tokens(body)
        return body

    def login(self, username: str, password: str) -> dict:
        body = self.request("POST", "/auth/login", {"username": username, "password": password,
                                                     "device": self.device}, auth=False)
        return self._take_tokens(body)

    def setup(self, username: str, password: str) -> dict:
        """First admin on a fresh local server (loopback only, only while no user exists)."""
        return self._take_tokens(self.request("POST", "/setup", {"username": username, "password": password},
                                              auth=False))

    def pair(self, code: str) -> dict:
        return self._take_tokens(self.request("POST", "/auth/pair", {"code": code, "device": self.device},
                                              auth=False))

    def refresh(self) -> bool:
        with self._refresh_lock:
            if not self.refresh_token:
                return False
            try:
                body = self.request("POST", "/auth/refresh", {"refresh_token": self.refresh_token}, auth=False)
            except ApiError as e:
                if isinstance(e, Unreachable):
                    raise
                self.access_token = self.refresh_token = None
                return False
            self._take_tokens(body)
            return True

    def logout(self) -> None:
        try:
            self.request("POST", "/auth/logout")
        finally:
            self.access_token = self.refresh_token = None

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user.get("role") == "admin")

    # -- requests ----------------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, body, params=params)

    def put(self, path: str, body: Any = None, *, timeout: float | None = None) -> Any:
        return self.request("PUT", path, body, timeout=timeout)

    def patch(self, path: str, body: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        return self.request("PATCH", path, body, headers=headers)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def upload(
        self, method: str, path: str, filename: str, content: bytes, fields: dict[str, str] | None = None
    ) -> Any:
        """A file as multipart/form-data (`file`, plus text `fields`), e.g. a knowledge document."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in (fields or {}).items()
        ]
        safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            method, path, _Raw(b"".join(parts)), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )

    def get_bytes(self, path: str, **params: Any) -> bytes:
        return b"".join(self.stream(path, **params))

    def stream(self, path: str, chunk: int = 1 << 16, **params: Any) -> Iterator[bytes]:
        """A streamed GET (CSV exports): chunks as they arrive."""
        with self._open("GET", path, None, params, {}, auth=True) as resp:
            while True:
                block = resp.read(chunk)
                if not block:
                    return
                yield block

    def request(self, method: str, path: str, body: Any = None, *, params: dict | None = None,
                headers: dict[str, str] | None = None, auth: bool = True, timeout: float | None = None) -> Any:
        """``timeout``: for a request the server answers only when slow work is done (a model switch)."""
        try:
            with self._open(method, path, body, params, headers or {}, auth=auth, timeout=timeout) as resp:
                raw = resp.read()
                self.last_headers = dict(resp.headers)
        except ApiError as e:
            if e.status == 401 and auth and e.code != "role_changed" and self.refresh():
                with self._open(method, path, body, params, headers or {}, auth=True, timeout=timeout) as resp:
                    raw = resp.read()
                    self.last_headers = dict(resp.headers)
            else:
                raise
        if not raw:
            return None
        return json.loads(raw)

    def request_with_headers(self, method: str, path: str, body: Any = None, *,
                             headers: dict[str, str] | None = None) -> tuple[Any, dict[str, str]]:
        """Like ``request`` but also answers this response's headers (an ETag, say): safe with
        several workers, unlike ``last_headers``. Header names are lower-cased."""
        for attempt in (0, 1):
            try:
                with self._open(method, path, body, None, headers or {}, auth=True) as resp:
                    raw = resp.read()
                    got = {k.lower(): v for k, v in resp.headers.items()}
                return (json.loads(raw) if raw else None), got
            except ApiError as e:
                if attempt or e.status != 401 or e.code == "role_changed" or not self.refresh():
                    raise
        raise AssertionError("unreachable")

    def _open(self, method: str, path: str, body: Any, params: dict | None, headers: dict[str, str], *, auth: bool,
              timeout: float | None = None):
        url = self.base_url + path
        if params:
            clean = {k: v for k, v in params.items() if v is not None and v != ""}
            if clean:
                url += "?" + urllib.parse.urlencode(clean)
        data = None
        hdrs = {"Accept": "application/json", **headers}
        if isinstance(body, _Raw):
            data = body.data  # Content-Type given by the caller (a multipart upload)
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if auth and self.access_token:
            hdrs["Authorization"] = f"Bearer {self.access_token}"
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            return urllib.request.urlopen(req, timeout=timeout or self.timeout, context=self._tls)
        except urllib.error.HTTPError as e:
            raise _as_api_error(e) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise Untrusted(f"{self.base_url}: the server's certificate is not trusted "
                                f"({reason.verify_message})", reason.verify_message) from None
            raise Unreachable(f"{self.base_url} did not answer ({reason})") from None


def _as_api_error(e: urllib.error.HTTPError) -> ApiError:
    try:
        err = json.loads(e.read() or b"{}").get("error") or {}
    except (ValueError, AttributeError):
        err = {}
    return ApiError(e.code, err.get("code", f"http_{e.code}"), err.get("message", e.reason or "error"),
                    err.get("field"))
