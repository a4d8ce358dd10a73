"""Project export and import as a zip archive.

An archive holds a project's definitions and the *current* version of each dataset's
data, with member paths relative to the project folder (``project.json``,
``datasets/web.json``, ``data/web/CURRENT``, ``data/web/v-.../part-0.parquet``) and a
small ``clusterlab-archive.json`` manifest.

Archives come from users, so an import trusts nothing in them: every member is checked
(paths, entry types, sizes, compression ratios) before a byte is written, the
extraction goes to a fresh staging folder under ``<home>/.staging`` while counting the
bytes actually written, and the project appears under ``projects/`` only once
complete, by one rename. A refused or failed import leaves the workspace as it was.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import stat
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from clusterlab.core.dataset import DatasetSpec, ProjectSpec
from clusterlab.core.errors import (
    AlreadyExistsError,
    ClusterLabError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    StorageError,
)
from clusterlab.core.ids import validate_project_key
from clusterlab.storage.atomic import fsync_dir
from clusterlab.storage.layout import WorkspaceLayout
from clusterlab.storage.versions import VersionStore

M = TypeVar("M", bound=BaseModel)

MANIFEST_NAME = "clusterlab-archive.json"
ARCHIVE_FORMAT = "clusterlab-project"
ARCHIVE_FORMAT_VERSION = 1

# Deflate cannot exceed ~1030:1, and real project files (Parquet, JSON, skops) stay far
# below 100:1; a larger ratio on a sizeable member is a zip bomb, not data.
MAX_COMPRESSION_RATIO = 200
_RATIO_MIN_BYTES = 1024 * 1024
# Definitions are read into memory to be validated before extraction.
_MAX_DEFINITION_BYTES = 16 * 1024 * 1024
_CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
# What a damaged or hostile zip makes the zipfile module raise while reading.
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


# --- export ---------------------------------------------------------------------------


def export_project(project_dir: Path, dest: Path) -> Path:
    """Write the project in ``project_dir`` to a zip archive and return its path.

    Parameters
    ----------
    project_dir : Path
        The project folder (``<home>/projects/<KEY>``).
    dest : Path
        The archive to write; if it is an existing folder, ``<KEY>.zip`` is written in
        it. An existing file is replaced, atomically.

    Returns
    -------
    Path
        The archive written.

    Raises
    ------
    NotFoundError
        If ``project_dir`` holds no project.
    StorageError
        If the project cannot be read or the archive cannot be written.

    Examples
    --------
    >>> export_project(layout.project_dir("CLUSTERING"), Path("clustering.zip"))  # doctest: +SKIP
    PosixPath('clustering.zip')
    """
    spec = _read_project_dir_spec(project_dir)
    if dest.is_dir():
        dest = dest / f"{spec.key}.zip"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with zipfile.ZipFile(
            tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True, strict_timestamps=False
        ) as zf:
            zf.writestr(_file_info(MANIFEST_NAME), _manifest(spec.key))
            for arcname, source in _export_members(project_dir):
                if source is None:
                    zf.mkdir(arcname, mode=0o755)
                elif isinstance(source, bytes):
                    zf.writestr(_file_info(arcname), source)
                else:
                    zf.write(source, arcname)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        raise StorageError(
            f"Could not export project {spec.key} to {dest}: {exc}. Check that the folder "
            "is writable and has free space; if datasets were being rebuilt, export again."
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(dest.parent)
    return dest


def _read_project_dir_spec(project_dir: Path) -> ProjectSpec:
    path = project_dir / "project.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"There is no project in {project_dir} (no project.json).") from None
    try:
        return ProjectSpec.model_validate_json(raw)
    except ValidationError as exc:
        raise StorageError(
            f"The definition of the project in {project_dir} is damaged ({exc}); "
            "fix or restore project.json before exporting."
        ) from exc


def _manifest(key: str) -> str:
    return json.dumps(
        {
            "format": ARCHIVE_FORMAT,
            "format_version": ARCHIVE_FORMAT_VERSION,
            "project_key": key,
            "created_at": datetime.now(UTC).isoformat(),
        },
        indent=2,
    )


_Source: TypeAlias = Path | bytes | None


def _file_info(arcname: str) -> zipfile.ZipInfo:
    now = datetime.now()
    info = zipfile.ZipInfo(
        arcname, date_time=(now.year, now.month, now.day, now.hour, now.minute, now.second)
    )
    info.compress_type = zipfile.ZIP_DEFLATED
    # Record a regular file, as `ZipFile.write` does, so imports can check entry types.
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def _export_members(project_dir: Path) -> Iterator[tuple[str, _Source]]:
    """Archive names and their sources: a file to copy, bytes to store, or a folder."""
    for entry in _entries(project_dir):
        if entry.name == MANIFEST_NAME:
            continue
        if entry.name == "data" and entry.is_dir(follow_symlinks=False):
            yield from _export_data(Path(entry.path))
        else:
            yield from _walk(entry, PurePosixPath(entry.name))


def _export_data(data_dir: Path) -> Iterator[tuple[str, _Source]]:
    for entry in _entries(data_dir):
        rel = PurePosixPath("data", entry.name)
        if not entry.is_dir(follow_symlinks=False):
            yield from _walk(entry, rel)
            continue
        # The pointer is read once and stored as read, so the archive names exactly the
        # version it holds even if a writer publishes a newer one meanwhile.
        current = VersionStore(Path(entry.path)).current()
        for child in _entries(Path(entry.path)):
            if child.name == "CURRENT":
                if current is not None:
                    yield str(rel / "CURRENT"), current.name.encode("utf-8")
            elif child.name.startswith("v-"):
                if current is not None and child.name == current.name:
                    yield from _walk(child, rel / child.name)
            else:
                yield from _walk(child, rel / child.name)


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    # Hidden names are work areas (staging folders, temporary files), never data.
    with os.scandir(folder) as it:
        return sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)


def _walk(entry: os.DirEntry[str], rel: PurePosixPath) -> Iterator[tuple[str, _Source]]:
    # Symbolic links are never followed: one could pull files from outside the project.
    if entry.is_dir(follow_symlinks=False):
        # Folders are members too, so an empty one (an empty version) survives the trip.
        yield str(rel), None
        for child in _entries(Path(entry.path)):
            yield from _walk(child, rel / child.name)
    elif entry.is_file(follow_symlinks=False):
        yield str(rel), Path(entry.path)


# --- import ---------------------------------------------------------------------------


@dataclass
class _Budget:
    """Bytes an extraction may still write: the archive's headers may lie."""

    left: int

    def take(self, n: int, member: str) -> None:
        self.left -= n
        if self.left < 0:
            raise LimitExceededError(
                f"The archive expands to more than the allowed size while extracting "
                f"{member}; its headers understate its content. Nothing was imported."
            )


