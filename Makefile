# The README's two commands call `make run` and `make test`; the rest are helpers.
.PHONY: run test sync lint check demo worker beat web assets

UV ?= uv
PORT ?= 8000

sync:
	$(UV) sync --frozen

# The embedded default: SQLite, tasks inline, demo data loaded.
run: sync
	$(UV) run python manage.py migrate --no-input
	$(UV) run python manage.py load_demo
	$(UV) run python manage.py runserver $(PORT)

test: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run python manage.py check
	$(UV) run python manage.py makemigrations --check --dry-run
	$(UV) run pytest

lint:
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

# Rebuild static/css, static/vendor and tests/browser/vendor/axe.min.js from the
# npm packages pinned in package-lock.json; commit the result. Needs Node.js and
# npm; `make run` and `make test` do not, as the output is committed.
assets:
	npm ci --ignore-scripts --no-audit --no-fund
	node scripts/build-assets.mjs

# What docker-compose.yml runs, for the full stack by hand.
web:
	$(UV) run gunicorn failwell.wsgi --bind 0.0.0.0:$(PORT) --workers 2
worker:
	$(UV) run celery -A failwell worker --loglevel=INFO --concurrency=2
beat:
	$(UV) run celery -A failwell beat --loglevel=INFO
