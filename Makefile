# vehiclewatch — everyday commands. Python 3.11+ is all a fresh machine needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: demo demo-reset test test-postgres lint format bench clean translations

# Tibetan and English catalogues (Chinese is the source); .mo files are built, not committed.
I18N := vehiclewatch/translations
CATALOGUES := $(wildcard $(I18N)/*/LC_MESSAGES/*.po)
COMPILED := $(CATALOGUES:.po=.mo)

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

%.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations: $(VENV)/.installed  ## extract the strings, update the bo and en catalogues, compile
	for domain in public messages; do \
	  $(BIN)/pybabel extract -F $(I18N)/$$domain.cfg -k _l -k lazy_gettext -c TRANSLATORS: \
	    --no-location --sort-output --project vehiclewatch -o $(I18N)/$$domain.pot . && \
	  $(BIN)/pybabel update -D $$domain -i $(I18N)/$$domain.pot -d $(I18N) \
	    --no-fuzzy-matching --ignore-obsolete || exit 1; \
	done
	$(MAKE) $(COMPILED)

demo: $(VENV)/.installed $(COMPILED)  ## run the service with demo data on SQLite (instance/); HOST=0.0.0.0 for phones
	$(BIN)/vehiclewatch demo --host $(HOST) --port $(PORT)

demo-reset: $(VENV)/.installed $(COMPILED)  ## delete the SQLite demo database, then run the demo afresh
	$(BIN)/vehiclewatch demo --reset --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test $(COMPILED)  ## the whole suite (DATABASE_URL selects PostgreSQL)
	@[ -x /usr/bin/chromium ] || echo "Chromium not found: browser tests in tests/e2e will be skipped (apt-get install chromium)"
	$(BIN)/pytest

test-postgres: $(VENV)/.installed-test $(COMPILED)
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test $(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check vehiclewatch tests bench seeds
	$(BIN)/ruff format --check vehiclewatch tests bench seeds
	$(BIN)/lint-imports

format: $(VENV)/.installed-test
	$(BIN)/ruff format vehiclewatch tests bench seeds
	$(BIN)/ruff check --fix vehiclewatch tests bench seeds

bench: $(VENV)/.installed-test  ## benchmarks; figures go to bench/RESULTS.md
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
