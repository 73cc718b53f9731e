# The two commands of the README, and their helpers.
SHELL := /bin/bash
DATA ?= $(abspath ../shared/data)

.PHONY: demo test bench deps services stop lint

deps:
	deploy/bootstrap.sh --browser

services: deps
	deploy/services.sh start

## Runs the services on the real Olist funnel and prints the ROI table.
demo: services
	LEADROI_PREFIX=demo LEADROI_DEAL_LOOKBACK_DAYS=730 deploy/app.sh start
	LEADROI_PREFIX=demo .venv/bin/leadroi demo --data "$(DATA)"

## The whole test suite, against the real Kafka broker and Redis server.
test: services
	.venv/bin/pytest

bench: deps
	bench/run.sh

lint: deps
	.venv/bin/ruff check schemas streams tracker leadroi tests
	.venv/bin/mypy

stop:
	-deploy/app.sh stop
	deploy/services.sh stop