def import_project(
    archive: Path,
    layout: WorkspaceLayout,
    *,
    key: str | None = None,
    max_bytes: int,
    max_members: int,
) -> str:
    """Import a project archive into the workspace and return the project's KEY.

    Parameters
    ----------
    archive : Path
        A zip written by `export_project`.
    layout : WorkspaceLayout
        The workspace to import into.
    key : str, optional
        A new KEY for the project (the archive's KEY is used otherwise).
    max_bytes : int
        Most bytes the archive may expand to (``Settings.max_archive_bytes``).
    max_members : int
        Most members the archive may hold (``Settings.max_archive_members``).

    Returns
    -------
    str
        The KEY of the imported project.

    Raises
    ------
    InvalidInputError
        If the file is not a ClusterLab project archive, or holds an unsafe member
        (absolute path, ``..``, link, duplicate) or an invalid definition.
    LimitExceededError
        If the archive holds too many members, expands beyond ``max_bytes``, or
        compresses implausibly well (a zip bomb).
    AlreadyExistsError
        If the workspace has a project with that KEY.

    Examples
    --------
    >>> import_project(Path("clustering.zip"), layout, key="CLUSTERING_COPY",
    ...                max_bytes=2**30, max_members=10_000)  # doctest: +SKIP
    'CLUSTERING_COPY'
    """
    if key is not None:
        validate_project_key(key)
    with _open_archive(archive) as zf:
        infos = _check_members(zf.infolist(), archive.name, max_bytes, max_members)
        if MANIFEST_NAME in infos:
            _check_manifest(_read_small(zf, infos[MANIFEST_NAME]))
        spec = _check_definitions(zf, infos, archive.name)
        rename = key is not None and key != spec.key
        if rename:
            spec = spec.model_copy(update={"key": key})
        target = layout.project_dir(spec.key)
        if target.exists():
            raise _exists(spec.key)
        _extract_and_publish(zf, infos, spec, layout, target, max_bytes, rename=rename)
    return spec.key


