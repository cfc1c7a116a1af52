"""Token search speed: the full 30,522-token sweep three ways, measured in one run.

(a) sequential: the seed's way, one full-model forward per candidate (a sample of candidates
    is timed and scaled to the vocabulary; the sample size is printed);
(b) this project: ``TokenSearch`` through ``Trainer.predict`` -- batched, only to the target
    layer, the last block for the target position alone, the first block's shared rows once;
bare: the same position readout on the same batches in a plain loop (no Lightning, no results),
    so ``overhead_vs_bare`` is what the experiment machinery costs;
plain: transformers' own forward, batched and truncated at the layer (for orientation: what
    batching and truncation alone give).

Run: ``HF_HUB_OFFLINE=1 python benchmarks/token_search.py`` (minilm-l6, layer 2, float32).
Timings on a shared machine are noisy; (b) and bare take the best of ``--repeats`` runs.
Under heavy load from other processes, one-candidate forwards on 2 threads suffer most (thread
hand-offs wait for the scheduler); ``--threads 1`` gives a steadier comparison.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import pytorch_lightning as pl
import torch

from lightning_dream.experiments import TokenSearch
from lightning_dream.models.loading import load_encoder, load_tokenizer
from lightning_dream.models.position_readout import substituted_at_position
from lightning_dream.models.readout import EncoderReadout

SENTENCE = "the cat sat quietly on the warm mat"  # 10 tokens with [CLS] and [SEP]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=int, default=2)
    parser.add_argument("--change-word", type=int, default=3)
    parser.add_argument("--neuron", type=int, default=314)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--sample", type=int, default=500, help="candidates timed one by one for (a)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    tokenizer, model = load_tokenizer("minilm-l6"), load_encoder("minilm-l6")
    ids = torch.tensor(tokenizer(SENTENCE)["input_ids"])
    vocab = tokenizer.vocab_size
    batches = torch.arange(vocab).split(args.batch_size)
    position = args.change_word
    print(
        f"sentence: {SENTENCE!r} ({len(ids)} tokens), change_word {position}, layer {args.layer}, neuron {args.neuron}"
    )
    print(
        f"vocabulary: {vocab}, batch_size: {args.batch_size}, dtype: float32, torch threads: {torch.get_num_threads()}"
    )

    @torch.no_grad()
    def sequential(candidates: torch.Tensor) -> None:
        for token in candidates.tolist():
            x = ids.clone()
            x[position] = token
            model(input_ids=x[None], output_hidden_states=True).hidden_states[args.layer][0, position, args.neuron]

    @torch.no_grad()
    def bare() -> None:
        for batch in batches:
            substituted_at_position(model, ids, position, batch, args.layer, position)[:, args.neuron]

    @torch.no_grad()
    def plain() -> None:
        readout = EncoderReadout(model)
        for batch in batches:
            x = ids.repeat(len(batch), 1)
            x[:, position] = batch
            readout.layer(torch.ones_like(x), args.layer, input_ids=x)[:, position, args.neuron]

    def experiment() -> None:
        search = TokenSearch(
            sentence=SENTENCE,
            change_word=position,
            layer_id=args.layer,
            neuron_ids=args.neuron,
            top_k=10,
            batch_size=args.batch_size,
        )
        with tempfile.TemporaryDirectory() as root:
            trainer = pl.Trainer(
                accelerator="cpu",
                devices=1,
                logger=False,
                enable_progress_bar=False,
                enable_model_summary=False,
                default_root_dir=root,
            )
            trainer.predict(search, return_predictions=False)

    sample = torch.linspace(0, vocab - 1, args.sample).long()
    sequential(sample[:20])  # warm-up
    per_candidate = timed(lambda: sequential(sample)) / len(sample)
    sweep_a = per_candidate * vocab
    print(
        f"(a) sequential full-model forwards: {per_candidate * 1e3:.2f} ms per candidate over {len(sample)} "
        f"candidates -> {sweep_a:.1f} s for the vocabulary (scaled)"
    )
    sweep_b, sweep_bare = float("inf"), float("inf")
    for _ in range(args.repeats):  # interleaved, best of n: both see the same machine load
        sweep_b = min(sweep_b, timed(experiment))
        sweep_bare = min(sweep_bare, timed(bare))
    sweep_plain = timed(plain)
    print(f"(b) TokenSearch (Trainer.predict, batched, truncated last block, shared first block): {sweep_b:.1f} s")
    print(f"bare position readout on the same batches: {sweep_bare:.1f} s")
    print(f"plain transformers forward, batched, truncated at layer {args.layer}: {sweep_plain:.1f} s")
    print(f"speedup_vs_plain_batched: {sweep_plain / sweep_b:.2f}")
    print(f"speedup_vs_sequential: {sweep_a / sweep_b:.1f}")
    print(f"overhead_vs_bare: {sweep_b / sweep_bare:.2f}")


if __name__ == "__main__":
    main()
