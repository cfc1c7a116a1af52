#!/bin/sh
# Issue 14's comparison on minilm-l6: build the 20 targets (layers 2-6 x neurons 17, 100, 200, 314, each
# from its own top sentence and position over the first 1,000 news sentences; corpus search writes the
# targets file), then run every method on them at one budget of passes, sharded over 2 processes.
#   sh benchmarks/compare_methods.sh [MAX_PASSES] [TARGETS_FILE]
# MAX_PASSES defaults to the config's 9,000 (3,000 annealing steps); a reduced budget (say 1,500) for a first table.
# Quality numbers do not depend on the machine's load; the wall times do.
set -e
passes=${1:-9000}
targets=${2:-configs/compare_methods_targets.jsonl}
run=${LIGHTNING_DREAM:-lightning-dream}
if [ ! -s "$targets" ]; then
  tmp=$(mktemp -d)
  for layer in 2 3 4 5 6; do
    $run predict --config configs/corpus_search.yaml --model.max_sentences 1000 --model.layer_id $layer \
        --model.neuron_ids '[17,100,200,314]' --model.top_k 1 --model.targets_file "$tmp/layer_$layer.jsonl" \
        --trainer.default_root_dir "$tmp/runs"
  done
  cat "$tmp"/layer_*.jsonl > "$targets"
  rm -r "$tmp"
fi
$run fit --config configs/compare_methods.yaml --model.targets "$targets" --model.max_passes "$passes" \
    --trainer.devices 2 --trainer.default_root_dir "runs/compare_methods_$passes"
$run report "runs/compare_methods_$passes"
