"""The list of ``leadroi`` subcommands."""

from __future__ import annotations

import click

from leadroi.alerts_cli import alerts, watch
from leadroi.analyze_cli import analyze
from leadroi.api import api
from leadroi.channels_cli import channels
from leadroi.demo_cli import demo
from leadroi.report_cli import report
from leadroi.service_cli import topics, worker
from leadroi.tracker_cli import tracker

ALL: list[click.Command] = [
    tracker,
    worker,
    api,
    topics,
    report,
    demo,
    analyze,
    channels,
    alerts,
    watch,
]