def _open_archive(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except FileNotFoundError:
        raise NotFoundError(f"The archive {archive} does not exist.") from None
    except (*_ZIP_READ_ERRORS, OSError, ValueError) as exc:
        raise InvalidInputError(
            f"{archive.name} is not a ClusterLab project archive (it cannot be read as a "
            f"zip file: {exc}). Export the project again from ClusterLab."
        ) from exc


def _show(name: str) -> str:
    return repr(name if len(name) <= 200 else name[:200] + "...")


def _check_members(
    infos: list[zipfile.ZipInfo], archive: str, max_bytes: int, max_members: int
) -> dict[str, zipfile.ZipInfo]:
    """Refuse anything unsafe; return the members by name (folders without ``/``)."""
    if len(infos) > max_members:
        raise LimitExceededError(
            f"The archive {archive} holds {len(infos)} members, more than the limit of "
            f"{max_members}. Raise CLUSTERLAB_MAX_ARCHIVE_MEMBERS if the archive is trusted."
        )
    by_name: dict[str, zipfile.ZipInfo] = {}
    declared = 0
    for info in infos:
        name = _check_member_name(info, archive)
        if name in by_name:
            raise InvalidInputError(
                f"The archive {archive} holds the member {_show(name)} twice; "
                "it was not written by ClusterLab and is refused."
            )
        _check_member_entry(info, archive)
        by_name[name] = info
        declared += info.file_size
        if declared > max_bytes:
            raise LimitExceededError(
                f"The archive {archive} expands to more than {max_bytes} bytes (reached at "
                f"member {_show(info.filename)}). Raise CLUSTERLAB_MAX_ARCHIVE_BYTES if the "
                "archive is trusted."
            )
    _check_tree(by_name, archive)
    _check_overlaps(infos, archive)
    return by_name


def _check_member_name(info: zipfile.ZipInfo, archive: str) -> str:
    name = info.filename
    shown = _show(name)
    problem = None
    if "\\" in name:
        problem = "uses backslashes"
    elif name.startswith("/"):
        problem = "is an absolute path"
    elif _DRIVE.match(name):
        problem = "starts with a drive letter"
    else:
        parts = (name[:-1] if info.is_dir() else name).split("/")
        if ".." in parts:
            problem = "contains a '..' component that points outside the project"
        elif any(part in ("", ".") for part in parts):
            problem = "has an empty or '.' path component"
    if problem:
        raise InvalidInputError(
            f"The archive {archive} is refused: its member {shown} {problem}. "
            "A project archive only holds paths inside the project folder."
        )
    return name.rstrip("/")


def _check_member_entry(info: zipfile.ZipInfo, archive: str) -> None:
    shown = _show(info.filename)
    kind = stat.S_IFMT(info.external_attr >> 16)
    expected = stat.S_IFDIR if info.is_dir() else stat.S_IFREG
    # Zips made on Windows record no Unix type (0); anything else must match the name.
    if kind not in (0, expected):
        what = "a symbolic link" if kind == stat.S_IFLNK else "not a regular file or folder"
        raise InvalidInputError(
            f"The archive {archive} is refused: its member {shown} is {what}. "
            "A project archive only holds regular files and folders."
        )
    if info.flag_bits & 0x1:
        raise InvalidInputError(
            f"The archive {archive} is refused: its member {shown} is encrypted."
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise InvalidInputError(
            f"The archive {archive} is damaged: the stored member {shown} declares "
            f"{info.file_size} bytes but holds {info.compress_size}."
        )
    ratio_limit = MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
    if info.file_size > _RATIO_MIN_BYTES and info.file_size > ratio_limit:
        raise LimitExceededError(
            f"The archive {archive} is refused: its member {shown} expands "
            f"{info.file_size // max(info.compress_size, 1)} times its compressed size "
            f"(more than {MAX_COMPRESSION_RATIO}), which only zip bombs do."
        )


def _check_tree(by_name: dict[str, zipfile.ZipInfo], archive: str) -> None:
    folders = {name for name, info in by_name.items() if info.is_dir()}
    for name in by_name:
        folders.update(str(p) for p in PurePosixPath(name).parents if str(p) != ".")
    for name, info in by_name.items():
        if not info.is_dir() and name in folders:
            raise InvalidInputError(
                f"The archive {archive} is refused: {_show(name)} is both a file and a folder."
            )


def _check_overlaps(infos: list[zipfile.ZipInfo], archive: str) -> None:
    # Members sharing compressed data are the trick of non-recursive zip bombs.
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for before, after in itertools.pairwise(ordered):
        if before.header_offset + max(before.compress_size, 1) > after.header_offset:
            raise InvalidInputError(
                f"The archive {archive} is refused: its members {_show(before.filename)} and "
                f"{_show(after.filename)} overlap, which only hostile archives do."
            )


def _read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.is_dir() or info.file_size > _MAX_DEFINITION_BYTES:
        raise InvalidInputError(
            f"The member {_show(info.filename)} of the archive is not a definition file "
            f"(a folder, or larger than {_MAX_DEFINITION_BYTES} bytes)."
        )
    try:
        with zf.open(info) as fh:
            return fh.read(_MAX_DEFINITION_BYTES + 1)[:_MAX_DEFINITION_BYTES]
    except _ZIP_READ_ERRORS as exc:
        raise _damaged(info.filename, exc) from exc


def _damaged(member: str, exc: BaseException) -> InvalidInputError:
    return InvalidInputError(
        f"The archive is not a readable ClusterLab project archive: its member "
        f"{_show(member)} is damaged ({exc}). Export the project again from ClusterLab."
    )


def _check_manifest(raw: bytes) -> None:
    try:
        manifest = json.loads(raw)
        fmt, version = manifest["format"], manifest["format_version"]
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInputError(
            f"The archive's {MANIFEST_NAME} is damaged ({exc}); this is not a ClusterLab "
            "project archive."
        ) from exc
    if fmt != ARCHIVE_FORMAT:
        raise InvalidInputError(
            f"The archive is a {fmt!r} archive, not a ClusterLab project archive."
        )
    if not isinstance(version, int) or version > ARCHIVE_FORMAT_VERSION:
        raise InvalidInputError(
            f"The archive uses format version {version!r}; this ClusterLab reads versions up "
            f"to {ARCHIVE_FORMAT_VERSION}. Upgrade ClusterLab to import it."
        )


def _check_definitions(
    zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], archive: str
) -> ProjectSpec:
    """Validate project.json, dataset definitions and data pointers before extracting."""
    if "project.json" not in infos:
        raise InvalidInputError(
            f"{archive} is not a ClusterLab project archive: it has no project.json at "
            "its top level. Export the project again from ClusterLab."
        )
    spec = _validate(zf, infos["project.json"], ProjectSpec)
    validate_project_key(spec.key)
    for name, info in infos.items():
        path = PurePosixPath(name)
        if len(path.parts) == 2 and path.parts[0] == "datasets" and path.suffix == ".json":
            dataset = _validate(zf, info, DatasetSpec)
            if dataset.name != path.stem:
                raise InvalidInputError(
                    f"The archive {archive} is inconsistent: {name} defines the dataset "
                    f"{dataset.name!r}."
                )
        elif len(path.parts) == 3 and path.parts[0] == "data" and path.name == "CURRENT":
            version = _read_small(zf, info).decode("utf-8", "replace").strip()
            folder = f"{path.parent}/{version}"
            if (
                not version.startswith("v-")
                or "/" in version
                or not any(n == folder or n.startswith(folder + "/") for n in infos)
            ):
                raise InvalidInputError(
                    f"The archive {archive} is incomplete: {name} names the version "
                    f"{version!r}, which the archive does not hold."
                )
    return spec


def _validate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, model: type[M]) -> M:
    try:
        return model.model_validate_json(_read_small(zf, info))
    except ValidationError as exc:
        raise InvalidInputError(
            f"The definition {_show(info.filename)} in the archive is invalid: {exc}"
        ) from exc


