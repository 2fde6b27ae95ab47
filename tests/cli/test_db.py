"""`slotgen db` and choosing a database, through the CLI."""

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from slotgen.db import migrate
from slotgen.db.database import connect
from slotgen.errors import SchemaOutOfDate
from tests.conftest import SERVER_URLS, DatabaseUnderTest
from tests.helpers import run_cli, run_installed


def test_embedded_default_is_per_user_private_and_migrated_on_first_use(
    hermetic_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "somewhere"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    result = run_cli("db", "info", "--json")
    assert result.exit_code == 0, result.stderr
    facts = json.loads(result.stdout)
    location = Path(facts["location"])
    assert facts["embedded_default"] is True
    assert facts["backend"] == "sqlite"
    assert facts["revision"] == facts["head"] == migrate.head_revision()
    assert location.is_relative_to(hermetic_environment)
    assert not location.is_relative_to(workdir)
    assert location.stat().st_mode & 0o777 == 0o600
    assert list(workdir.iterdir()) == []


def test_env_var_names_the_database(
    database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOTGEN_DATABASE_URL", database.url)
    result = run_cli("db", "info", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["backend"] == database.engine.dialect.name.replace(
        "mariadb", "mysql"
    )


def test_db_upgrade_and_current_on_an_empty_database(empty_database_url: str) -> None:
    assert run_cli("db", "current", "--database-url", empty_database_url).stdout.strip() == "none"
    upgraded = run_cli("db", "upgrade", "--database-url", empty_database_url)
    assert upgraded.exit_code == 0, upgraded.stderr
    current = run_cli("db", "current", "--database-url", empty_database_url)
    assert current.stdout.strip() == migrate.head_revision()
    again = run_cli("db", "upgrade", "--database-url", empty_database_url)
    assert again.exit_code == 0


def test_out_of_date_server_schema_is_refused_with_the_fix(
    empty_database_url: str, tmp_path: Path
) -> None:
    with (
        pytest.raises(SchemaOutOfDate, match="run `slotgen db upgrade`"),
        connect(empty_database_url, tmp_path, require_current=True),
    ):
        pass


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
@pytest.mark.parametrize("where", ["userinfo", "query"])
def test_password_is_never_shown(backend: str, where: str) -> None:
    url = make_url(SERVER_URLS[backend])
    marked = (
        url.set(password="Marker-Pw-7731")
        if where == "userinfo"
        else url.update_query_dict({"password": "Marker-Pw-7731"})
    ).render_as_string(hide_password=False)
    result = run_cli("db", "info", "--database-url", marked)
    assert "Marker-Pw-7731" not in result.stdout + result.stderr
    assert "***" in result.stdout + result.stderr


def test_unreachable_database_is_one_line_and_exit_3() -> None:
    result = run_cli(
        "db", "info", "--database-url", "postgresql+psycopg://u:Marker-Pw-7731@127.0.0.1:1/x"
    )
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: cannot use the database")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Marker-Pw-7731" not in result.stderr


@pytest.mark.parametrize(
    "url", ["not a url", "oracle://scott@localhost/orcl", "mysql+nosuchdriver://root@localhost/x"]
)
def test_bad_database_url_is_one_line_and_exit_2(url: str) -> None:
    result = run_cli("db", "info", "--database-url", url)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_installed_command_and_python_dash_m(hermetic_environment: Path) -> None:
    result = run_installed("db", "info", "--json", env={"HOME": str(hermetic_environment)})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["revision"] == migrate.head_revision()


def test_a_mistyped_sqlite_url_creates_nothing(tmp_path: Path) -> None:
    missing_file = tmp_path / "slotgen.db"
    missing_folder = tmp_path / "typo" / "slotgen.db"

    file_result = run_cli("runs", "--database-url", f"sqlite:///{missing_file}")
    folder_result = run_cli("db", "upgrade", "--database-url", f"sqlite:///{missing_folder}")

    assert (file_result.exit_code, folder_result.exit_code) == (2, 2)
    assert file_result.stderr == (
        f"Error: there is no SQLite database at {missing_file}: check the URL, or create one "
        "there with `slotgen db upgrade` and this --database-url\n"
    )
    assert folder_result.stderr.startswith(f"Error: the folder {missing_folder.parent} of the")
    assert not missing_file.exists()
    assert not missing_folder.parent.exists()
    created = run_cli("db", "upgrade", "--database-url", f"sqlite:///{missing_file}")
    assert created.exit_code == 0, created.stderr
    assert missing_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_empty_database_url_is_an_error_not_the_embedded_default(
    how: str, monkeypatch: pytest.MonkeyPatch, hermetic_environment: Path
) -> None:
    if how == "option":
        result = run_cli("runs", "--database-url", "")
    else:
        monkeypatch.setenv("SLOTGEN_DATABASE_URL", "")
        result = run_cli("runs")

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: the database URL is empty")
    assert not (hermetic_environment / ".config" / "slotgen").exists(), "no embedded default"
