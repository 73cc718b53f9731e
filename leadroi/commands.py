"""Where each ``leadroi`` subcommand lives: name → ``module:attribute``.

Modules are imported only when their command runs, so ``leadroi analyze`` does
not pay for aiohttp, faust or the API at start-up.
"""

from __future__ import annotations

SUBCOMMANDS: dict[str, str] = {
    "tracker": "leadroi.tracker_cli:tracker",
    "worker": "leadroi.service_cli:worker",
    "api": "leadroi.api:api",
    "topics": "leadroi.service_cli:topics",
    "report": "leadroi.report_cli:report",
    "alerts": "leadroi.alerts_cli:alerts",
    "watch": "leadroi.alerts_cli:watch",
    "demo": "leadroi.demo_cli:demo",
    "analyze": "leadroi.analyze_cli:analyze",
    "channels": "leadroi.channels_cli:channels",
}
