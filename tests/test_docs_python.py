"""The Python examples of docs/python.md run as written, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "python.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_docs_python_examples_run(tmp_path, monkeypatch):
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)  # the examples write under runs/
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert (tmp_path / "runs" / "python").is_dir()
    page = namespace["page"]
    if hasattr(page, "data"):  # IPython installed: the report framed for the notebook
        assert page.data.startswith("<iframe srcdoc=")
    else:  # without IPython (it is no dependency): the page's HTML itself
        assert page.startswith("<!DOCTYPE html>") and "<title>lightning_dream report" in page
    assert namespace["results"].rows[0].final_sentence


def test_import_is_cheap():
    import subprocess
    import sys

    code = "import sys, lightning_dream; lightning_dream.Results; print('pytorch_lightning' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
