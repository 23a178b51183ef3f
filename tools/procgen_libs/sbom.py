"""A CycloneDX 1.5 SBOM (PEP 770: ``.dist-info/sboms/``) listing every grafted library."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tools.procgen_libs.upstream import Upstream


def cyclonedx(distribution: str, version: str, libraries: Sequence[tuple[str, str, str, Upstream]]) -> str:
    """The SBOM JSON text; ``libraries`` holds (soname, path in wheel, sha256, origin) per grafted file."""
    components: list[dict[str, Any]] = []
    for soname, wheel_path, sha256, o in libraries:
        components.append(
            {
                "type": "library",
                "bom-ref": f"{o.name}@{o.version}#{soname}",
                "name": o.name,
                "version": o.version,
                "purl": o.purl,
                "hashes": [{"alg": "SHA-256", "content": sha256}],
                "properties": [
                    {"name": "envpool:soname", "value": soname},
                    {"name": "envpool:file", "value": wheel_path},
                ],
            }
        )
    # Deterministic serial number: the same inputs give the same SBOM (reproducible wheels).
    digest = "".join(sha for _, _, sha, _ in libraries)
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"{distribution}=={version}:{digest}")
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "component": {
                "type": "library",
                "bom-ref": f"{distribution}@{version}",
                "name": distribution,
                "version": version,
                "purl": f"pkg:pypi/{distribution}@{version}",
            }
        },
        "components": components,
        "dependencies": [{"ref": f"{distribution}@{version}", "dependsOn": [c["bom-ref"] for c in components]}],
    }
    return json.dumps(bom, indent=2, sort_keys=True) + "\n"
