#!/usr/bin/env bash
# Make sure a Java runtime Spark can use (17 or newer) is installed.
#
# PySpark starts a JVM for the Spark engine and its tests (local[2] mode); pip cannot
# install one. A no-op when `java -version` (or $JAVA_HOME/bin/java) reports 17 or
# newer; otherwise installs Debian's `openjdk-17-jre-headless`, with sudo when not
# running as root. Safe to run any number of times.
set -euo pipefail

MIN_JAVA=17

java_major() {
    # "17.0.15" -> 17; Java 8 and older report "1.8.0_x" -> 8.
    local version
    version=$("$1" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
    case "$version" in
        1.*) echo "$version" | cut -d. -f2 ;;
        "") echo 0 ;;
        *) echo "$version" | cut -d. -f1 | cut -d- -f1 ;;
    esac
}

candidates=()
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    candidates+=("$JAVA_HOME/bin/java")
fi
if command -v java >/dev/null 2>&1; then
    candidates+=("$(command -v java)")
fi
for java in "${candidates[@]}"; do
    major=$(java_major "$java")
    if [ "$major" -ge "$MIN_JAVA" ] 2>/dev/null; then
        echo "ensure-java: using $java (Java $major)"
        exit 0
    fi
    echo "ensure-java: $java is Java $major; Spark needs $MIN_JAVA or newer" >&2
done

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-java: no Java $MIN_JAVA+ found and no apt-get to install one;" \
         "install a Java $MIN_JAVA runtime (e.g. Temurin 17) and set JAVA_HOME." >&2
    exit 1
fi

run_as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "ensure-java: installing Java needs root, and sudo is not available;" \
             "run 'apt-get install -y openjdk-17-jre-headless' as root." >&2
        exit 1
    fi
    run_as_root=(sudo)
fi

echo "ensure-java: installing Debian's openjdk-17-jre-headless package"
# The package lists may be missing or stale on a fresh machine: refresh them first.
"${run_as_root[@]}" apt-get update -qq
"${run_as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless
# An older default java may still come first on PATH: report the one just installed.
installed=$(ls -d /usr/lib/jvm/java-17-openjdk-*/bin/java 2>/dev/null | head -n 1)
echo "ensure-java: installed ${installed:-openjdk-17}; set JAVA_HOME=$(dirname "$(dirname "${installed:-/usr/lib/jvm/java-17/bin/java}")") if java -version still reports an older one"
