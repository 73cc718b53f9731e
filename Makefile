# make bench: leadroi against the peer tools, whole processes side by side.
# make peers: refresh the frozen peer outputs in tests/data/peers.
VENV ?= .venv
DATA ?= ../shared/data

.PHONY: bench peers

bench:
	$(VENV)/bin/python bench/run.py

peers:
	$(VENV)/bin/python bench/run.py --prepare-only
	bench/.peers-venv/bin/python bench/peers/freeze.py $(DATA) tests/data/peers
