"""The package-index client of the tools: the core's own ``envpool/package_index.py``, loaded from the source tree.

There is one index client (which index wins, certificates, listing, checked downloads) and it ships
in the core wheel, where ``envpool assets fetch`` needs it. The tools load that file by path under a
private module name rather than importing ``envpool``: the build must fetch before any envpool is
built, and an installed envpool (of any version) must not stand in for the source. The file is
standard-library only, so loading it needs nothing else. Use it as ``from tools.common.index import client``.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import TYPE_CHECKING

from tools import REPO

SOURCE = REPO / "packages" / "core" / "src" / "envpool" / "package_index.py"
MODULE = "_envpool_index_from_source"


def _load() -> object:
    if MODULE in sys.modules:
        return sys.modules[MODULE]
    spec = importlib.util.spec_from_file_location(MODULE, SOURCE)
    if not SOURCE.is_file() or spec is None or spec.loader is None:
        raise ImportError(
            f"cannot load the index client from {SOURCE}: the tools need the core's envpool/package_index.py "
            "at that path (a checkout, or an sdist that packs it beside the tools it carries)"
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from envpool import package_index as client
else:
    client = _load()

__all__ = ["SOURCE", "client"]
