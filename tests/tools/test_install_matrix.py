"""The install matrix's own judgements: which of our distributions each extra must bring."""

from __future__ import annotations

from tools.release.install_matrix import Outcome, check_ours, expected_ours


def test_expected_distributions_per_extra() -> None:
    assert expected_ours(None, "1.0") == {"envpool": "1.0"}
    assert expected_ours("vizdoom", "1.0") == {"envpool": "1.0", "envpool-assets-vizdoom": "1.0"}
    assert set(expected_ours("all", "1.0")) == {
        "envpool",
        "envpool-assets-vizdoom",
        "envpool-assets-robotics",
        "envpool-procgen-libs",
    }


def test_an_unexpected_or_skewed_sibling_is_a_problem() -> None:
    ok = Outcome("uv", "envpool[vizdoom]==1.0")
    check_ours({"envpool": "1.0", "envpool-assets-vizdoom": "1.0", "numpy": "2.0"}, "vizdoom", "1.0", ok)
    assert ok.problems == []
    extra = Outcome("uv", "envpool==1.0")
    check_ours({"envpool": "1.0", "envpool-procgen-libs": "1.0"}, None, "1.0", extra)
    assert "expected exactly" in extra.problems[0]
    skew = Outcome("pip", "envpool[vizdoom]==1.0")
    check_ours({"envpool": "1.0", "envpool-assets-vizdoom": "0.9"}, "vizdoom", "1.0", skew)
    assert len(skew.problems) == 1
    assert "'envpool-assets-vizdoom': '0.9'" in skew.problems[0]  # names the skewed sibling and its version
    assert "expected exactly {'envpool': '1.0', 'envpool-assets-vizdoom': '1.0'}" in skew.problems[0]
    missing = Outcome("pip", "envpool[vizdoom]==1.0")
    check_ours({"envpool": "1.0"}, "vizdoom", "1.0", missing)
    assert len(missing.problems) == 1 and "'envpool-assets-vizdoom': '1.0'" in missing.problems[0]
