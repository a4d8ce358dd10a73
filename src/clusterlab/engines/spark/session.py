"""The process's SparkSession, built lazily from `SparkSettings`.

pyspark is imported here, inside functions, so importing `clusterlab.engines.spark`
costs nothing on an installation without the ``[spark]`` extra, and a missing pyspark
or Java becomes a `SparkUnavailableError` that says how to install them.

Spark allows one active session per process (its JVM holds the state), so the first
settings used win until `stop_session`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clusterlab.core.errors import UnsupportedError
from clusterlab.engines.spark.settings import SparkSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MIN_JAVA = 17
_lock = threading.Lock()
_session: SparkSession | None = None

# Spark logs INFO and WARN lines to the console by default; a build log only needs errors.
_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


class SparkUnavailableError(UnsupportedError):
    """pyspark or a Java runtime is missing, so the Spark engine cannot start."""


def require_pyspark() -> None:
    """Raise `SparkUnavailableError` unless pyspark can be imported."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailableError(
            "The Spark engine needs pyspark, which is not installed in this environment: "
            "install it with  pip install 'clusterlab[spark]'  (or choose the local engine)."
        ) from None


def java_version(java: str) -> int | None:
    """The major version ``java -version`` reports, or None if it cannot be run."""
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not match:
        return None
    major = int(match.group(1))
    # Java 8 and older report "1.8.0_x".
    return int(match.group(2) or 0) if major == 1 else major


def require_java() -> None:
    """Raise `SparkUnavailableError` unless a Java >= 17 runtime is available."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    where = f"JAVA_HOME={home}" if home else "PATH"
    if not java or not Path(java).exists():
        raise SparkUnavailableError(
            f"The Spark engine needs a Java {MIN_JAVA}+ runtime and none was found on {where}: "
            "run scripts/ensure-java.sh (installs openjdk-17-jre-headless) or set JAVA_HOME."
        )
    version = java_version(java)
    if version is None or version < MIN_JAVA:
        found = "an unreadable version" if version is None else f"Java {version}"
        raise SparkUnavailableError(
            f"The Spark engine needs Java {MIN_JAVA}+ but {java} is {found}: install "
            "openjdk-17-jre-headless (scripts/ensure-java.sh) and point JAVA_HOME to it."
        )


def _quiet_logging(conf: dict[str, str]) -> None:
    """Point the driver JVM at an errors-only log4j2 file unless the user chose one."""
    options = conf.get("spark.driver.extraJavaOptions", "")
    if "log4j2.configurationFile" in options:
        return
    folder = Path(tempfile.gettempdir()) / f"clusterlab-spark-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    config = folder / "log4j2.properties"
    if not config.is_file() or config.read_text(encoding="utf-8") != _LOG4J2:
        # Test workers start sessions side by side: a JVM must never read half a file.
        partial = folder / f".log4j2-{os.getpid()}.tmp"
        partial.write_text(_LOG4J2, encoding="utf-8")
        os.replace(partial, config)
    conf["spark.driver.extraJavaOptions"] = (
        f"{options} -Dlog4j2.configurationFile=file:{config}".strip()
    )


def get_session(settings: SparkSettings) -> SparkSession:
    """The process's SparkSession, started on first use with ``settings``.

    Examples
    --------
    >>> session = get_session(SparkSettings(master="local[1]"))  # doctest: +SKIP
    >>> session.range(3).count()  # doctest: +SKIP
    3
    """
    global _session
    with _lock:
        if _session is not None:
            return _session
        require_pyspark()
        from pyspark.sql import SparkSession

        conf = settings.spark_conf()
        builder: Any = SparkSession.builder.appName(settings.app_name)
        if settings.is_connect:
            builder = builder.remote(settings.master)
        else:
            require_java()
            builder = builder.master(settings.master)
            _quiet_logging(conf)
        if settings.is_local:
            # Local Python workers must be this interpreter: `python3` on PATH may lack
            # pyarrow and our own package, which the row-wise UDFs need.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            conf.setdefault("spark.pyspark.python", sys.executable)
        for key, value in conf.items():
            builder = builder.config(key, value)
        session: SparkSession = builder.getOrCreate()
        if not settings.is_connect:
            session.sparkContext.setLogLevel("ERROR")
        _session = session
        return session


def stop_session() -> None:
    """Stop the process's session (the next `get_session` starts a new one)."""
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
        _session = None
