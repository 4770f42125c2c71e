"""Production settings pass Django's deployment checklist, and refuse to start without
what they need.

Each test starts manage.py in a fresh process with a production environment, since
settings are read once per process. The embedded SQLite default is used, so no
service is needed.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "SECURE_", "SESSION_", "AXES_"))
        and key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="failwell.example.org",
        DJANGO_SETTINGS_MODULE="failwell.settings",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_turning_off_the_ssl_redirect_is_reported_by_check_deploy():
    """The checklist is really consulted: an unsafe choice makes it fail."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_env(SECURE_SSL_REDIRECT="0"),
    )

    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_a_missing_secret_key_stops_start_up_with_a_clear_message():
    env = production_env()
    del env["SECRET_KEY"]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS='a year' is not a whole number."),
        ("SECURE_SSL_REDIRECT", "maybe", "SECURE_SSL_REDIRECT='maybe' is not a yes/no value"),
        ("SESSION_COOKIE_AGE", "8h", "SESSION_COOKIE_AGE='8h' is not a whole number."),
    ],
)
def test_a_malformed_security_setting_stops_start_up_naming_it(name, value, message):
    result = manage("check", env=production_env(**{name: value}))

    assert result.returncode != 0
    assert message in result.stderr
