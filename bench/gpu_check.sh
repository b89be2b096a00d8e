#!/usr/bin/env bash
# The GPU checks of issue 12 as one prepared script, for a session that is lent a device (docs/scale.md,
# "GPU checks"): the profile engine on the 1.5B shape (compiled vs backbone-only), heavy-tailed lengths
# padded vs packed on CUDA (SDPA; FlashAttention when installed), and one `train sft --mask forking` step.
#
#   bash bench/gpu_check.sh OUTDIR            # on the device: OUTDIR=$OUT; ~8 minutes on an H200
#   DEVICE=cpu QUICK=1 bash bench/gpu_check.sh /tmp/gc   # a dry run of the script itself on a CPU (tiny sizes)
#
# Runs from the repository root with PYTHONPATH=src (the device image has torch and transformers; carry
# trl + datasets wheels for step 3, see the device tool's README). Each step has its own time limit and the
# script goes on after a failure; OUTDIR/summary.txt says what ran. OUTDIR/benchmarks.md is docs/benchmarks.md
# with the new sections written in: copy it back over docs/benchmarks.md after reading it.
set -u
OUTDIR=${1:?usage: bash bench/gpu_check.sh OUTDIR}
DEVICE=${DEVICE:-cuda}
QUICK=${QUICK:-0}
mkdir -p "$OUTDIR"
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
cp docs/benchmarks.md "$OUTDIR/benchmarks.md"
PY=${PYTHON:-python3}
summary="$OUTDIR/summary.txt"
: >"$summary"

step() {  # step NAME SECONDS COMMAND...
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  echo "== $name" | tee -a "$OUTDIR/log.txt"
  timeout "$limit" "$@" >>"$OUTDIR/log.txt" 2>&1
  local rc=$?
  echo "$name: rc $rc, $((SECONDS - t0)) s" | tee -a "$summary"
}

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
  $PY -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__)"
  $PY -c "import flash_attn; print('flash_attn', flash_attn.__version__)" 2>/dev/null || echo "flash_attn: not installed"
} >>"$summary" 2>&1

if [ "$QUICK" = 1 ]; then
  MODEL=builtin PB="--batch 2 --seq-len 64 --num-batches 1 --repeats 1"
  PK="--model small --n 8 --median 40 --max-len 200 --max-tokens 1024 --pack-lengths 128"
else
  MODEL=qwen2-1.5b-shape PB=""
  PK="--model qwen2-1.5b-shape --n 256 --median 2000 --sigma 1.0 --max-len 16384 --max-tokens 32768 --pack-lengths 8192"
fi
COMPILE=$([ "$DEVICE" = cuda ] && echo --compile || echo "")

# 1. the profile engine against backbone-only (targets: >= 0.97x throughput, peak memory within 15%)
step profile_bench 300 $PY bench/profile_bench.py --model $MODEL --device "$DEVICE" $COMPILE $PB \
  --out-md "$OUTDIR/benchmarks.md" --json "$OUTDIR/profile_bench.json"

# 2. heavy-tailed lengths: padded vs packed (target: packed >= 0.9x the fixed-length throughput)
step packing_sdpa 240 $PY bench/packing_bench.py --device "$DEVICE" --attn sdpa $PK \
  --out-md "$OUTDIR/benchmarks.md" --json "$OUTDIR/packing_sdpa.json"
if $PY -c "import flash_attn" 2>/dev/null; then
  step packing_flash 240 $PY bench/packing_bench.py --device "$DEVICE" --attn flash_attention_2 $PK \
    --json "$OUTDIR/packing_flash.json"
fi

# 3. one SFT step with the forking-token mask on the device (needs trl and datasets)
if $PY -c "import trl, datasets" 2>/dev/null; then
  $PY -c "from reasonsift.data.io import write_examples; from reasonsift.tasks import get_task; \
write_examples(get_task('arith').generate(64, seed=0, split='train'), '$OUTDIR/sft.jsonl')"
  step sft_forking 240 $PY -m reasonsift train sft --model src/reasonsift/assets/models/tiny-arith \
    --data "$OUTDIR/sft.jsonl" --mask forking --max-steps 2 --device "$DEVICE" -o "$OUTDIR/sft_run"
else
  echo "sft_forking: skipped (trl/datasets not importable)" | tee -a "$summary"
fi
cat "$summary"
