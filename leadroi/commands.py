"""The list of ``leadroi`` subcommands."""

from __future__ import annotations

import click

from leadroi.api import api
from leadroi.report_cli import report

ALL: list[click.Command] = []
ALL.append(report)
ALL.append(api)
