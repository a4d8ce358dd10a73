"""Project export/import: round trips, and every refusal leaving the workspace untouched."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from clusterlab.core.dataset import DatasetSpec, ProjectSpec
from clusterlab.core.errors import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidNameError,
    LimitExceededError,
    NotFoundError,
)
from clusterlab.storage.archive import MANIFEST_NAME, export_project, import_project
from clusterlab.storage.definitions import DefinitionStore
from clusterlab.storage.layout import WorkspaceLayout
from clusterlab.storage.versions import VersionStore

MAX_BYTES, MAX_MEMBERS = 10**9, 1000
PROJECT = ProjectSpec(key="CLUSTERING", name="Clustering", description="web logs")


def make_project(layout: WorkspaceLayout) -> dict[str, bytes]:
    """A project with three data versions, hidden work files and extra definitions.

    Returns the data files of the current version, by name.
    """
    store = DefinitionStore(layout)
    store.write_project(PROJECT)
    store.write_dataset(PROJECT.key, DatasetSpec(name="web"))
    versions = VersionStore(layout.dataset_data_dir(PROJECT.key, "web"), kept_versions=5)
    for i in range(3):
        with versions.new_version() as folder:
            (folder / "part-0.parquet").write_bytes(f"version {i}".encode() * 100)
            (folder / "sub").mkdir()
            (folder / "sub" / "part-1.parquet").write_bytes(bytes(range(256)) * (i + 1))
    assert len(versions.versions()) == 3
    project = layout.project_dir(PROJECT.key)
    # Work areas that must never be exported.
    (project / "data" / "web" / ".staging-999999-abcdef").mkdir()
    (project / "data" / "web" / ".staging-999999-abcdef" / "half.parquet").write_bytes(b"x")
    (project / ".lock").write_text("busy")
    (project / "recipes").mkdir()
    (project / "recipes" / "prepare_web.json").write_text('{"type": "prepare"}')
    (project / "recipes" / ".prepare_web.json.123.tmp").write_text("partial")
    (project / "saved_models" / "m1" / "v1").mkdir(parents=True)
    (project / "saved_models" / "m1" / "v1" / "model.skops").write_bytes(os.urandom(5000))
    current = versions.current()
    assert current is not None
    return {
        "part-0.parquet": (current / "part-0.parquet").read_bytes(),
        "sub/part-1.parquet": (current / "sub" / "part-1.parquet").read_bytes(),
    }


def snapshot(home: Path) -> dict[str, str]:
    """Every path under ``home`` except the staging area, with a hash of files."""
    result: dict[str, str] = {}
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home)
        if rel.parts[0] == ".staging":
            continue
        result[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "/"
    return result


def staging_is_empty(layout: WorkspaceLayout) -> bool:
    return not layout.staging_dir.exists() or not any(layout.staging_dir.iterdir())


@pytest.fixture
def source(tmp_path: Path) -> tuple[WorkspaceLayout, dict[str, bytes]]:
    layout = WorkspaceLayout(tmp_path / "source")
    return layout, make_project(layout)


@pytest.fixture
def exported(source: tuple[WorkspaceLayout, dict[str, bytes]], tmp_path: Path) -> Path:
    layout, _ = source
    return export_project(layout.project_dir(PROJECT.key), tmp_path / "out" / "project.zip")


@pytest.fixture
def target(tmp_path: Path) -> WorkspaceLayout:
    """A workspace with an unrelated project in it, to check it stays untouched."""
    layout = WorkspaceLayout(tmp_path / "target")
    DefinitionStore(layout).write_project(ProjectSpec(key="OTHER", name="Other"))
    return layout


def write_zip(path: Path, members: dict[str, bytes], *, project: bool = True) -> Path:
    """A zip with a valid project.json (unless ``project`` is false) and ``members``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        if project:
            zf.writestr("project.json", ProjectSpec(key="EVIL", name="Evil").model_dump_json())
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def assert_refused(
    archive: Path,
    layout: WorkspaceLayout,
    error: type[Exception],
    match: str,
    *,
    key: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_members: int = MAX_MEMBERS,
) -> None:
    before = snapshot(layout.home)
    with pytest.raises(error, match=match):
        import_project(archive, layout, key=key, max_bytes=max_bytes, max_members=max_members)
    assert snapshot(layout.home) == before
    assert staging_is_empty(layout)


# --- export ---------------------------------------------------------------------------


