"""Refresh the vendored referrer data sets from the repositories they came from.

Each file named in ``streams/data/SOURCE.json`` is downloaded at the head commit
of its repository's default branch, parsed with the same code that reads it at
run time, checked against a minimum size, and only then written, together with
its new commit, checksum and date in SOURCE.json.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Callable, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from schemas.errors import LeadroiError
from streams.channels.referrers import parse_categories, parse_socials, parse_spam

log = logging.getLogger(__name__)

SOURCE_FILE = "SOURCE.json"
GITHUB_API_URL = "https://api.github.com"
GITHUB_RAW_URL = "https://raw.githubusercontent.com"

# A refreshed list smaller than this is a broken download or a moved file, not
# a real shrink of the data set.
_PARSERS: dict[str, tuple[Callable[[str], Sized], int]] = {
    "ga4_source_categories.csv": (parse_categories, 300),
    "matomo_socials.yml": (parse_socials, 30),
    "referrer_spam.txt": (parse_spam, 500),
}


class RefreshFailed(LeadroiError):
    """A data set could not be downloaded or did not look like the data set.

    Operator action: retry later; the vendored copy is left unchanged.
    """

    retryable = True


@dataclass(frozen=True)
class Refreshed:
    name: str
    repository: str
    commit: str
    entries: int
    changed: bool


def data_dir() -> Path:
    import streams

    return Path(streams.__file__).parent / "data"


async def _get(session: aiohttp.ClientSession, url: str) -> bytes:
    try:
        async with session.get(url) as response:
            if response.status != 200:
                raise RefreshFailed(
                    f"GET {url}: status {response.status}; expected 200"
                )
            return await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RefreshFailed(f"GET {url}: {exc!r}") from exc


async def _head_commit(
    session: aiohttp.ClientSession, api_url: str, repository: str
) -> str:
    repo = json.loads(await _get(session, f"{api_url}/repos/{repository}"))
    branch = repo.get("default_branch")
    if not isinstance(branch, str) or not branch:
        raise RefreshFailed(
            f"{repository}: default_branch is {branch!r}; expected a name"
        )
    commit = json.loads(
        await _get(session, f"{api_url}/repos/{repository}/commits/{branch}")
    )
    sha = commit.get("sha")
    if not isinstance(sha, str) or len(sha) != 40:
        raise RefreshFailed(
            f"{repository}@{branch}: sha is {sha!r}; expected 40 hex digits"
        )
    return sha


def _check(name: str, text: str) -> int:
    parser, minimum = _PARSERS[name]
    try:
        entries = len(parser(text))
    except Exception as exc:  # any parse failure means the download is unusable
        raise RefreshFailed(f"{name}: cannot be parsed ({exc})") from exc
    if entries < minimum:
        raise RefreshFailed(f"{name}: {entries} entries; expected at least {minimum}")
    return entries


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


async def _refresh_one(
    session: aiohttp.ClientSession,
    target: Path,
    name: str,
    source: dict[str, Any],
    api_url: str,
    raw_url: str,
) -> tuple[Refreshed, bytes]:
    repository, path = source["repository"], source["path"]
    commit = await _head_commit(session, api_url, repository)
    data = await _get(session, f"{raw_url}/{repository}/{commit}/{path}")
    entries = _check(name, data.decode("utf-8"))
    changed = hashlib.sha256(data).hexdigest() != source.get("sha256")
    log.info(
        "%s: %s@%s, %d entries, changed=%s",
        name,
        repository,
        commit[:12],
        entries,
        changed,
    )
    return Refreshed(name, repository, commit, entries, changed), data


async def refresh(
    target: Path | None = None,
    *,
    timeout_s: float = 30.0,
    api_url: str = GITHUB_API_URL,
    raw_url: str = GITHUB_RAW_URL,
    today: dt.date | None = None,
) -> list[Refreshed]:
    """Download every data set; write them only when all of them passed."""
    target = target or data_dir()
    sources: dict[str, dict[str, Any]] = json.loads(
        (target / SOURCE_FILE).read_text("utf-8")
    )
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    headers = {"User-Agent": "leadroi-channels-refresh"}

    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
        results = [
            await _refresh_one(session, target, name, source, api_url, raw_url)
            for name, source in sources.items()
        ]

    fetched_on = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    for refreshed, data in results:
        _write_atomically(target / refreshed.name, data)
        sources[refreshed.name].update(
            commit=refreshed.commit,
            sha256=hashlib.sha256(data).hexdigest(),
            fetched_on=fetched_on,
        )
    text = json.dumps(sources, indent=2, ensure_ascii=False) + "\n"
    _write_atomically(target / SOURCE_FILE, text.encode("utf-8"))
    return [refreshed for refreshed, _ in results]


def refresh_sync(target: Path | None = None, **options: Any) -> list[Refreshed]:
    return asyncio.run(refresh(target, **options))
