"""Loading a dataset definition in an isolated child process (and the same errors in-process)."""

from __future__ import annotations

import socket
import sys
import time

import pytest

from ehrql_schools import isolation
from ehrql_schools.isolation import IsolationError, child_environment, looks_secret
from ehrql_schools.loader import load_dataset_definition
from ehrql_schools.query_language import QueryError


def constants(dataset) -> dict:
    """The dataset's constant variables, by name, as Python values."""
    return {name: series.value for name, series in dataset.variables if hasattr(series, "value")}


def load(path, parameters=None, **options):
    return load_dataset_definition(path, parameters, isolated=True, **options)


def errors_in_both_modes(path) -> str:
    """The message of the QueryError loading raises, which must be the same in both modes."""
    with pytest.raises(QueryError) as isolated:
        load(path)
    with pytest.raises(QueryError) as in_process:
        load_dataset_definition(path)
    assert str(isolated.value) == str(in_process.value)
    return str(isolated.value)


def test_isolated_and_in_process_loading_give_the_same_model(definition):
    path = definition("dataset.sex = pupils.sex\ndataset.born = pupils.date_of_birth.year\n")
    assert load(path) == load_dataset_definition(path)


def test_parameters_reach_get_parameter(definition):
    path = definition('dataset.year = get_parameter("year")\n')
    assert constants(load(path, {"year": "2024"})) == {"year": "2024"}


def test_the_environment_holds_no_credentials(definition, monkeypatch):
    monkeypatch.setenv("OSSCHOOLS_DSN", "postgresql://researcher:hunter2@db/trust")
    monkeypatch.setenv("DATABASE_URL", "postgresql://researcher:hunter2@db/trust")
    monkeypatch.setenv("INNOCENT", "postgresql://researcher:hunter2@db/trust")
    path = definition(
        """
        import os
        dataset.dsn = os.environ.get("OSSCHOOLS_DSN", "none")
        dataset.names = " ".join(sorted(os.environ))
        dataset.secrets = str(any("hunter2" in value for value in os.environ.values()))
        """
    )
    seen = constants(load(path))
    assert seen["dsn"] == "none"
    assert set(seen["names"].split()) <= {"PATH", "HOME", "LANG", "PYTHONPATH"}
    assert seen["secrets"] == "False"


def test_the_environment_is_built_from_a_few_safe_variables():
    environ = {"PATH": "/bin:postgresql://u:p@h/db", "LANG": "en_GB.UTF-8", "PGPASSWORD": "x"}
    environment = child_environment("/tmp/home", environ)
    assert set(environment) == {"PATH", "HOME", "LANG", "PYTHONPATH"}
    assert environment["PATH"] == isolation.DEFAULT_PATH
    assert environment["LANG"] == "en_GB.UTF-8"
    assert looks_secret("OSSCHOOLS_DSN", "x")
    assert looks_secret("HARMLESS", "postgresql+psycopg://db/trust")
    assert not looks_secret("LANG", "C.UTF-8")


def test_the_definition_has_no_network_even_to_localhost(definition):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        path = definition(
            """
            import socket
            try:
                socket.create_connection(("127.0.0.1", int(get_parameter("port"))), timeout=5)
                dataset.network = "connected"
            except OSError as error:
                dataset.network = f"blocked: {error}"
            """
        )
        assert constants(load_dataset_definition(path, {"port": str(port)})) == {
            "network": "connected"
        }
        assert constants(load(path, {"port": str(port)}))["network"].startswith("blocked")


def test_a_definition_that_runs_forever_is_stopped(definition):
    path = definition("while True:\n    pass\n")
    start = time.monotonic()
    with pytest.raises(QueryError) as error:
        load(path, timeout=1)
    assert str(error.value) == f"{path}: the dataset definition did not finish within 1 seconds"
    assert time.monotonic() - start < 10


def test_a_definition_that_uses_too_much_memory_is_stopped(definition):
    path = definition("hoard = bytearray(1024**3)\n")
    with pytest.raises(QueryError, match="line 6: MemoryError"):
        load(path, memory_limit=512 * 1024**2)


