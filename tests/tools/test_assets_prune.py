"""The MuJoCo closure of crafted model trees: exact, MuJoCo's resolution rules, failures named."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tools.assets.prune_mujoco import closure
from tools.assets.tree import AssetError, DirTree

if TYPE_CHECKING:
    from pathlib import Path


def write(root: Path, files: dict[str, str]) -> DirTree:
    """Create ``files`` (path -> text) below ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return DirTree(root)


MODELS = {
    # root model: compiler dirs relative to its own directory (models/)
    "models/robot.xml": """<mujoco>
        <compiler meshdir="../meshes" texturedir="../tex"/>
        <include file="parts/arm.xml"/>
        <asset>
          <texture name="sky" type="skybox" fileright="r.png" fileleft="l.png" fileup="u.png"
                   filedown="d.png" filefront="f.png" fileback="b.png"/>
          <texture name="grid" type="2d" builtin="checker" width="8" height="8"/>
          <hfield name="terrain" file="terrain.png" size="1 1 1 1"/>
          <skin file="body.skn"/>
        </asset>
      </mujoco>""",
    # included from models/: the include resolves relative to the including file's directory
    "models/parts/arm.xml": """<mujoco>
        <include file="hand/hand.xml"/>
        <asset><mesh name="arm" file="arm.stl"/></asset>
      </mujoco>""",
    # declared in an included file, present only next to it (MuJoCo's fallback)
    "models/parts/hand/hand.xml": """<mujoco><asset><mesh name="hand" file="hand_local.stl"/></asset></mujoco>""",
    "models/parts/hand/hand_local.stl": "solid hand",
    "meshes/arm.stl": "solid arm",
    "meshes/terrain.png": "png",
    "meshes/body.skn": "skin",
    **{f"tex/{side}.png": "png" for side in "rludfb"},
    # dead weight the closure must leave out
    "meshes/unused.stl": "solid unused",
    "tex/unused.png": "png",
    "models/parts/unused.xml": "<mujoco/>",
    "models/other_robot.xml": "<mujoco/>",
}


def test_closure_is_exact(tmp_path: Path) -> None:
    tree = write(tmp_path, MODELS)
    got = closure(tree, ["models/robot.xml"])
    assert got.paths() == sorted(
        [
            "models/robot.xml",
            "models/parts/arm.xml",
            "models/parts/hand/hand.xml",
            "models/parts/hand/hand_local.stl",
            "meshes/arm.stl",
            "meshes/terrain.png",
            "meshes/body.skn",
            *(f"tex/{side}.png" for side in "rludfb"),
        ]
    )
    assert got.files["meshes/arm.stl"] == {"models/parts/arm.xml"}
    assert got.files["models/parts/hand/hand.xml"] == {"models/parts/arm.xml"}


def test_compiler_in_included_file_is_global_and_relative_to_the_model(tmp_path: Path) -> None:
    # MuJoCo: the last compiler setting wins for the whole model, including assets declared before
    # it, and is relative to the root model's directory, not the included file's.
    tree = write(
        tmp_path,
        {
            "m/main.xml": '<mujoco><asset><mesh name="a" file="a.stl"/></asset><include file="sub/c.xml"/></mujoco>',
            "m/sub/c.xml": '<mujoco><compiler assetdir="assets"/></mujoco>',
            "m/assets/a.stl": "solid",
            "m/sub/assets/a.stl": "solid (wrong place)",
            "m/a.stl": "solid (wrong place)",
        },
    )
    assert closure(tree, ["m/main.xml"]).paths() == ["m/assets/a.stl", "m/main.xml", "m/sub/c.xml"]


def test_meshdir_beats_assetdir_and_texturedir_falls_back(tmp_path: Path) -> None:
    tree = write(
        tmp_path,
        {
            "main.xml": """<mujoco><compiler assetdir="all" meshdir="meshes"/>
                <asset><mesh name="a" file="a.stl"/><texture name="t" type="2d" file="t.png"/></asset></mujoco>""",
            "meshes/a.stl": "solid",
            "all/a.stl": "solid (wrong)",
            "all/t.png": "png",
        },
    )
    assert closure(tree, ["main.xml"]).paths() == ["all/t.png", "main.xml", "meshes/a.stl"]


def test_missing_reference_names_the_referencing_file(tmp_path: Path) -> None:
    files = dict(MODELS)
    del files["models/parts/hand/hand_local.stl"]
    tree = write(tmp_path, files)
    with pytest.raises(
        AssetError, match=r"models/parts/hand/hand\.xml: <mesh file=\"hand_local\.stl\"> does not exist"
    ):
        closure(tree, ["models/robot.xml"])


def test_missing_include_names_the_including_file(tmp_path: Path) -> None:
    tree = write(tmp_path, {"a/main.xml": '<mujoco><include file="nowhere.xml"/></mujoco>'})
    with pytest.raises(AssetError, match=r"a/main\.xml: <include file=\"nowhere\.xml\"> does not exist"):
        closure(tree, ["a/main.xml"])


def test_reference_leaving_the_tree_fails(tmp_path: Path) -> None:
    tree = write(tmp_path, {"main.xml": '<mujoco><asset><mesh name="a" file="../../etc/a.stl"/></asset></mujoco>'})
    with pytest.raises(AssetError, match=r"main\.xml: .*leaves the asset root"):
        closure(tree, ["main.xml"])


def test_unknown_file_attribute_fails_instead_of_being_pruned(tmp_path: Path) -> None:
    tree = write(tmp_path, {"main.xml": '<mujoco><asset><model name="m" file="other.xml"/></asset></mujoco>'})
    with pytest.raises(AssetError, match=r"main\.xml: <model file=\"other\.xml\"> is a file reference"):
        closure(tree, ["main.xml"])


def test_include_cycle_fails(tmp_path: Path) -> None:
    tree = write(
        tmp_path,
        {"a.xml": '<mujoco><include file="b.xml"/></mujoco>', "b.xml": '<mujoco><include file="a.xml"/></mujoco>'},
    )
    with pytest.raises(AssetError, match="include cycle"):
        closure(tree, ["a.xml"])
