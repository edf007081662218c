"""The action images: how they are built (unit tests, no Docker) and that each one runs its
entrypoint locked down as the backend runs it (integration tests, real Docker engine)."""

import io
import os
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.csv as pa_csv
import pytest

from job_runner import images
from job_runner.pipeline.models import IMAGES as PIPELINE_IMAGES

# Unit tests: no Docker needed


def test_every_version_project_yaml_accepts_is_built() -> None:
    assert set(images.ACTION_IMAGES) == set(PIPELINE_IMAGES)
    for name, image in PIPELINE_IMAGES.items():
        assert images.SPECS[name].references == [
            f"osschools/{name}:{version}" for version in image.versions
        ]
    assert images.SPECS["python"].references == ["osschools/python:v1", "osschools/python:v2"]


def test_every_image_has_its_files() -> None:
    for spec in images.SPECS.values():
        assert (spec.folder / "Dockerfile").is_file()
        if spec.rootfs:
            assert images.read_list(spec.folder / "debs.txt")
        if spec.wheels:
            lines = images.read_requirements(spec.folder / "requirements.txt")
            assert all("==" in line for line in lines), "pin every wheel"


def test_requirements_includes_are_expanded(tmp_path: Path) -> None:
    (tmp_path / "shared.txt").write_text("# comment\nclick==8.1.7  # why\n\n")
    (tmp_path / "image").mkdir()
    (tmp_path / "image" / "requirements.txt").write_text("-r ../shared.txt\nrich==13.0.0\n")
    assert images.read_requirements(tmp_path / "image" / "requirements.txt") == [
        "click==8.1.7",
        "rich==13.0.0",
    ]
    (tmp_path / "bad.txt").write_text("--index-url http://example.org\n")
    with pytest.raises(images.ImageBuildError, match="bad.txt:1"):
        images.read_requirements(tmp_path / "bad.txt")


def test_ehrql_and_sqlrunner_share_their_wheels() -> None:
    """Same requirements, same context files: Docker's layer cache shares their layers."""
    assert images.requirements_text(images.SPECS["ehrql"]) == images.requirements_text(
        images.SPECS["sqlrunner"]
    )
    python = images.requirements_text(images.SPECS["python"])
    assert "statsmodels==" in python and "pandas==" in python


def test_selection_adds_base_and_refuses_unknown_images() -> None:
    assert [spec.name for spec in images.selected(["python"])] == ["base", "python"]
    assert [spec.name for spec in images.selected(["r"])] == ["r"]
    assert [spec.name for spec in images.selected([])] == list(images.SPECS)
    with pytest.raises(images.ImageBuildError, match="unknown image stata"):
        images.selected(["stata"])


def test_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OSSCHOOLS_CACHE", str(tmp_path / "cache"))
    assert images.cache_folder() == tmp_path / "cache"
    monkeypatch.delenv("OSSCHOOLS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert images.cache_folder() == tmp_path / "xdg" / "osschools"


def test_build_context_is_deterministic(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    plan = images.Plan(images.SPECS["ehrql"], files={"wheels/demo-1.0-py3-none-any.whl": wheel})

    def context() -> bytes:
        out = io.BytesIO()
        images.context_tar(plan, out)
        return out.getvalue()

    first = context()
    os.utime(wheel, (0, 12345))
    assert context() == first
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        assert tar.getnames() == ["wheels", "Dockerfile", "wheels/demo-1.0-py3-none-any.whl"]


def test_source_hash_follows_the_package(tmp_path: Path) -> None:
    for name in images.PACKAGE_FILES:
        (tmp_path / name).write_text(name)
    for name in images.PACKAGE_DIRS:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    before = images.source_hash(tmp_path)
    (tmp_path / "job_runner" / "__pycache__").mkdir()
    (tmp_path / "job_runner" / "__pycache__" / "x.pyc").write_bytes(b"x")
    assert images.source_hash(tmp_path) == before
    (tmp_path / "job_runner" / "new.py").write_text("x = 1\n")
    assert images.source_hash(tmp_path) != before


# Integration tests: a real Docker engine


#: How the backend runs an action: no network, read-only root, no capabilities, not root; a
#: tmpfs /tmp (R needs a writable temporary folder) and the workspace mounted read-write.
LOCKED_DOWN: dict[str, Any] = {
    "network_mode": "none",
    "read_only": True,
    "cap_drop": ["ALL"],
    "user": "10000",
    "security_opt": ["no-new-privileges"],
    "tmpfs": {"/tmp": "rw,size=64m"},
}


@pytest.fixture(scope="module")
def docker_client(action_images: dict[str, str]) -> Any:
    return images.docker_client()


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic trust in a folder the container's user can read."""
    from dummy_data.generate import generate_trust
    from dummy_data.settings import GeneratorSettings
    from dummy_data.writers import DuckDBWriter
    from schema import load_schema

    folder = tmp_path_factory.mktemp("image-trust")
    path = folder / "trust.duckdb"
    settings = GeneratorSettings(seed=3, trusts=1, schools=2, years=1)
    generate_trust(settings, DuckDBWriter(path, load_schema()))
    folder.chmod(0o755)
    path.chmod(0o644)
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A project folder the container's user (uid 10000) can write to."""
    folder = tmp_path / "workspace"
    (folder / "analysis").mkdir(parents=True)
    folder.chmod(0o777)
    return folder


def write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text))
    path.chmod(0o644)