def test_a_definition_that_is_killed_is_reported(definition):
    path = definition("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    with pytest.raises(QueryError, match="was stopped \\(signal 9\\)"):
        load(path)


def test_a_syntax_error_names_the_file_and_line(definition):
    path = definition("dataset.x = = 1\n")
    message = errors_in_both_modes(path)
    assert message.startswith(f"{path}, line 6: syntax error")
    assert "dataset.x = = 1" in message


def test_a_runtime_error_shows_only_the_researchers_frames(definition):
    path = definition(
        """
        def rate(n):
            return 1 / n

        dataset.rate = rate(0)
        """
    )
    message = errors_in_both_modes(path)
    assert message.startswith(f"{path}, line 8: ZeroDivisionError: division by zero")
    assert "line 10, in <module>" in message
    assert "ehrql_schools" not in message
    assert "runpy" not in message


def test_a_query_error_names_the_file_and_line(definition):
    path = definition("dataset.x = pupils.date_of_birth > 3\n")
    message = errors_in_both_modes(path)
    assert message == f"{path}, line 6: cannot compare a date with an integer"


def test_a_missing_file_or_dataset_is_an_error(definition, tmp_path):
    with pytest.raises(QueryError, match="no dataset definition at"):
        load(tmp_path / "missing.py")
    path = definition("x = 1\n", header="")
    assert errors_in_both_modes(path).startswith(f"{path}: defines no dataset")


def test_print_does_not_break_loading(definition, capsys):
    path = definition('print("hello from the researcher")\ndataset.one = 1\n')
    assert constants(load(path)) == {"one": 1}
    assert "hello from the researcher" in capsys.readouterr().err


def test_code_lists_are_read_from_the_definitions_folder(definition):
    path = definition(
        """
        from ehrql_schools import codelist_from_csv
        dataset.codes = " ".join(codelist_from_csv("codes.csv", column="code"))
        """
    )
    (path.parent / "codes.csv").write_text("code\nA\nB\n")
    assert constants(load(path)) == {"codes": "A B"}
    assert constants(load_dataset_definition(path)) == {"codes": "A B"}


def test_tables_the_language_does_not_declare_are_refused(definition):
    path = definition(
        """
        from ehrql_schools.query_language import PupilFrame, StrSeries, column, table

        @table
        class staff_passwords(PupilFrame):
            password = column(StrSeries)

        dataset.password = staff_passwords.password
        """
    )
    assert "not declared in ehrql_schools.tables: staff_passwords" in errors_in_both_modes(path)


def test_a_forged_answer_is_refused(definition):
    # The definition writes its own answer, naming os.system, to every file the child has open.
    path = definition(
        """
        import json, os
        forged = {"format": "ehrql_schools.query_model", "version": 1, "root": 0,
                  "objects": [["os.system", {"command": "touch /tmp/pwned"}]]}
        for fd in range(3, 20):
            try:
                os.write(fd, json.dumps(forged).encode())
            except OSError:
                pass
        os._exit(0)
        """
    )
    with pytest.raises(IsolationError, match="'os.system' is not a query model node type"):
        load(path)


def fail_to_isolate(monkeypatch, *, before: str = "") -> None:
    # The child as run on a machine without network namespaces (`before` runs first).
    bootstrap = (
        "import ehrql_schools.isolation as isolation\n"
        f"{before}"
        "def isolate_network():\n"
        "    raise OSError(1, 'Operation not permitted')\n"
        "isolation.isolate_network = isolate_network\n"
        "isolation.main()\n"
    )
    monkeypatch.setattr(isolation, "CHILD_COMMAND", [sys.executable, "-P", "-c", bootstrap])


def test_without_namespaces_isolated_loading_fails_closed(definition, monkeypatch):
    fail_to_isolate(monkeypatch)
    path = definition("dataset.one = 1\n")
    with pytest.raises(IsolationError, match="without network access: Operation not permitted"):
        load(path)


def test_the_network_fallback_is_explicit(definition, monkeypatch, capsys):
    # As on a machine with a network interface (the child is told it has one).
    fail_to_isolate(monkeypatch, before="isolation.non_loopback_interfaces = lambda: ['eth0']\n")
    path = definition("dataset.one = 1\n")
    assert constants(load(path, allow_network_fallback=True)) == {"one": 1}
    err = capsys.readouterr().err
    assert "warning: running the dataset definition WITH network access" in err
    assert "(Operation not permitted; network interfaces: eth0)" in err


def test_the_fallback_without_network_interfaces_says_so(definition, monkeypatch, capsys):
    # As in a container started with --network none, whose seccomp profile refuses unshare():
    # the child really is in a network namespace with only loopback (made here by the real
    # isolate_network), and then cannot make its own.
    fail_to_isolate(monkeypatch, before="isolation.isolate_network()\n")
    path = definition(
        """
        import socket
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=2)
            dataset.network = "connected"
        except OSError:
            dataset.network = "blocked"
        """
    )
    assert constants(load(path, allow_network_fallback=True)) == {"network": "blocked"}
    err = capsys.readouterr().err
    assert "WITH network access" not in err
    assert (
        "note: running the dataset definition without a network namespace of its own "
        "(Operation not permitted); it is still cut off from the network because this process "
        "has no network interface but loopback" in err
    )


def test_without_network_interfaces_isolated_loading_still_fails_closed(definition, monkeypatch):
    # Having no network now is not enough without the fallback (the loopback interface is up,
    # and where the real database is, the fallback is never allowed).
    fail_to_isolate(monkeypatch, before="isolation.isolate_network()\n")
    path = definition("dataset.one = 1\n")
    with pytest.raises(IsolationError, match="without network access"):
        load(path)


NET_DEV = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop
    lo:   11822     160    0    0    0     0          0         0    11822     160    0    0
  eth0: 3077838     951    0    0    0     0          0         0  4897217   59205    0    0
"""


def test_network_interfaces_are_read_from_proc(tmp_path):
    assert isolation.interface_names(NET_DEV) == ["lo", "eth0"]
    net_dev = tmp_path / "dev"
    net_dev.write_text(NET_DEV)
    # `lo` is asked of the kernel (every network namespace has a loopback `lo`); an eth0 is
    # not loopback, whether or not this machine has one.
    assert isolation.non_loopback_interfaces(net_dev) == ["eth0"]
    net_dev.write_text("".join(NET_DEV.splitlines(keepends=True)[:3]))  # only lo
    assert isolation.non_loopback_interfaces(net_dev) == []
    assert isolation.non_loopback_interfaces(tmp_path / "missing") is None
    assert isolation.is_loopback("lo")
    assert not isolation.is_loopback("no-such-interface")


def test_the_fallback_message_names_what_the_definition_can_reach():
    error = OSError(1, "Operation not permitted")
    assert isolation.fallback_message("dataset", error, []).startswith(
        "note: running the dataset definition without a network namespace of its own"
    )
    assert isolation.fallback_message("measures", error, ["eth0", "docker0"]) == (
        "warning: running the measures definition WITH network access "
        "(Operation not permitted; network interfaces: eth0, docker0)"
    )
    assert isolation.fallback_message("dataset", error, None) == (
        "warning: running the dataset definition WITH network access (Operation not permitted)"
    )
