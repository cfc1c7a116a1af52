"""Reports of real small runs, opened from disk in headless Chromium like a reader would:
no console errors, every expected view there, token colours as the result file says."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lightning_dream.report import report
from lightning_dream.report.common import changeable


def load(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def rendered(run_dir: Path, browser, tmp_path: Path) -> Path:
    page = Path(report(str(run_dir), str(tmp_path / "report.html")))
    errors = browser.open(page)
    assert errors == [], errors
    return page


def differing(tokens: list[str], reference: list[str], job: dict) -> int:
    return sum(changeable(job, i, len(tokens)) and t != r for i, (t, r) in enumerate(zip(tokens, reference)))


def test_dream_page_shows_process_and_annealing(dream_run, browser, tmp_path, screenshot_dir):
    rendered(dream_run, browser, tmp_path)
    job = load(dream_run)["jobs"][0]
    assert browser.count("section[data-view='dream-process']") == 1
    assert browser.count("section[data-view='annealing']") == 1
    # three curves: soft, snapped, temperature
    names = [
        e.get_attribute("data-name")
        for e in browser.driver.find_elements("css selector", "[data-view='dream-process'] polyline.series")
    ]
    assert names == ["soft activation", "snapped activation", "temperature"]
    # the middle of the 16 snapshots is skipped: 5 first + a gap row + 5 last
    assert len(job["snapshots"]) == 16
    assert browser.count("[data-view='dream-process'] tr.token-row[data-step]") == 10
    # the final row marks exactly the tokens that differ from the start
    changed = browser.count("[data-view='dream-process'] tr[data-end='final'] .tok.changed")
    assert changed == differing(job["final_tokens"], job["start_tokens"], job) > 0
    # annealing: one panel per changeable position at each shown step, top-k bars in each
    positions = job["end_change"] - job["start_change"] + 1
    steps = browser.count("[data-view='annealing'] .bar-panels")
    assert steps == 5
    assert browser.count("[data-view='annealing'] .panel") == steps * positions
    top_k = len(job["snapshots"][0]["softmax_top"][0]["tokens"])  # tied tails become one entry each
    assert steps * 2 <= browser.count("[data-view='annealing'] .panel:first-child tr.bar-row") <= steps * top_k
    browser.view_shot("dream-process", screenshot_dir / "report-dream-process.png")
    browser.view_shot("annealing", screenshot_dir / "report-annealing.png")


def test_attention_page_has_head_and_model_views(attention_run, browser, tmp_path, screenshot_dir):
    rendered(attention_run, browser, tmp_path)
    job = load(attention_run)["jobs"][0]
    assert browser.count("[data-view='attention'] svg.thumb") == job["layers"] * job["heads"] == 6 * 12
    assert browser.texts("[data-view='attention'] .head-view text.query") == job["tokens"]
    assert browser.count(".head-view line.attn") > 0
    # clicking head 3 of layer 2 in the model view shows only that head, at that layer
    browser.driver.find_element("css selector", "svg.thumb[data-layer='2'][data-head='3']").click()
    heads = {e.get_attribute("data-head") for e in browser.driver.find_elements("css selector", ".head-view line.attn")}
    assert heads == {"3"}
    assert browser.driver.find_element("css selector", ".att-controls select").get_attribute("value") == "1"
    # every drawn line is one weight of layer 2 head 3 of at least 0.01
    strong = sum(w >= 0.01 for row in job["attentions"][1][3] for w in row)
    assert browser.count(".head-view line.attn") == strong
    browser.view_shot("attention", screenshot_dir / "report-attention.png")


def test_factorisation_page_highlights_each_component(factorize_run, browser, tmp_path, screenshot_dir):
    rendered(factorize_run, browser, tmp_path)
    job = load(factorize_run)["jobs"][0]
    assert browser.count("[data-view='factorization'] tr.token-row[data-component]") == job["n_components"] == 4
    for component in range(1, 5):
        row = f"[data-view='factorization'] tr[data-component='{component}'] .tok"
        assert browser.texts(row) == job["tokens"]
        # opacity = the component's weight on the token / its largest weight
        styles = [e.get_attribute("style").replace(" ", "") for e in browser.driver.find_elements("css selector", row)]
        weights = [w[component - 1] for w in job["token_weights"]]
        assert "rgba" not in styles[weights.index(max(weights))]
        assert [s.endswith(",0);") for s in styles] == [round(255 * w / max(weights)) == 0 for w in weights]
        assert styles[0].endswith(",0);") and styles[-1].endswith(",0);")  # [CLS] and [SEP] are left out
    browser.view_shot("factorization", screenshot_dir / "report-factorization.png")


def test_folder_of_runs_gets_an_index_and_names_an_unfinished_run(
    dream_run, attention_run, factorize_run, browser, tmp_path, screenshot_dir
):
    import shutil

    folder = tmp_path / "runs"
    for run in (dream_run, attention_run, factorize_run):
        shutil.copytree(run, folder / run.name)
    broken = folder / "broken" / "version_0"
    (broken / "checkpoints").mkdir(parents=True)
    (broken / "checkpoints" / "last.ckpt").write_bytes(b"")
    rendered(folder, browser, tmp_path)
    assert browser.count("tr.index-row[data-ok='1']") == 3
    assert browser.count("tr.index-row[data-ok='0']") == 1
    assert "has no results.json: the run did not finish" in browser.texts("tr.index-row[data-ok='0']")[0]
    for view in ("dream-process", "annealing", "attention", "factorization"):
        assert browser.count(f"section[data-view='{view}']") >= 1, view
    browser.screenshot(screenshot_dir / "report-index.png", full=False)


@pytest.fixture(scope="session")
def reconstruct_run(tmp_path_factory) -> Path:
    from lightning_dream.experiments.soft_input.reconstruct import Reconstruct
    from tests.report.conftest import run

    # CI: a short run (colours are checked against whatever it recovered); pictures for the docs
    # (REPORT_SCREENSHOTS set) come from a run long enough to recover the early layers
    long = bool(os.environ.get("REPORT_SCREENSHOTS"))
    layers, steps = ([1, 3, 6], 300) if long else ([1, 6], 60)
    module = Reconstruct(sentences=["the cat sat on the mat ."], layers=layers, num_iterations=steps, snapshot_every=10)
    return run(tmp_path_factory.mktemp("reconstruct"), module)


def test_reconstruction_rows_colour_what_each_layer_recovered(reconstruct_run, browser, tmp_path, screenshot_dir):
    rendered(reconstruct_run, browser, tmp_path)
    jobs = load(reconstruct_run)["jobs"]
    assert browser.count("[data-view='reconstruction'] tr[data-row='original']") == 1
    for job in jobs:
        row = f"[data-view='reconstruction'] tr[data-layer='{job['layer_id']}']"
        lost = differing(job["final_tokens"], job["original_tokens"], job)
        positions = job["end_change"] - job["start_change"] + 1
        assert browser.count(f"{row} .tok.lost") == lost
        assert browser.count(f"{row} .tok.recovered") == positions - lost == round(job["token_recovery"] * positions)
    browser.view_shot("reconstruction", screenshot_dir / "report-reconstruction.png")
    browser.view_shot("depth", screenshot_dir / "report-reconstruction-depth.png")


def test_substitution_depth_and_dynamics_pages(tmp_path, browser, screenshot_dir):
    from lightning_dream.data.sentence_tasks import SentenceTaskData
    from lightning_dream.experiments import DepthProbe, Lyapunov, SimilarEmbeddings, TokenSearch
    from tests.helpers import quick_trainer
    from tests.report.conftest import run

    folder = tmp_path / "runs"
    run(folder / "token_search", TokenSearch(layer_id=1, top_k=8, batch_size=4096), predict=True)
    run(folder / "similar", SimilarEmbeddings(layer_id=1, top_k=6), predict=True)
    run(
        folder / "lyapunov",
        Lyapunov(
            sentences=["the cat sat on the mat .", "i hate kickshaws ."], num_steps=8, chunk_size=8, num_directions=2
        ),
        predict=True,
    )
    data = SentenceTaskData(max_train=24, max_validation=16, batch_size=8)
    quick_trainer(folder / "depth_probe").fit(DepthProbe(depths=[1, 3]), datamodule=data)
    rendered(folder, browser, tmp_path)
    assert browser.count("tr.index-row[data-ok='0']") == 0
    probe = load(folder / "depth_probe")
    metrics = sorted(k for k in probe["rows"][0] if k.startswith("val/"))
    assert [
        e.get_attribute("data-name")
        for e in browser.driver.find_elements("css selector", "[data-view='depth'] polyline.series")
    ] == [probe["task"]] * len(metrics)
    assert browser.count("[data-view='depth'] svg.plot circle") == 2 * len(metrics)
    search = load(folder / "token_search")["jobs"][0]
    assert browser.texts("[data-view='token-search'] tr.token-row .tok.target") == [
        "hate"
    ]  # the replaced word, in blue
    assert browser.texts("[data-view='token-search'] tr.bar-row .tok") == [t["token"] for t in search["top"]]
    similar = load(folder / "similar")["jobs"][0]
    for panel, metric in zip(
        browser.driver.find_elements("css selector", "[data-view='similar-embeddings'] .panel"), ("euclidean", "cosine")
    ):
        names = [e.text for e in panel.find_elements("css selector", "tr.bar-row .tok")]
        assert names == ["hate"] + [n["token"] for n in similar[metric]]
        assert [e.text for e in panel.find_elements("css selector", ".tok.target")] == ["hate"]
    curves = [
        e.get_attribute("data-name")
        for e in browser.driver.find_elements("css selector", "[data-view='lyapunov'] polyline.series")
    ]
    assert curves == ["mean over inputs", "running mean", "input 0", "input 1"]
    assert browser.count("[data-view='dynamics'] svg.plot") == 3
    for view in ("token-search", "similar-embeddings", "lyapunov", "dynamics", "depth"):
        browser.view_shot(view, screenshot_dir / f"report-{view}.png")


def test_changed_activation_rows_colour_toward_other_and_unchanged(tmp_path, browser, screenshot_dir):
    from lightning_dream.commands.export_activation import export_activation
    from lightning_dream.experiments.soft_input.reconstruct import ReconstructChanged
    from tests.report.conftest import run

    he = export_activation("he was playing baseball with her friends", 1, str(tmp_path / "he.json"))
    module = ReconstructChanged(
        change_activation_file=he,
        change_position=1,
        sentences="she was playing baseball with her friends",
        layers=[1, 4],
        num_iterations=300 if os.environ.get("REPORT_SCREENSHOTS") else 60,
        snapshot_every=10,  # long for the docs' picture
    )
    folder = run(tmp_path / "changed", module)
    rendered(folder, browser, tmp_path)
    assert browser.count("[data-view='shifted'] tr[data-row='target'] .tok.shifted") == 2  # position 1, at each layer
    assert browser.count("[data-view='shifted'] .tok.other") > 0  # from random tokens, some words stay changed
    for job in load(folder)["jobs"]:
        row = f"[data-view='shifted'] tr[data-layer='{job['layer_id']}'][data-job='{job['job']}']"
        pairs = [
            (o, b)
            for i, (o, b) in enumerate(zip(job["original_tokens"], job["final_tokens"]))
            if changeable(job, i, len(job["final_tokens"]))
        ]
        toward = sum(o != b and b == "he" for o, b in pairs)
        assert browser.count(f"{row} .tok.toward") == toward
        assert browser.count(f"{row} .tok.other") == sum(o != b for o, b in pairs) - toward
        assert browser.count(f"{row} .tok.unchanged") == sum(o == b for o, b in pairs)
    browser.view_shot("shifted", screenshot_dir / "report-changed.png")


def bar_names(browser, view: str) -> list[str]:
    return [
        e.text for e in browser.driver.find_elements("css selector", f"[data-view='{view}'] tr.bar-row td:first-child")
    ]


def test_fill_mask_page_shows_top_tokens_per_masked_position(fill_mask_run, browser, tmp_path):
    rendered(fill_mask_run, browser, tmp_path)
    rows = load(fill_mask_run)["rows"]
    assert browser.count("section[data-view='fill-mask']") == len(rows) == 2
    assert browser.count("[data-view='fill-mask'] .panel") == sum(len(r["masks"]) for r in rows) == 3
    assert browser.count("[data-view='fill-mask'] tr.token-row .tok.target") == 3  # the masked positions
    assert bar_names(browser, "fill-mask")[0] == rows[0]["masks"][0]["top"][0]["token"]


def test_knowledge_probe_page_shows_precision_per_relation_and_the_facts(knowledge_probe_run, browser, tmp_path):
    rendered(knowledge_probe_run, browser, tmp_path)
    result = load(knowledge_probe_run)
    assert browser.count("section[data-view='knowledge-probe']") == 1
    assert browser.count("[data-view='knowledge-probe'] .panel") == 2  # P@1, P@5
    assert browser.count("[data-view='knowledge-probe'] .panel:first-child tr.bar-row") == len(result["relations"]) + 1
    assert browser.count("[data-view='knowledge-probe'] tr.token-row") == 3
    hits = sum(fact["rank"] <= 5 for fact in result["rows"])
    assert browser.count("[data-view='knowledge-probe'] tr.token-row .tok.recovered") == hits


def test_mlm_sampling_page_lists_every_sample(mlm_sampling_run, browser, tmp_path):
    rendered(mlm_sampling_run, browser, tmp_path)
    rows = load(mlm_sampling_run)["rows"]
    assert browser.count("section[data-view='mlm-sampling']") == 1
    assert browser.count("[data-view='mlm-sampling'] tr.token-row") == len(rows) == 3


def test_corpus_search_page_shows_the_top_sentences(corpus_search_run, browser, tmp_path):
    rendered(corpus_search_run, browser, tmp_path)
    job = load(corpus_search_run)["jobs"][0]
    assert browser.count("section[data-view='corpus-search']") == 1
    assert browser.count("[data-view='corpus-search'] tr.token-row") == len(job["top"]) == 4
    assert browser.count("[data-view='corpus-search'] tr.bar-row") == 4


def test_cav_page_shows_heldout_accuracy_per_layer(cav_run, browser, tmp_path):
    rendered(cav_run, browser, tmp_path)
    assert browser.count("section[data-view='cav']") == 1
    assert bar_names(browser, "cav") == ["layer 1", "layer 2"]


def test_annealing_view_shows_tied_weights_as_ties(dream_run, browser, tmp_path):
    """At T=1 after a peaked start every other token has the same weight, and once annealed every other
    token's weight rounds to 0: one entry each time, never arbitrary tokens such as [PAD]."""
    rendered(dream_run, browser, tmp_path)
    names = bar_names(browser, "annealing")
    assert any("tied tokens" in name for name in names) and any("every other token" in name for name in names)
    assert not any(name in ("[PAD]", "[unused0]") for name in names)
