"""The list of ``leadroi`` subcommands."""

from __future__ import annotations

import click

from leadroi.tracker_cli import tracker

ALL: list[click.Command] = []
ALL.append(tracker)