def run_image(
    client: Any,
    image: str,
    args: list[str],
    workspace: Path,
    trust: Path | None = None,
    environment: dict[str, str] | None = None,
) -> tuple[int, str]:
    """Run the image's entrypoint locked down; its exit code and output."""
    volumes = {str(workspace): {"bind": "/workspace", "mode": "rw"}}
    if trust is not None:
        volumes[str(trust.parent)] = {"bind": "/data", "mode": "ro"}
    container = client.containers.run(
        image,
        args,
        detach=True,
        volumes=volumes,
        environment=environment or {},
        **LOCKED_DOWN,
    )
    try:
        code = container.wait(timeout=300)["StatusCode"]
        return code, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


@pytest.mark.integration
def test_images_are_current_and_locked_down(
    docker_client: Any, action_images: dict[str, str]
) -> None:
    listings = {listing.name: listing for listing in images.list_images(docker_client)}
    assert set(listings) == set(images.SPECS)
    for name in ("base", "r"):
        assert listings[name].state == "current", listings[name]
    entrypoints = {
        "ehrql": "ehrql-schools",
        "sqlrunner": "sqlrunner",
        "python": "python",
        "r": "Rscript",
    }
    for name, reference in action_images.items():
        config = docker_client.images.get(reference).attrs["Config"]
        assert config["User"] == "10000:10000"
        assert config["WorkingDir"] == "/workspace"
        assert config["Entrypoint"] == ["/usr/bin/tini", "--", entrypoints[name]]
        assert config["Labels"][images.LABEL_IMAGE] == name


@pytest.mark.integration
def test_a_second_build_uses_the_cache(action_images: dict[str, str]) -> None:
    """Nothing whose inputs are unchanged is built again (the package layer is rebuilt only if
    the source changed since the session's build)."""
    outcomes = {outcome.name: outcome for outcome in images.build_images(["base", "r"])}
    assert not outcomes["base"].built
    assert not outcomes["r"].built
    assert outcomes["base"].seconds < 30


@pytest.mark.integration
def test_ehrql_generates_a_dataset(
    docker_client: Any, action_images: dict[str, str], trust: Path, workspace: Path
) -> None:
    write(
        workspace / "analysis" / "dataset_definition.py",
        """\
        from ehrql_schools import create_dataset
        from ehrql_schools.tables.schools import enrolments, pupils

        dataset = create_dataset()
        dataset.define_population(enrolments.exists_for_pupil())
        dataset.sex = pupils.sex
        """,
    )
    args = [
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "output/dataset.csv",
        "--dsn",
        "/data/trust.duckdb",
    ]
    code, logs = run_image(docker_client, action_images["ehrql"], args, workspace, trust)
    assert code == 0, logs
    table = pa_csv.read_csv(workspace / "output" / "dataset.csv")
    assert table.column_names == ["pupil_id", "sex"]
    with duckdb.connect(str(trust), read_only=True) as connection:
        expected = connection.execute("SELECT count(DISTINCT pupil_id) FROM enrolments").fetchone()
    assert expected is not None and table.num_rows == expected[0] > 0


@pytest.mark.integration
def test_sqlrunner_runs_a_query(
    docker_client: Any, action_images: dict[str, str], trust: Path, workspace: Path
) -> None:
    write(
        workspace / "analysis" / "by_sex.sql",
        "SELECT sex, count(*) AS pupils FROM pupils GROUP BY sex ORDER BY sex;\n",
    )
    code, logs = run_image(
        docker_client,
        action_images["sqlrunner"],
        ["analysis/by_sex.sql", "--output", "output/by_sex.csv"],
        workspace,
        trust,
        environment={"OSSCHOOLS_DSN": "/data/trust.duckdb"},
    )
    assert code == 0, logs
    table = pa_csv.read_csv(workspace / "output" / "by_sex.csv")
    rows = [tuple(row.values()) for row in table.to_pylist()]
    with duckdb.connect(str(trust), read_only=True) as connection:
        expected = connection.execute(
            "SELECT sex, count(*) FROM pupils GROUP BY sex ORDER BY sex"
        ).fetchall()
    assert rows == expected


