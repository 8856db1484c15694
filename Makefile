# Two commands on a fresh clone: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test check bench soak soak-slow clean

$(BIN)/ivr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/ivr
	@echo "Starting the helpline in dev mode on http://$(HOST):$(PORT)"
	@echo "Try a call in another terminal:  $(BIN)/ivr call --url http://$(HOST):$(PORT)"
	@echo "             or without server:  $(BIN)/ivr call --keys 1,1"
	$(BIN)/ivr serve --dev --host $(HOST) --port $(PORT)

test: $(BIN)/ivr
	$(BIN)/python -m pytest

check: $(BIN)/ivr
	$(BIN)/ivr check

bench: $(BIN)/ivr
	$(BIN)/python bench/run.py
	$(BIN)/python bench/caller_time.py

soak: $(BIN)/ivr
	$(BIN)/python bench/soak.py

# slow, idle and stalled clients against ivr serve, alone and behind deploy/'s nginx (loopback, ~4 min)
soak-slow: $(BIN)/ivr
	$(BIN)/python bench/soak_slow.py

clean:
	rm -rf $(VENV) build *.egg-info
