"""Settings: SELFHEAL_ environment variables, CLI overrides, and every invalid value reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("SELFHEAL_"):
            monkeypatch.delenv(key)


def test_the_defaults_are_the_guides():
    settings, errors = load_settings()

    assert errors == [] and settings is not None
    assert (settings.cronjob_name, settings.lease_name) == ("self-heal-cpt", "self-heal-cpt")
    assert (settings.max_actions, settings.cooldown_seconds, settings.restart_threshold) == (5, 600, 3)
    assert settings.risk_file == Path("aiops/risk-prediction.json")
    assert settings.history_file == Path("logs/rollback-history.log")
    assert settings.canary_error_threshold == 0.05 and settings.dry_run is False


def test_environment_variables_are_read_and_flags_override_them(monkeypatch):
    monkeypatch.setenv("SELFHEAL_NAMESPACE", "dese-ea-plan-v5")
    monkeypatch.setenv("SELFHEAL_MAX_ACTIONS", "2")
    monkeypatch.setenv("SELFHEAL_DRY_RUN", "true")

    settings, errors = load_settings({"max_actions": 7, "history_file": None})

    assert errors == [] and settings is not None
    assert (settings.namespace, settings.max_actions, settings.dry_run) == ("dese-ea-plan-v5", 7, True)
    assert settings.history_file == Path("logs/rollback-history.log")  # None means "flag not given"


def test_every_invalid_setting_is_reported_on_its_own_line(monkeypatch):
    monkeypatch.setenv("SELFHEAL_MAX_ACTIONS", "-1")
    monkeypatch.setenv("SELFHEAL_NAMESPACE", "Not_A_Namespace")
    monkeypatch.setenv("SELFHEAL_CANARY_ERROR_THRESHOLD", "5")
    monkeypatch.setenv("SELFHEAL_PUSHGATEWAY_URL", "pushgateway:9091")
    monkeypatch.setenv("SELFHEAL_DRY_RUN", "perhaps")

    settings, errors = load_settings()

    assert settings is None
    assert len(errors) == 5 and all("\n" not in e for e in errors)
    joined = "\n".join(errors)
    for field in ("max_actions", "namespace", "pushgateway_url", "dry_run"):
        assert (
            f"invalid setting {field} (env SELFHEAL_{field.upper()}, flag --{field.replace('_', '-')})"
            in joined
        )
    # a setting without a flag names none (there is no --canary-error-threshold)
    assert "invalid setting canary_error_threshold (env SELFHEAL_CANARY_ERROR_THRESHOLD): " in joined
    assert "got '-1'" in joined


def test_an_escalation_window_shorter_than_the_cooldown_is_rejected():
    settings, errors = load_settings({"cooldown_seconds": 600, "escalation_window_seconds": 300})

    assert settings is None and len(errors) == 1 and "escalation_window_seconds (300)" in errors[0]


def test_an_unknown_override_is_an_error_not_a_silent_typo():
    assert load_settings({"max_action": 3}) == (None, ["unknown setting max_action"])
