# The README's two commands call `make run` and `make test`; the rest are helpers.
.PHONY: run test sync lint check demo worker beat web

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

# What docker-compose.yml runs, for the full stack by hand.
web:
	$(UV) run gunicorn failwell.wsgi --bind 0.0.0.0:$(PORT) --workers 2
worker:
	$(UV) run celery -A failwell worker --loglevel=INFO --concurrency=2
beat:
	$(UV) run celery -A failwell beat --loglevel=INFO
