"""Fetch a model file over HTTPS into a `.part` file, resuming with HTTP Range after a break.

Runs on a worker thread (blocking urllib); the caller passes `cancelled` (checked between
chunks) and `progress`. A network break keeps the `.part` file, so the next attempt — in the
same call, or a later download of the same file — asks only for the rest (`Range: bytes=N-`).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from llm.errors import Cancelled, LLMError

CHUNK = 1 << 20
USER_AGENT = "Conversa-model-download/1"
LOOPBACK_NAMES = ("localhost",)


class DownloadFailed(LLMError):
    code = "download_failed"


class NoSpace(LLMError):
    code = "no_space"


def allowed_url(url: str) -> bool:
    """HTTPS only; plain HTTP only to this machine (loopback: a local mirror, and the tests)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme == "https":
        return bool(host)
    if parts.scheme != "http":
        return False
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects (Hugging Face answers with one to its CDN) only to allowed URLs."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        if not allowed_url(newurl):
            raise DownloadFailed(f"refused a redirect to a non-HTTPS address ({urlsplit(newurl).scheme})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_SafeRedirects)


def _content_range_total(value: str | None, offset: int) -> int | None:
    """`bytes START-END/TOTAL` → TOTAL; a range not starting at `offset` is refused."""
    m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", (value or "").strip())
    if not m:
        raise DownloadFailed("the server answered a resume without a valid Content-Range")
    if int(m.group(1)) != offset:
        raise DownloadFailed("the server resumed at the wrong place")
    return None if m.group(3) == "*" else int(m.group(3))


def fetch(
    url: str,
    part: Path,
    *,
    expected_size: int | None = None,
    free_bytes: Callable[[], int],
    progress: Callable[[int, int | None], None],
    cancelled: Callable[[], bool],
    attempts: int = 3,
    timeout: float = 30,
    retry_pause: float = 1.0,
) -> int:
    """Download `url` into `part` (resuming what is there); returns the file's size.

    Before a byte is written, the remaining size (Content-Length, else `expected_size`) is
    compared with `free_bytes()`: NoSpace when it does not fit.
    """
    if not allowed_url(url):
        raise DownloadFailed("only https:// addresses (or http:// to this machine) are allowed")
    last_error = "no attempt made"
    for attempt in range(attempts):
        if attempt:
            time.sleep(retry_pause)
        offset = part.stat().st_size if part.exists() else 0
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        if offset:
            req.add_header("Range", f"bytes={offset}-")
        try:
            resp = _opener.open(req, timeout=timeout)
        except urllib.error.HTTPError as e:
            if e.code == 416 and offset and expected_size == offset:
                return offset  # the part file is already whole
            if e.code == 416 and offset:
                part.unlink()  # what we hold is not a prefix of this file: start again
                last_error = "the server refused to resume"
                continue
            raise DownloadFailed(f"the server answered HTTP {e.code}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            last_error = f"could not connect ({reason})"
            continue
        with resp:
            if resp.status == 206:
                total = _content_range_total(resp.headers.get("Content-Range"), offset)
            elif resp.status == 200:
                offset = 0  # the server ignored the range (or there was none): start over
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
            else:
                raise DownloadFailed(f"the server answered HTTP {resp.status}")
            total = total or expected_size
            if total is not None:
                remaining = total - offset
                free = free_bytes()
                if remaining > free:
                    raise NoSpace(
                        f"not enough disk space: the model needs {remaining / 1e6:.0f} MB more, "
                        f"the models folder's disk has {free / 1e6:.0f} MB free"
                    )
            done = offset
            try:
                with open(part, "r+b" if offset else "wb") as out:
                    out.seek(offset)
                    out.truncate()
                    progress(done, total)
                    while True:
                        if cancelled():
                            raise Cancelled("download cancelled")
                        chunk = resp.read(CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        done += len(chunk)
                        progress(done, total)
                    out.flush()
                    os.fsync(out.fileno())
            except LLMError:
                raise
            except Exception as e:  # noqa: BLE001 - resets, timeouts, http.client.IncompleteRead: retry
                if isinstance(e, OSError) and e.errno == errno.ENOSPC:
                    raise NoSpace("the disk filled up during the download") from None
                last_error = f"the connection broke at {done} bytes ({type(e).__name__})"
                continue
        if total is not None and done < total:
            last_error = f"the connection ended at {done} of {total} bytes"
            continue
        return done
    raise DownloadFailed(f"download failed: {last_error}; ask again to resume from the partial file")