def _exists(key: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"A project with key {key} already exists in this workspace. Import under a new "
        "key (--key in the CLI, key= in Python), or delete the existing project first."
    )


def _extract_and_publish(
    zf: zipfile.ZipFile,
    infos: dict[str, zipfile.ZipInfo],
    spec: ProjectSpec,
    layout: WorkspaceLayout,
    target: Path,
    max_bytes: int,
    *,
    rename: bool,
) -> None:
    staging = layout.staging_dir / f"import-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        budget = _Budget(max_bytes)
        for name, info in infos.items():
            if name == MANIFEST_NAME:
                continue
            dest = staging.joinpath(*PurePosixPath(name).parts)
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
            else:
                _extract_member(zf, info, dest, budget)
        if rename:
            with open(staging / "project.json", "w", encoding="utf-8") as fh:
                fh.write(spec.model_dump_json(indent=2) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        layout.projects_dir.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise _exists(spec.key)
        try:
            os.replace(staging, target)
        except OSError as exc:
            # Another import created the project since the check above.
            raise _exists(spec.key) from exc
        fsync_dir(layout.projects_dir)
    except ClusterLabError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise StorageError(
            f"Could not import the project into {layout.home}: {exc}. Check free space "
            "and permissions, then import again; nothing was imported."
        ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _extract_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: _Budget
) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        # "xb" never writes through an existing file or link.
        with zf.open(info) as src, open(dest, "xb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > info.file_size:
                    raise LimitExceededError(
                        f"The archive is refused: its member {_show(info.filename)} holds "
                        f"more than the {info.file_size} bytes its header declares."
                    )
                budget.take(len(chunk), _show(info.filename))
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except _ZIP_READ_ERRORS as exc:
        raise _damaged(info.filename, exc) from exc
