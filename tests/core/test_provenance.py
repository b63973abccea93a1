import json
import os

import pandas as pd
import pytest

from tipcausal.core import io, provenance


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")

    def boom(tmp):
        tmp.write_text("partial")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        io.write_atomic_with(target, boom)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_json_atomic_roundtrip_and_permissions(tmp_path):
    target = tmp_path / "a" / "s.json"
    io.write_json_atomic(target, {"x": 1.5, "y": [1, 2]})
    assert json.loads(target.read_text()) == {"x": 1.5, "y": [1, 2]}
    umask = os.umask(0)
    os.umask(umask)
    assert (target.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_json_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        io.write_json_atomic(tmp_path / "n.json", {"x": float("nan")})
    assert not list(tmp_path.iterdir())


def test_frame_hash_ignores_row_order_but_not_content():
    a = pd.DataFrame({"country": ["A", "B"], "year": [2000, 2000], "v": [1.0, 2.0]})
    b = a.iloc[::-1].reset_index(drop=True)
    c = a.assign(v=[1.0, 2.5])
    assert provenance.hash_frame(a) == provenance.hash_frame(b)
    assert provenance.hash_frame(a) != provenance.hash_frame(c)


def test_versions_record_core_libraries():
    v = provenance.library_versions()
    for name in ("python", "pymc", "arviz", "dowhy", "jax", "numpyro", "tipcausal"):
        assert v[name] and v[name] != "not installed"
