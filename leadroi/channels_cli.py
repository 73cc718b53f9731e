"""``leadroi channels``: explain how a URL is classified, refresh referrer data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from streams.channels import Classification, Classifier, load_ruleset


def _line(label: str, value: str) -> None:
    click.echo(f"{label + ':':<16} {value}")


def _with_raw(normalised: str, raw: str) -> str:
    return normalised if raw in ("", normalised) else f"{normalised}  (raw {raw!r})"


def _print(found: Classification, url: str, referrer: str) -> None:
    _line("url", url or "(none)")
    _line("referrer", referrer or "(none)")
    _line("source", _with_raw(found.source, found.source_raw))
    _line("medium", _with_raw(found.medium, found.medium_raw))
    _line("campaign", _with_raw(found.campaign, found.campaign_raw))
    if found.term_raw:
        _line("term", _with_raw(found.term, found.term_raw))
    if found.content_raw:
        _line("content", _with_raw(found.content, found.content_raw))
    clicks = ", ".join(f"{name}={value}" for name, value in found.click_ids.items())
    _line("click ids", clicks or "(none)")
    _line("category", found.source_category or "(none)")
    _line("channel", found.channel)
    _line("rule", found.rule)
    _line("why", found.why)
    if found.excluded:
        _line("excluded", f"{found.excluded}: this hit starts no touch")
    _line("flags", ", ".join(found.flags) or "(none)")
    _line("rule set", found.ruleset)


@click.group("channels")
def channels() -> None:
    """Channel grouping: explain a classification, refresh referrer data."""


@channels.command("explain")
@click.argument("url")
@click.argument("referrer", required=False, default="")
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A rule file (JSON or YAML) instead of the shipped rule set.",
)
@click.option(
    "--own-domain",
    "own_domains",
    multiple=True,
    help="A domain of your own site; repeat for several.",
)
@click.option("--touch-kind", default="", help="pageview, click or offline.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the classification as JSON."
)
def explain(
    url: str,
    referrer: str,
    rules_path: Path | None,
    own_domains: tuple[str, ...],
    touch_kind: str,
    as_json: bool,
) -> None:
    """Show which rule classifies URL (with REFERRER) and why."""
    ruleset = load_ruleset(rules_path) if rules_path else None
    classifier = Classifier(ruleset, own_domains=own_domains)
    event = {"url": url, "referrer": referrer, "touch_kind": touch_kind}
    found = classifier.classify(event)
    if as_json:
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
        return
    _print(found, url, referrer)


@channels.command("refresh")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory to update (default: the installed streams/data).",
)
@click.option("--timeout-s", default=30.0, show_default=True, help="Whole-run timeout.")
def refresh(dest: Path | None, timeout_s: float) -> None:
    """Download the referrer data sets again from their repositories."""
    from leadroi.channel_data import RefreshFailed, refresh_sync

    try:
        results = refresh_sync(dest, timeout_s=timeout_s)
    except RefreshFailed as exc:
        raise click.ClickException(
            f"refresh failed, vendored data unchanged: {exc}"
        ) from exc
    for item in results:
        state = "updated" if item.changed else "unchanged"
        origin = f"{item.repository}@{item.commit[:12]}"
        click.echo(f"{item.name}: {origin} {item.entries} entries, {state}")
