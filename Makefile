# Virtual School Workflow — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
# PostgreSQL for the second test pass: VSW_TEST_DATABASE_URL, else a local server if one answers.
PG_DEFAULT := postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: demo test test-sqlite test-postgres lint bench install clean assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	DATABASE_URL=$${DATABASE_URL:-sqlite:///$(CURDIR)/vsw-demo.db} $(VENV)/bin/vsw demo

test: install lint test-sqlite test-postgres

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test-sqlite: install
	@echo "== tests on SQLite =="
	env -u VSW_TEST_DATABASE_URL $(PY) -m pytest -m "not postgres_only" -p no:cacheprovider

test-postgres: install
	@url="$${VSW_TEST_DATABASE_URL:-}"; \
	if [ -z "$$url" ]; then \
	  if $(PY) -c "import psycopg,sys; psycopg.connect('$(PG_DEFAULT)', connect_timeout=3).close()" 2>/dev/null; then url="$(PG_DEFAULT)"; \
	  elif [ -n "$${VSW_REQUIRE_POSTGRES:-}" ]; then echo "PostgreSQL is required (VSW_REQUIRE_POSTGRES) but not reachable at $(PG_DEFAULT)"; exit 1; \
	  else echo "== PostgreSQL not reachable: set VSW_TEST_DATABASE_URL to run the suite on it =="; exit 0; fi; \
	fi; \
	echo "== tests on PostgreSQL =="; \
	VSW_TEST_DATABASE_URL="$$url" $(PY) -m pytest -p no:cacheprovider

bench: install
	@url="$${VSW_BENCH_DATABASE_URL:-$(PG_DEFAULT)}"; \
	for b in bench/*.py; do echo "== $$b =="; VSW_BENCH_DATABASE_URL="$$url" $(PY) $$b || exit 1; done

# Refresh the vendored front-end files (pinned in package.json / package-lock.json): axe-core, which the
# browser tests inject, and bpmn-js's viewer, which draws a process on the instance page. Needs Node;
# the app and the tests never do (the copies are in the repository).
assets:
	npm ci --ignore-scripts
	mkdir -p tests/web/vendor
	cp node_modules/axe-core/axe.min.js tests/web/vendor/axe.min.js
	cp node_modules/axe-core/LICENSE tests/web/vendor/axe-core.LICENSE
	cp node_modules/axe-core/LICENSE-3RD-PARTY.txt tests/web/vendor/axe-core.LICENSE-3RD-PARTY.txt
	mkdir -p web/static/vendor/bpmn-js
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js web/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js
	cp node_modules/bpmn-js/dist/assets/diagram-js.css web/static/vendor/bpmn-js/diagram-js.css
	cp node_modules/bpmn-js/dist/assets/bpmn-js.css web/static/vendor/bpmn-js/bpmn-js.css
	cp node_modules/bpmn-js/LICENSE web/static/vendor/bpmn-js/LICENSE
	mkdir -p web/static/vendor/chartjs
	cp node_modules/chart.js/dist/chart.umd.js web/static/vendor/chartjs/chart.umd.js
	cp node_modules/chart.js/LICENSE.md web/static/vendor/chartjs/LICENSE
	cp node_modules/@kurkle/color/LICENSE.md web/static/vendor/chartjs/kurkle-color.LICENSE  # bundled in chart.umd.js
	# MOJ Frontend (filter layout, sortable table look): its CSS asks for images at /assets/images/; the copy
	# asks for them beside it. The npm package has no LICENSE file: web/static/vendor/moj/LICENSE is upstream's (MIT).
	mkdir -p web/static/vendor/moj/images
	sed 's#/assets/images/#images/#g' node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css > web/static/vendor/moj/moj-frontend.min.css
	cp node_modules/@ministryofjustice/frontend/moj/assets/images/icon-tag-remove-cross.svg node_modules/@ministryofjustice/frontend/moj/assets/images/icon-tag-remove-cross-white.svg web/static/vendor/moj/images/
	# accessible-autocomplete (GOV.UK): the fields that name a school, a person or an authority (web/static/js/autocomplete.js)
	mkdir -p web/static/vendor/accessible-autocomplete
	cp node_modules/accessible-autocomplete/dist/accessible-autocomplete.min.js node_modules/accessible-autocomplete/dist/accessible-autocomplete.min.css web/static/vendor/accessible-autocomplete/
	cp node_modules/accessible-autocomplete/LICENSE.txt web/static/vendor/accessible-autocomplete/LICENSE

clean:
	rm -rf $(VENV) vsw-demo.db* .pytest_cache .mypy_cache .ruff_cache test-artifacts
