"""The image answers both `import python_multipart` and the legacy `import multipart` (docker/Dockerfile's shim)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_python(code: str, pythonpath: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.filterwarnings("ignore:Please use `import python_multipart`:PendingDeprecationWarning")
def test_both_names_import_and_are_one_module():
    import multipart
    import multipart.decoders
    import multipart.exceptions
    import multipart.multipart
    import python_multipart
    import python_multipart.exceptions
    from multipart.multipart import parse_options_header

    assert multipart.STIGMER_SHIM
    assert multipart.__version__ == python_multipart.__version__
    assert multipart.MultipartParser is python_multipart.MultipartParser
    assert multipart.multipart is python_multipart.multipart
    assert multipart.exceptions.MultipartParseError is python_multipart.exceptions.MultipartParseError
    assert parse_options_header(b"form-data; name=a") == (b"form-data", {b"name": b"a"})
    assert set(multipart.__all__) == set(python_multipart.__all__)


def test_the_shim_shadows_no_real_multipart_module(tmp_path):
    (tmp_path / "multipart.py").write_text("NAME = 'the unrelated multipart package'\n")
    result = run_python("import multipart; print(multipart.NAME); print(hasattr(multipart, 'STIGMER_SHIM'))",
                        str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["the unrelated multipart package", "False"]


def test_python_multipart_is_not_shadowed_by_the_shim():
    result = run_python("import python_multipart, multipart; print(python_multipart.__file__); print(multipart.__file__)")
    assert result.returncode == 0, result.stderr
    real, shim = result.stdout.split("\n")[:2]
    assert os.path.dirname(real).endswith("python_multipart") and os.path.dirname(shim).endswith("multipart")
    assert os.path.dirname(os.path.dirname(real)) != os.path.dirname(os.path.dirname(shim))


def test_selfcheck_covers_both_names():
    result = subprocess.run([sys.executable, "-m", "stigmer_agent_runner.selfcheck"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "multipart and python_multipart are one" in result.stdout
