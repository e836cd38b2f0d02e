"""The throwaway PostgreSQL fixture itself: skip-or-fail when missing, one fresh database per test."""

import psycopg
import pytest

from tests import pg


def test_missing_postgres_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no initdb"):
        pg.unavailable("no initdb")


def test_missing_postgres_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no initdb"):
        pg.unavailable("no initdb")


def test_binaries_found_on_path_first(tmp_path, monkeypatch):
    for program in ("initdb", "pg_ctl"):
        (tmp_path / program).write_text("#!/bin/sh\n")
        (tmp_path / program).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pg.find_bin_dir() == tmp_path


def test_no_binaries_anywhere_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pg, "SEARCH_DIRS", str(tmp_path / "nowhere" / "*" / "bin"))
    with pytest.raises(pg.PostgresUnavailable, match="install the postgresql package"):
        pg.find_bin_dir()


def test_server_runs_without_fsync(pg_server):
    with psycopg.connect(pg_server) as conn:
        assert conn.execute("SHOW fsync").fetchone() == ("off",)


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_its_own_empty_database(pg_database, run):
    with psycopg.connect(pg_database) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE leftover (run integer)")  # would collide if the databases were shared
        conn.execute("INSERT INTO leftover VALUES (%s)", (run,))
