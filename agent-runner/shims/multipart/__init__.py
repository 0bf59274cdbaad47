"""The legacy module name of python-multipart: `import multipart` re-exports `python_multipart`.

PyPI's python-multipart 0.0.20 ships this name beside `python_multipart`; Debian's
python3-python-multipart ships only the new one, and third-party code (the httpx / starlette chain that
broke the frozen binary) still imports the old. Installed by docker/Dockerfile into the local
site-packages. Like PyPI's shim it never shadows a real `multipart.py` (the unrelated `multipart`
package): when one is on sys.path, that module is loaded under the name instead.
"""
import importlib.util
import os
import sys
import warnings


def _real_module() -> "str | None":
    for entry in sys.path:
        candidate = os.path.join(entry or os.getcwd(), "multipart.py")
        try:
            if os.path.isfile(candidate):
                return candidate
        except (OSError, ValueError):
            continue
    return None


_path = _real_module()
if _path is not None:
    _spec = importlib.util.spec_from_file_location("multipart", _path)
    assert _spec is not None and _spec.loader is not None, f"{_path} found but not loadable"
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["multipart"] = _module
    _spec.loader.exec_module(_module)
else:
    warnings.warn("Please use `import python_multipart` instead.", PendingDeprecationWarning, stacklevel=2)
    from python_multipart import *  # noqa: F401,F403
    from python_multipart import __all__, __author__, __copyright__, __license__, __version__  # noqa: F401
    from python_multipart import decoders, exceptions, multipart  # noqa: F401

    # `import multipart.multipart` (and .decoders, .exceptions) gets python_multipart's very modules,
    # so classes and exceptions are the same objects under both names.
    for _name in ("decoders", "exceptions", "multipart"):
        sys.modules[f"{__name__}.{_name}"] = sys.modules[f"python_multipart.{_name}"]
    STIGMER_SHIM = True
