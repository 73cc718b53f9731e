"""The ``leadroi`` command: run the services, import, replay, report, analyse."""

from __future__ import annotations

import logging

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-v", "--verbose", count=True, help="More log output (-v info, -vv debug)."
)
def main(verbose: int) -> None:
    """leadroi: which lead sources fill the pipeline, and which burn budget."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def _register() -> None:
    # Subcommands live beside the code they drive; importing them here keeps the
    # command's start-up cost to what the chosen subcommand needs.
    from leadroi import commands

    for command in commands.ALL:
        main.add_command(command)


_register()


if __name__ == "__main__":
    main()