def test_export_holds_definitions_and_only_the_current_version(
    source: tuple[WorkspaceLayout, dict[str, bytes]], exported: Path
) -> None:
    layout, _current_files = source
    current = VersionStore(layout.dataset_data_dir(PROJECT.key, "web")).current()
    assert current is not None
    with zipfile.ZipFile(exported) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read(MANIFEST_NAME))
        assert zf.read("data/web/CURRENT").decode() == current.name
        for info in zf.infolist():
            mode = info.external_attr >> 16
            assert stat.S_ISDIR(mode) if info.is_dir() else stat.S_ISREG(mode), info.filename
    assert names == {
        MANIFEST_NAME,
        "project.json",
        "datasets/",
        "datasets/web.json",
        "data/web/CURRENT",
        f"data/web/{current.name}/",
        f"data/web/{current.name}/part-0.parquet",
        f"data/web/{current.name}/sub/",
        f"data/web/{current.name}/sub/part-1.parquet",
        "recipes/",
        "recipes/prepare_web.json",
        "saved_models/",
        "saved_models/m1/",
        "saved_models/m1/v1/",
        "saved_models/m1/v1/model.skops",
    }
    assert manifest["project_key"] == "CLUSTERING"
    assert manifest["format_version"] == 1
    assert not list(exported.parent.glob(".*"))  # no temporary file left behind


def test_export_into_a_folder_names_the_archive_by_key(
    source: tuple[WorkspaceLayout, dict[str, bytes]], tmp_path: Path
) -> None:
    layout, _ = source
    out = tmp_path / "exports"
    out.mkdir()
    assert export_project(layout.project_dir(PROJECT.key), out) == out / "CLUSTERING.zip"
    assert zipfile.is_zipfile(out / "CLUSTERING.zip")


def test_export_never_follows_symlinks(
    source: tuple[WorkspaceLayout, dict[str, bytes]], tmp_path: Path
) -> None:
    layout, _ = source
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    (layout.project_dir(PROJECT.key) / "recipes" / "leak.json").symlink_to(secret)
    (layout.project_dir(PROJECT.key) / "linked_dir").symlink_to(tmp_path, target_is_directory=True)
    archive = export_project(layout.project_dir(PROJECT.key), tmp_path / "p.zip")
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    assert "recipes/leak.json" not in names
    assert not [n for n in names if n.startswith("linked_dir")]


def test_export_of_a_missing_project_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no project"):
        export_project(tmp_path / "nothing", tmp_path / "p.zip")


# --- round trip -----------------------------------------------------------------------


def test_round_trip_with_a_new_key(
    source: tuple[WorkspaceLayout, dict[str, bytes]], exported: Path, target: WorkspaceLayout
) -> None:
    src_layout, current_files = source
    other_before = snapshot(target.project_dir("OTHER"))

    key = import_project(
        exported, target, key="CLUSTERING_COPY", max_bytes=MAX_BYTES, max_members=MAX_MEMBERS
    )

    assert key == "CLUSTERING_COPY"
    store = DefinitionStore(target)
    spec = store.read_project(key)
    assert spec.key == "CLUSTERING_COPY"
    assert (spec.name, spec.description, spec.created_at) == (
        PROJECT.name,
        PROJECT.description,
        PROJECT.created_at,
    )
    assert store.dataset_names(key) == ["web"]
    assert store.read_dataset(key, "web") == DefinitionStore(src_layout).read_dataset(
        PROJECT.key, "web"
    )
    versions = VersionStore(target.dataset_data_dir(key, "web"))
    current = versions.current()
    assert current is not None
    assert [v.name for v in versions.versions()] == [current.name]  # old versions left out
    for rel, data in current_files.items():
        assert (current / rel).read_bytes() == data
    project = target.project_dir(key)
    assert (project / "recipes" / "prepare_web.json").read_text() == '{"type": "prepare"}'
    src_model = src_layout.project_dir(PROJECT.key) / "saved_models/m1/v1/model.skops"
    assert (project / "saved_models/m1/v1/model.skops").read_bytes() == src_model.read_bytes()
    assert not (project / MANIFEST_NAME).exists()
    assert not (project / ".lock").exists()
    assert staging_is_empty(target)
    assert snapshot(target.project_dir("OTHER")) == other_before


def test_round_trip_keeps_the_key_and_the_definition_bytes(
    source: tuple[WorkspaceLayout, dict[str, bytes]], exported: Path, tmp_path: Path
) -> None:
    src_layout, _ = source
    layout = WorkspaceLayout(tmp_path / "fresh")  # nothing exists yet, not even home
    assert (
        import_project(exported, layout, max_bytes=MAX_BYTES, max_members=MAX_MEMBERS)
        == "CLUSTERING"
    )
    for rel in ("project.json", "datasets/web.json"):
        original = (src_layout.project_dir("CLUSTERING") / rel).read_bytes()
        assert (layout.project_dir("CLUSTERING") / rel).read_bytes() == original


