from collections.abc import Iterator

import click
import pytest

from job_runner.cli import cli, main


@pytest.fixture
def failing_command() -> Iterator[None]:
    @cli.command("fail-for-test")
    def fail() -> None:
        raise ValueError("something\nwent wrong")

    yield
    cli.commands.pop("fail-for-test")


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code or 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("osschools, version ")


def test_subgroups() -> None:
    assert {"schema", "dummy-data"} <= set(cli.commands)
    assert all(isinstance(cli.commands[name], click.Group) for name in ("schema", "dummy-data"))


@pytest.mark.usefixtures("failing_command")
def test_unexpected_error_is_one_line_and_exit_code_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OSSCHOOLS_DEBUG", raising=False)
    assert run(["fail-for-test"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ValueError: something went wrong")
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.usefixtures("failing_command")
def test_debug_shows_the_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSSCHOOLS_DEBUG", "1")
    with pytest.raises(ValueError, match="went wrong"):
        main(["fail-for-test"])


def test_usage_errors_are_left_to_click(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["no-such-command"]) == 2
    assert "Usage:" in capsys.readouterr().err