@pytest.mark.integration
def test_python_fits_a_mixed_model(
    docker_client: Any, action_images: dict[str, str], workspace: Path
) -> None:
    write(
        workspace / "analysis" / "model.py",
        """\
        import matplotlib.pyplot as plt
        import numpy as np
        import pandas as pd
        import pyarrow
        import scipy
        import statsmodels.formula.api as smf

        from job_runner.disclosure.controls import redact_small, round_to_base

        rng = np.random.default_rng(1)
        schools = np.repeat(np.arange(12), 25)
        effect = rng.normal(0, 2, 12)[schools]
        fsm = rng.integers(0, 2, schools.size)
        score = 100 - 3 * fsm + effect + rng.normal(0, 1, schools.size)
        data = pd.DataFrame({"school": schools, "fsm": fsm, "score": score})
        fit = smf.mixedlm("score ~ fsm", data, groups=data["school"]).fit()
        assert -4 < fit.params["fsm"] < -2, fit.params
        counts = round_to_base(redact_small(pd.Series([3, 12, 40]), threshold=7), base=5)
        assert counts.isna().tolist() == [True, False, False]
        pd.DataFrame({"coef": fit.params}).to_csv("output/coefficients.csv")
        plt.hist(score)
        plt.savefig("output/scores.png")
        print("ok", pyarrow.__version__, scipy.__version__)
        """,
    )
    (workspace / "output").mkdir(mode=0o777)
    (workspace / "output").chmod(0o777)
    code, logs = run_image(docker_client, action_images["python"], ["analysis/model.py"], workspace)
    assert code == 0, logs
    assert "ok" in logs
    assert "fsm" in (workspace / "output" / "coefficients.csv").read_text()
    assert (workspace / "output" / "scores.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.integration
def test_r_fits_a_mixed_model(
    docker_client: Any, action_images: dict[str, str], workspace: Path
) -> None:
    write(
        workspace / "analysis" / "model.R",
        """\
        suppressPackageStartupMessages({
          library(lme4); library(data.table); library(readr); library(ggplot2)
        })
        fit <- lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy)
        stopifnot(abs(fixef(fit)[["Days"]] - 10.467) < 0.01)
        dir.create("output", showWarnings = FALSE)
        write_csv(data.frame(term = names(fixef(fit)), estimate = fixef(fit)),
                  "output/fixed_effects.csv")
        cat("ok\\n")
        """,
    )
    code, logs = run_image(docker_client, action_images["r"], ["analysis/model.R"], workspace)
    assert code == 0, logs
    assert "Days" in (workspace / "output" / "fixed_effects.csv").read_text()


@pytest.mark.integration
def test_the_container_cannot_reach_the_network_or_write_outside_the_workspace(
    docker_client: Any, action_images: dict[str, str], workspace: Path
) -> None:
    write(
        workspace / "analysis" / "escape.py",
        """\
        import os, socket
        try:
            socket.create_connection(("deb.debian.org", 80), timeout=3)
            print("network: reachable")
        except OSError:
            print("network: unreachable")
        for path in ("/opt/venv/escape", "/etc/escape", "/home/researcher/escape"):
            try:
                open(path, "w").close()
                print("wrote", path)
            except OSError:
                pass
        print("uid", os.getuid())
        """,
    )
    image = action_images["python"]
    code, logs = run_image(docker_client, image, ["analysis/escape.py"], workspace)
    assert code == 0, logs
    assert "network: unreachable" in logs
    assert "wrote" not in logs
    assert "uid 10000" in logs


def test_without_debootstrap_or_registry_the_message_says_what_to_install(
    tmp_path: Path,
) -> None:
    import docker.errors

    class Images:
        def get(self, name: str) -> None:
            raise docker.errors.ImageNotFound(name)

        def pull(self, name: str) -> None:
            raise docker.errors.APIError("no registry")

    class Client:
        images = Images()

    cache = images.Cache(tmp_path / "cache")
    with pytest.raises(images.ImageToolsMissing, match="debootstrap is"):
        images.make_rootfs(images.SPECS["base"], cache, Client(), lambda text: None, "docker")
    assert not list((tmp_path / "cache" / "rootfs").iterdir())
