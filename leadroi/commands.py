"""The list of ``leadroi`` subcommands."""

from __future__ import annotations

import click

from leadroi.channels_cli import channels
from leadroi.service_cli import topics, worker

ALL: list[click.Command] = [worker, topics, channels]
