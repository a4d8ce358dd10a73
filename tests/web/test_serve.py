"""`clusterlab serve` refuses to listen beyond this machine while there is no auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterlab.cli.main import main
from clusterlab.cli.serve import is_loopback


def test_serve_refuses_a_non_loopback_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--home", str(tmp_path / "home"), "serve", "--host", "0.0.0.0", "--no-browser"])
    assert code == 2
    err = capsys.readouterr().err
    assert "Refusing to listen on 0.0.0.0" in err
    assert "no authentication yet" in " ".join(err.split())
    assert "Traceback" not in err


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("127.0.0.2")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.10")
    assert not is_loopback("example.com")