def test_an_empty_current_version_survives_the_round_trip(
    tmp_path: Path, target: WorkspaceLayout
) -> None:
    layout = WorkspaceLayout(tmp_path / "empty")
    DefinitionStore(layout).write_project(PROJECT)
    versions = VersionStore(layout.dataset_data_dir(PROJECT.key, "web"))
    with versions.new_version():
        pass
    archive = export_project(layout.project_dir(PROJECT.key), tmp_path / "empty.zip")
    key = import_project(archive, target, max_bytes=MAX_BYTES, max_members=MAX_MEMBERS)
    current = VersionStore(target.dataset_data_dir(key, "web")).current()
    assert current is not None
    assert list(current.iterdir()) == []


def test_a_zip_without_folder_entries_is_accepted(tmp_path: Path, target: WorkspaceLayout) -> None:
    """Archives zipped by other tools may omit folder entries."""
    archive = write_zip(
        tmp_path / "plain.zip",
        {"data/web/CURRENT": b"v-1", "data/web/v-1/part-0.parquet": b"PAR1"},
    )
    key = import_project(archive, target, max_bytes=MAX_BYTES, max_members=MAX_MEMBERS)
    current = VersionStore(target.dataset_data_dir(key, "web")).current()
    assert current is not None
    assert (current / "part-0.parquet").read_bytes() == b"PAR1"


def test_import_over_an_existing_project_is_refused(
    source: tuple[WorkspaceLayout, dict[str, bytes]], exported: Path
) -> None:
    layout, _ = source
    assert_refused(exported, layout, AlreadyExistsError, "already exists.*new key.*delete")


def test_import_with_an_invalid_new_key_is_refused(exported: Path, target: WorkspaceLayout) -> None:
    assert_refused(exported, target, InvalidNameError, "Invalid project key", key="../X")


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "match"),
    [
        ("/etc/cron.d/evil", "absolute path"),
        ("../outside.txt", r"'\.\.' component"),
        ("datasets/../../outside.txt", r"'\.\.' component"),
        ("recipes\\..\\..\\evil.json", "backslashes"),
        ("C:/Windows/evil.dll", "drive letter"),
        ("recipes//evil.json", "empty or '.'"),
        ("./recipes/evil.json", "empty or '.'"),
    ],
)
def test_unsafe_member_paths_are_refused(
    tmp_path: Path, target: WorkspaceLayout, member: str, match: str
) -> None:
    archive = write_zip(tmp_path / "evil.zip", {member: b"payload"})
    assert_refused(archive, target, InvalidInputError, match)
    assert not (tmp_path / "outside.txt").exists()


def test_symlink_member_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(tmp_path / "link.zip", {})
    with zipfile.ZipFile(archive, "a") as zf:
        link = zipfile.ZipInfo("recipes/passwd.json")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    assert_refused(archive, target, InvalidInputError, "'recipes/passwd.json' is a symbolic link")


def test_device_member_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(tmp_path / "fifo.zip", {})
    with zipfile.ZipFile(archive, "a") as zf:
        fifo = zipfile.ZipInfo("recipes/pipe")
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(fifo, b"")
    assert_refused(archive, target, InvalidInputError, "not a regular file or folder")


