"""The list of ``leadroi`` subcommands."""

from __future__ import annotations

import click

from leadroi.channels_cli import channels

ALL: list[click.Command] = []
ALL.append(channels)
