"""Trust settings: the pseudonym secret (refused when missing or built in outside development),
retention per kind from the TOML file and the environment, aggregates outliving raw data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from cloud.cli import main
from cloud.settings import Settings

STRONG = "s" * 40


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("XJ_CONFIG", "XJ_PSEUDONYM_SECRET", "XJ_PSEUDONYM_KEY", "XJ_ENVIRONMENT", "XJ_RETENTION__TRACKS"):
        monkeypatch.delenv(name, raising=False)


def _production(**kw: object) -> Settings:
    return Settings.model_validate(
        {"environment": "production", "token_secret": "t" * 40, "users_file": "/dev/null", **kw}
    )


def test_the_pseudonym_secret_is_refused_when_built_in_or_short_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError, match="set XJ_PSEUDONYM_SECRET"):
        _production()
    with pytest.raises(ValidationError, match="set XJ_PSEUDONYM_SECRET"):
        _production(pseudonym_secret="short")
    assert _production(pseudonym_secret=STRONG).pseudonymizer().master == STRONG.encode()
    monkeypatch.setenv("XJ_PSEUDONYM_KEY", STRONG)  # the older name is read too
    assert _production().pseudonym_secret.get_secret_value() == STRONG
    monkeypatch.setenv("XJ_PSEUDONYM_SECRET", "n" * 40)
    assert Settings().pseudonymizer().master == b"n" * 40
    assert Settings(pseudonym_period_s=3600).pseudonymizer().period_s == 3600


def test_retention_from_the_toml_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().retention.policy().keep("aggregates") == timedelta(days=90)
    conf = tmp_path / "xj.toml"
    conf.write_text('region_id = "east"\n[retention]\nraw_detections = 1\ntracks = 3\naggregates = 180\n')
    monkeypatch.setenv("XJ_CONFIG", str(conf))
    s = Settings()
    assert s.region_id == "east" and s.retention.tracks == 3 and s.retention.vehicle_reports == 7
    policy = s.retention.policy()
    assert policy.keep("raw_detections") == timedelta(days=1) and policy.keep("aggregates") == timedelta(days=180)
    monkeypatch.setenv("XJ_RETENTION__TRACKS", "5")  # the environment overrides the file
    assert Settings().retention.tracks == 5
    monkeypatch.delenv("XJ_RETENTION__TRACKS")
    conf.write_text("[retention]\ntracks = 100\naggregates = 30\n")
    with pytest.raises(ValidationError, match="at least as long as raw data"):
        Settings()
    conf.write_text("[retention]\ntrakcs = 3\n")
    with pytest.raises(ValidationError, match="trakcs"):
        Settings()


def test_a_missing_config_file_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XJ_CONFIG", str(tmp_path / "nope.toml"))
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "xj: error: XJ_CONFIG=" in err and "no such file" in err
