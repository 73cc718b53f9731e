"""The list of ``leadroi`` subcommands."""

from __future__ import annotations

import click

from leadroi.analyze_cli import analyze
from leadroi.service_cli import topics, worker

ALL: list[click.Command] = [worker, topics, analyze]
