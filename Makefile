# The two commands of the README (demo, test), and their helpers.
SHELL := /bin/bash
VENV ?= .venv
DATA ?= $(abspath ../shared/data)
# The services' addresses follow the ports deploy/ starts them on.
LEADROI_KAFKA_PORT ?= 19092
LEADROI_REDIS_PORT ?= 16379
export LEADROI_KAFKA_BOOTSTRAP ?= 127.0.0.1:$(LEADROI_KAFKA_PORT)
export LEADROI_REDIS_URL ?= redis://127.0.0.1:$(LEADROI_REDIS_PORT)/0

.PHONY: demo test bench peers deps services stop lint

deps:
	deploy/bootstrap.sh --browser

services: deps
	deploy/services.sh start >/dev/null

## Runs the services on the real Olist funnel and prints the ROI table.
demo: services
	LEADROI_PREFIX=demo LEADROI_DEAL_LOOKBACK_DAYS=730 deploy/app.sh start
	LEADROI_PREFIX=demo $(VENV)/bin/leadroi demo --data "$(DATA)"

## The whole test suite, against the real Kafka broker and Redis server.
test: services
	$(VENV)/bin/pytest

## leadroi against the peer tools, whole processes side by side.
bench: deps
	$(VENV)/bin/python bench/run.py

## Refresh the frozen peer outputs in tests/data/peers.
peers: deps
	$(VENV)/bin/python bench/run.py --prepare-only
	bench/.peers-venv/bin/python bench/peers/freeze.py $(DATA) tests/data/peers

lint: deps
	$(VENV)/bin/ruff check schemas streams tracker leadroi tests
	$(VENV)/bin/mypy

stop:
	-deploy/app.sh stop
	deploy/services.sh stop
