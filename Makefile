# Two commands on a fresh machine with Python 3.11:  make run  ·  make test
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test install migrate messages bench-price-api bench-atp bench-import bench-stock-push bench-webhooks bench-3pl bench-marketplace-stock clean

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(INSTALLED)

install: $(INSTALLED)

# Web server on 127.0.0.1:8000, task cluster + scheduler, demo data and sandboxes, in development
# mode (DEBUG=1; without it the hub runs as production and asks for SECRET_KEY). Ctrl-C stops.
run: $(INSTALLED)
	DEBUG=1 $(BIN)/python manage.py hub_run --demo

# Whole suite. SQLite by default; PostgreSQL when DATABASE_URL is set.
test: $(INSTALLED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests (Debian's Chromium), writing the screenshots of docs/back-office.md into docs/images/.
.PHONY: tour
tour: $(INSTALLED)
	HUB_TOUR_SCREENSHOTS=docs/images $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

# Benchmarks (figures and the references they are compared with: docs/performance.md)
bench-price-api: $(INSTALLED)
	bench/price_api/run.sh

bench-atp: $(INSTALLED)
	$(BIN)/python bench/atp/run.py

bench-import: $(INSTALLED)
	$(BIN)/python bench/import_products/run.py

bench-webhooks: $(INSTALLED)
	$(BIN)/python bench/webhooks/run.py

bench-marketplace-stock: $(INSTALLED)
	$(BIN)/python bench/marketplace_stock/run.py

bench-stock-push: $(INSTALLED)
	$(BIN)/python bench/stock_push/run.py
	$(BIN)/python bench/stock_push/run.py --graphql-maximum 100 --graphql-restore 10

bench-3pl: $(INSTALLED)
	$(BIN)/python bench/threepl/run.py

# Translations: extract every message into locale/fr (needs xgettext, Debian package gettext), then,
# once locale/fr/LC_MESSAGES/django.po is translated, compile the committed .mo with polib.
MAKEMESSAGES_IGNORE := --ignore='tests/*' --ignore='bench/*' --ignore='var/*' --ignore='samples/*' --ignore='docs/*' --ignore='locale/*'
messages: $(INSTALLED)
	DEBUG=1 $(BIN)/python manage.py makemessages -l fr --no-obsolete $(MAKEMESSAGES_IGNORE)
	DEBUG=1 $(BIN)/python manage.py hub_compilemessages

migrate: $(INSTALLED)
	$(BIN)/python manage.py migrate

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
