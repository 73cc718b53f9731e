"""The list of ``leadroi`` subcommands."""

from __future__ import annotations

import click

ALL: list[click.Command] = []