def test_duplicate_member_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(tmp_path / "dup.zip", {"recipes/r.json": b"{}"})
    with zipfile.ZipFile(archive, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("recipes/r.json", b"{}")
    assert_refused(archive, target, InvalidInputError, "'recipes/r.json' twice")


def test_file_and_folder_with_one_name_are_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(tmp_path / "clash.zip", {"recipes": b"file", "recipes/r.json": b"{}"})
    assert_refused(archive, target, InvalidInputError, "both a file and a folder")


def test_too_many_members_are_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(tmp_path / "many.zip", {f"recipes/r{i}.json": b"{}" for i in range(20)})
    assert_refused(archive, target, LimitExceededError, "21 members.*limit of 10", max_members=10)


def test_too_large_declared_size_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(tmp_path / "big.zip", {"data/web/v-1/part.parquet": os.urandom(5000)})
    assert_refused(
        archive,
        target,
        LimitExceededError,
        "more than 4000 bytes.*'data/web/v-1/part.parquet'",
        max_bytes=4000,
    )


def test_zip_bomb_ratio_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(tmp_path / "bomb.zip", {"recipes/zeros.json": bytes(20 * 1024 * 1024)})
    assert archive.stat().st_size < 100_000
    assert_refused(archive, target, LimitExceededError, "zip bomb")


def test_member_larger_than_its_declared_size_is_refused(
    tmp_path: Path, target: WorkspaceLayout
) -> None:
    """A central directory that understates a member's size must not get the data in."""
    name = b"data/web/v-1/part.parquet"
    archive = write_zip(tmp_path / "liar.zip", {name.decode(): os.urandom(100_000)})
    raw = bytearray(archive.read_bytes())
    entry = raw.find(b"PK\x01\x02")
    while raw[entry + 46 : entry + 46 + len(name)] != name:
        entry = raw.find(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", raw, entry + 24, 1000)  # uncompressed size: 1000 bytes
    archive.write_bytes(bytes(raw))
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo(name.decode()).file_size == 1000
    assert_refused(archive, target, InvalidInputError, "'data/web/v-1/part.parquet' is damaged")


def test_overlapping_members_are_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    """Two central-directory entries sharing one local entry: the zip-bomb trick."""
    archive = write_zip(tmp_path / "overlap.zip", {"recipes/a.json": b"{}" * 1000})
    raw = bytearray(archive.read_bytes())
    eocd = raw.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<II", raw, eocd + 12)
    entries = raw[cd_offset : cd_offset + cd_size]
    # Append a copy of the last central-directory entry under a new name of equal length.
    last = entries.rfind(b"PK\x01\x02")
    copy = bytearray(entries[last:])
    copy[46 : 46 + len(b"recipes/a.json")] = b"recipes/b.json"
    new_cd = entries + copy
    count = struct.unpack_from("<H", raw, eocd + 10)[0] + 1
    tail = bytearray(raw[eocd:])
    struct.pack_into("<HHII", tail, 8, count, count, len(new_cd), cd_offset)
    archive.write_bytes(bytes(raw[:cd_offset] + new_cd + tail))
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist()[-2:] == ["recipes/a.json", "recipes/b.json"]
    assert_refused(archive, target, InvalidInputError, "overlap")


def test_not_a_zip_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = tmp_path / "notes.zip"
    archive.write_text("just some text, not a zip")
    assert_refused(archive, target, InvalidInputError, "notes.zip is not a ClusterLab project")


def test_truncated_zip_is_refused(exported: Path, tmp_path: Path, target: WorkspaceLayout) -> None:
    cut = tmp_path / "cut.zip"
    cut.write_bytes(exported.read_bytes()[: exported.stat().st_size // 2])
    assert_refused(cut, target, InvalidInputError, "not a ClusterLab project archive")


def test_missing_project_json_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(tmp_path / "plain.zip", {"readme.txt": b"hello"}, project=False)
    assert_refused(archive, target, InvalidInputError, "no project.json")


def test_invalid_project_json_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(
        tmp_path / "bad.zip", {"project.json": b'{"name": "no key"}'}, project=False
    )
    assert_refused(archive, target, InvalidInputError, "'project.json' in the archive is invalid")


def test_invalid_key_in_project_json_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    spec = b'{"key": "../../etc", "name": "x"}'
    archive = write_zip(tmp_path / "key.zip", {"project.json": spec}, project=False)
    assert_refused(archive, target, InvalidNameError, "Invalid project key")


def test_dangling_current_pointer_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    archive = write_zip(tmp_path / "dangling.zip", {"data/web/CURRENT": b"v-missing"})
    assert_refused(archive, target, InvalidInputError, "does not hold")


def test_newer_archive_format_is_refused(tmp_path: Path, target: WorkspaceLayout) -> None:
    manifest = json.dumps({"format": "clusterlab-project", "format_version": 99}).encode()
    archive = write_zip(tmp_path / "future.zip", {MANIFEST_NAME: manifest})
    assert_refused(archive, target, InvalidInputError, "Upgrade ClusterLab")


def test_failure_while_extracting_leaves_nothing(
    exported: Path, tmp_path: Path, target: WorkspaceLayout
) -> None:
    """A member damaged after its checks pass fails mid-extraction; staging is removed."""
    raw = bytearray(exported.read_bytes())
    with zipfile.ZipFile(exported) as zf:
        info = zf.getinfo("saved_models/m1/v1/model.skops")
    # Flip a byte inside the member's compressed data (after its 30-byte local header).
    offset = info.header_offset + 30 + len(info.filename) + 10
    raw[offset] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    assert_refused(damaged, target, InvalidInputError, "model.skops' is damaged")
