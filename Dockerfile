# failwell: one image for web (gunicorn), worker and beat (celery). See docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH="/app/.venv/bin:$PATH"

# uv from PyPI, like everywhere else the project is installed.
RUN pip install --no-cache-dir "uv>=0.13,<0.14" \
    && groupadd --system failwell \
    && useradd --system --gid failwell --create-home --home-dir /home/failwell --shell /usr/sbin/nologin failwell

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN uv sync --frozen --no-dev

# Static files are collected into the image with production settings, so every
# replica serves the same hashed manifest. The dummy key exists only for this step.
RUN DEBUG=0 SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --no-input \
    && mkdir -p /app/media \
    && chown -R failwell:failwell /app/media /app/staticfiles

USER failwell
EXPOSE 8000

CMD ["gunicorn", "failwell.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
