"""The exact file closure of MuJoCo models, resolved the way MuJoCo 4 resolves it.

Rules (checked with strace against the mujoco of the release set's mujoco-core pin, see docs/assets.md):

* ``<include file=F>`` anywhere in the tree: MuJoCo tries ``<model dir>/F`` first, then
  ``<dir of the including file>/F``; the included file's ``<mujoco>`` children take the place of
  the include element.
* ``<compiler meshdir|texturedir|assetdir|strippath>`` are global to the model: the last value of
  each attribute in document order (after include expansion) applies to every asset, including
  assets declared before it and in other files. Directories are relative to the model dir;
  ``meshdir`` (used by mesh, hfield and skin) and ``texturedir`` (texture) fall back to ``assetdir``.
* An asset file ``V`` declared in the root file resolves to ``<model dir>/<dir>/V``; declared in an
  included file, MuJoCo tries that path, then ``<dir of the declaring file>/V``.

A reference that resolves to no file raises AssetError naming the referencing file.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from tools.assets.tree import AssetError, Tree, normalize

#: element -> its attributes that name files, and the compiler directory they are relative to
FILE_ATTRIBUTES: dict[str, tuple[tuple[str, ...], str]] = {
    "mesh": (("file",), "meshdir"),
    "hfield": (("file",), "meshdir"),
    "skin": (("file",), "meshdir"),
    "texture": (("file", "fileright", "fileleft", "fileup", "filedown", "filefront", "fileback"), "texturedir"),
}
COMPILER_ATTRIBUTES = ("meshdir", "texturedir", "assetdir", "strippath")


@dataclass(frozen=True)
class Reference:
    """One asset-file attribute found while expanding a model."""

    tag: str
    attribute: str
    value: str
    declared_in: str


@dataclass
class Closure:
    """Every file a set of root models needs, each with the files that reference it."""

    files: dict[str, set[str]] = field(default_factory=dict)

    def add(self, path: str, referenced_by: str) -> None:
        """Record that ``referenced_by`` needs ``path``."""
        self.files.setdefault(path, set()).add(referenced_by)

    def paths(self) -> list[str]:
        """The sorted file list."""
        return sorted(self.files)


def _first_existing(tree: Tree, candidates: list[str], what: str, referencing: str) -> str:
    seen: list[str] = []
    for cand in candidates:
        try:
            norm = normalize(cand)
        except AssetError as exc:
            raise AssetError(f"{referencing}: {what}: {exc}") from None
        if norm not in seen:
            seen.append(norm)
        if tree.exists(norm):
            return norm
    raise AssetError(f"{referencing}: {what} does not exist (looked for {', '.join(seen)})")


class _ModelWalker:
    """Expands the include tree of one root model and collects its compiler settings and references."""

    def __init__(self, tree: Tree, root: str) -> None:
        self.tree = tree
        self.root = root
        self.model_dir = posixpath.dirname(root)
        self.compiler: dict[str, str] = {}
        self.references: list[Reference] = []
        self.includes: list[tuple[str, str]] = []  # (included file, including file)

    def parse(self, path: str) -> ET.Element:
        try:
            return ET.fromstring(self.tree.read(path))
        except ET.ParseError as exc:
            raise AssetError(f"{path}: not valid XML: {exc}") from None

    def walk_file(self, path: str, stack: tuple[str, ...]) -> None:
        if path in stack:
            raise AssetError(f"{stack[-1]}: include cycle through {path}")
        element = self.parse(path)
        if element.tag != "mujoco":
            raise AssetError(f"{path}: root element is <{element.tag}>, MuJoCo needs <mujoco>")
        self.walk_children(element, path, (*stack, path))

    def walk_children(self, element: ET.Element, path: str, stack: tuple[str, ...]) -> None:
        for child in element:  # ET.fromstring drops comments and processing instructions
            self.visit(child, path, stack)

    def visit(self, element: ET.Element, path: str, stack: tuple[str, ...]) -> None:
        tag = element.tag
        if tag == "include":
            value = element.get("file")
            if value is None:
                raise AssetError(f"{path}: <include> without a file attribute")
            candidates = [posixpath.join(self.model_dir, value), posixpath.join(posixpath.dirname(path), value)]
            included = _first_existing(self.tree, candidates, f'<include file="{value}">', path)
            self.includes.append((included, path))
            self.walk_file(included, stack)
            return
        if tag == "compiler":
            for attr in COMPILER_ATTRIBUTES:
                if attr in element.attrib:
                    self.compiler[attr] = element.attrib[attr]
        known = FILE_ATTRIBUTES.get(tag, ((), ""))[0]
        for attr, value in element.attrib.items():
            if attr in known:
                self.references.append(Reference(tag, attr, value, path))
            elif attr.startswith("file"):
                raise AssetError(
                    f'{path}: <{tag} {attr}="{value}"> is a file reference this tool does not resolve; '
                    "teach tools/assets/prune_mujoco.py about it"
                )
        self.walk_children(element, path, stack)

    def directory(self, kind: str) -> str:
        value = self.compiler.get(kind, self.compiler.get("assetdir", ""))
        if value.startswith("/"):
            raise AssetError(f"{self.root}: absolute compiler {kind}={value!r} cannot be packaged")
        return value

    def resolve(self, closure: Closure) -> None:
        self.walk_file(self.root, ())
        closure.add(self.root, self.root)
        for included, including in self.includes:
            closure.add(included, including)
        strip = self.compiler.get("strippath", "false").lower() == "true"
        for ref in self.references:
            value = posixpath.basename(ref.value.replace("\\", "/")) if strip else ref.value
            directory = self.directory(FILE_ATTRIBUTES[ref.tag][1])
            candidates = [posixpath.join(self.model_dir, directory, value)]
            if ref.declared_in != self.root:
                candidates.append(posixpath.join(posixpath.dirname(ref.declared_in), value))
            what = f'<{ref.tag} {ref.attribute}="{ref.value}">'
            closure.add(_first_existing(self.tree, candidates, what, ref.declared_in), ref.declared_in)


def closure(tree: Tree, roots: list[str]) -> Closure:
    """The files the MuJoCo models ``roots`` (paths in ``tree``) load, each with its referencing files."""
    result = Closure()
    for root in roots:
        norm = normalize(root)
        if not tree.exists(norm):
            raise AssetError(f"root model {root} does not exist in the asset tree")
        _ModelWalker(tree, norm).resolve(result)
    return result
