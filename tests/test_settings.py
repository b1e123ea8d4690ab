"""Settings: FACTCHECK_* variables, the OPENAI_API_KEY fallback, one-line errors."""

from __future__ import annotations

import pytest

from service.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("FACTCHECK_LLM_API_KEY", "OPENAI_API_KEY", "FACTCHECK_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_offline_on_sqlite() -> None:
    settings = load_settings()
    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert not settings.llm_enabled


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / ".env").write_text("FACTCHECK_LLM_MODEL=from-dotenv\nFACTCHECK_PORT=9000\n")
    monkeypatch.setenv("FACTCHECK_PORT", "9100")
    settings = load_settings()
    assert settings.llm_model == "from-dotenv"
    assert settings.port == 9100  # the environment wins over .env


def test_openai_api_key_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback")
    assert load_settings().llm_api_key.get_secret_value() == "sk-fallback"
    assert load_settings().llm_enabled
    monkeypatch.setenv("FACTCHECK_LLM_API_KEY", "sk-own")
    assert load_settings().llm_api_key.get_secret_value() == "sk-own"


def test_lists_parse_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_CORS_ORIGINS", '["https://cms.example.org"]')
    assert load_settings().cors_origins == ["https://cms.example.org"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FACTCHECK_DATABASE_URL", "postgresql://sync-driver/x"),
        ("FACTCHECK_LLM_TIMEOUT", "-1"),
        ("FACTCHECK_MAX_ARTICLE_BYTES", "10"),
        ("FACTCHECK_PORT", "70000"),
    ],
)
def test_invalid_settings_are_one_readable_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "\n" not in message
    assert variable in message


def test_readme_documents_every_setting() -> None:
    from service.settings import PROJECT_ROOT, Settings

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`FACTCHECK_{name.upper()}`" in readme, f"FACTCHECK_{name.upper()} not in README"
