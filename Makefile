# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RATE ?= 0.3
DAYS ?= 400

.PHONY: run test install bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

## Serve the demo at http://127.0.0.1:8050 (SQLite + embedded Redis unless DATABASE_URL / REDIS_URL are set):
## Shulan first, while the other eight counties of 吉林市 are onboarded and backfilled in the background
## (`demo grow-city`, its progress in the log and in /api/status; it stops with the server, a new run continues it)
# The demo county (Shulan) stays the screens' default county when the city around it is served.
run: export COUNTY_CODE ?= 220283
run: install
	$(PY) -m dashboard db upgrade
	$(PY) -m dashboard county ensure-demo
	$(PY) -m dashboard demo backfill --days $(DAYS)
	$(PY) -m dashboard cache rebuild
	nice -n 10 $(PY) -m dashboard demo grow-city --days $(DAYS) & grow=$$!; \
	trap 'kill $$grow 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(PY) -m dashboard serve --demo-feed $(RATE)

## Run the whole suite (PostgreSQL and Redis from TEST_DATABASE_URL / TEST_REDIS_URL, plus the embedded default)
## and a three-master Redis Cluster on loopback ports 7001-7003, started here when TEST_REDIS_CLUSTER_URL names none
test: install
	@[ -n "$$TEST_REDIS_CLUSTER_URL" ] || .ci/redis-cluster $(CURDIR)/var/redis-cluster
	$(PY) -m pytest -q -p no:cacheprovider

clean:
	rm -rf var
