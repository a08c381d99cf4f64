#!/usr/bin/env bash
# Benchmark clnn-train against PyTorch on the same CPU, in one run (issue 7, "Benchmark against
# PyTorch", and issue 17 for the CNN). See bench/README.md.
#
# For each model chosen with --model (mlp, the default; cnn; both), runs, one after the other
# (never at the same time, they would share the cores):
#   1. the same model in PyTorch (Debian's python3-torch, 2 threads): bench/pytorch_mlp.py or
#      bench/pytorch_cnn.py, once per OpenBLAS thread setting in --pytorch-blas (default "2 1" for
#      the MLP, "2" for the CNN, whose convolutions run on oneDNN, not OpenBLAS); the faster median
#      is the reference for the ratio;
#   2. build/clnn-train on the POCL CPU device with empty kernel caches (CLNN_CACHE_DIR and
#      POCL_CACHE_DIR pointing at fresh temporary directories) for 1 epoch: cold start, empty cache;
#   3. build/clnn-train again, same (now warm) caches, for the model's epochs: epoch times,
#      accuracy and cold start with a warm cache.
# then prints the model's table: epoch times side by side, medians, the ratio clnn / PyTorch,
# final accuracies and cold starts.
#
# The CNN is about 30 times the MLP's work per sample, so by default it trains on the first
# --cnn-limit-train images (5120: 40 batches of 128) for --cnn-epochs 2 epochs, both trainers
# alike (the cosine schedule then spans those steps); --cnn-limit-train 0 --cnn-epochs 14 is the
# full clnn-train --model cnn run.
#
# Cold start is read from the line "cold start: X s" that each trainer prints (process start to
# first training step completed). If clnn-train prints no such line, the script says so and shows
# the wall time of the 1-epoch run minus its epoch time instead (an estimate that also contains
# the test evaluation).
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/compare.sh [options]
  --model M           mlp (default), cnn or both: which model(s) to compare
  --epochs N          MLP: epochs for each trainer (default 5)
  --cnn-epochs N      CNN: epochs for each trainer (default 2)
  --cnn-limit-train N CNN: train on the first N images (default 5120; 0: all 60000)
  --seed S            seed passed to both trainers (default 1)
  --device SEL        clnn device selector, also exported as CLNN_DEVICE (default pthread,
                      POCL's CPU device)
  --data DIR          Fashion-MNIST directory, passed to both (default: each trainer's default,
                      /usr/share/datasets/fashion-mnist)
  --clnn PATH         clnn-train binary (default build/clnn-train in the repository)
  --pytorch-blas "L"  OpenBLAS thread counts to run PyTorch with (default "2 1" for the MLP,
                      "2" for the CNN)
  --no-pytorch        skip PyTorch (clnn only)
  --keep DIR          keep logs, CSVs and checkpoints in DIR (default: a temporary directory,
                      removed)
  -h, --help          this text
EOF
}

die() { echo "compare.sh: error: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

models=mlp
epochs=5
cnn_epochs=2
cnn_limit=5120
seed=1
device=pthread
data=""
clnn="$root/build/clnn-train"
blas_list=""
run_pytorch=1
keep=""

while [ $# -gt 0 ]; do
    case "$1" in
        --model) [ $# -ge 2 ] || die "--model needs a value"; models=$2; shift 2 ;;
        --epochs) [ $# -ge 2 ] || die "--epochs needs a value"; epochs=$2; shift 2 ;;
        --cnn-epochs) [ $# -ge 2 ] || die "--cnn-epochs needs a value"; cnn_epochs=$2; shift 2 ;;
        --cnn-limit-train) [ $# -ge 2 ] || die "--cnn-limit-train needs a value"; cnn_limit=$2; shift 2 ;;
        --seed) [ $# -ge 2 ] || die "--seed needs a value"; seed=$2; shift 2 ;;
        --device) [ $# -ge 2 ] || die "--device needs a value"; device=$2; shift 2 ;;
        --data) [ $# -ge 2 ] || die "--data needs a value"; data=$2; shift 2 ;;
        --clnn) [ $# -ge 2 ] || die "--clnn needs a value"; clnn=$2; shift 2 ;;
        --pytorch-blas) [ $# -ge 2 ] || die "--pytorch-blas needs a value"; blas_list=$2; shift 2 ;;
        --no-pytorch) run_pytorch=0; shift ;;
        --keep) [ $# -ge 2 ] || die "--keep needs a value"; keep=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
done

case "$models" in
    mlp|cnn) ;;
    both) models="mlp cnn" ;;
    *) die "--model must be mlp, cnn or both (got '$models')" ;;
esac
[[ "$epochs" =~ ^[1-9][0-9]*$ ]] || die "--epochs must be a positive integer (got '$epochs')"
[[ "$cnn_epochs" =~ ^[1-9][0-9]*$ ]] || die "--cnn-epochs must be a positive integer (got '$cnn_epochs')"
[[ "$cnn_limit" =~ ^[0-9]+$ ]] && [ "$cnn_limit" != 1 ] \
    || die "--cnn-limit-train must be 0 (all) or an integer >= 2 (got '$cnn_limit')"
[[ "$seed" =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer (got '$seed')"
[ -n "${blas_list// /}" ] || [ -z "$blas_list" ] || die "--pytorch-blas needs at least one count"
for b in $blas_list; do
    [[ "$b" =~ ^[1-9][0-9]*$ ]] || die "--pytorch-blas: '$b' is not a positive integer"
done
[ -z "$data" ] || [ -d "$data" ] || die "--data $data: not a directory"

# Debian's interpreter: the pyenv/venv python3 that may come first on PATH lacks python3-torch.
py=/usr/bin/python3
if [ "$run_pytorch" = 1 ]; then
    [ -x "$py" ] || die "$py not found (apt-get install python3 python3-torch)"
    "$py" -c 'import torch, numpy' 2>/dev/null \
        || die "$py cannot import torch; install Debian's PyTorch: apt-get install -y python3-torch"
fi

if [ -n "$keep" ]; then
    mkdir -p "$keep" || die "cannot create --keep directory $keep"
    out=$(cd "$keep" && pwd)
else
    out=$(mktemp -d "${TMPDIR:-/tmp}/clnn-compare.XXXXXX")
    trap 'rm -rf "$out"' EXIT
fi

data_args=()
[ -z "$data" ] || data_args=(--data "$data")

now() { date +%s.%N; }

[ -x "$clnn" ] || echo "== $clnn not found (not built yet?): running PyTorch only." \
    "Build it with: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2"

# compare_model MODEL: the PyTorch runs, the two clnn runs and the table of one model. Files are
# $out/MODEL-*. Returns 1 when a clnn run failed (exits at once when PyTorch fails).
compare_model() {
    local model=$1 n_epochs batch script blas what
    local -a clnn_args=() limit_args=()
    if [ "$model" = mlp ]; then
        n_epochs=$epochs; batch=256; script=pytorch_mlp.py; blas=${blas_list:-2 1}
        # pytorch_mlp.py keeps the rate constant (issue 7's set-up); clnn-train's MLP default is
        # the cosine schedule.
        clnn_args=(--schedule constant)
        what="default MLP, $n_epochs epochs, batch $batch"
    else
        n_epochs=$cnn_epochs; batch=128; script=pytorch_cnn.py; blas=${blas_list:-2}
        clnn_args=(--model cnn)
        [ "$cnn_limit" = 0 ] || limit_args=(--limit-train "$cnn_limit")
        what="default CNN (--model cnn), $n_epochs epochs of"
        what+=" $([ "$cnn_limit" = 0 ] && echo "all 60000" || echo "the first $cnn_limit")"
        what+=" training images, batch $batch, cosine schedule over them"
    fi

    echo "== clnn vs PyTorch: $what, seed $seed, $(nproc) CPUs," \
         "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "   logs and CSVs in $out ($model-*)"

    # ---- PyTorch -------------------------------------------------------------------------------
    local -a py_runs=()
    local b tag
    if [ "$run_pytorch" = 1 ]; then
        for b in $blas; do
            tag="pytorch-blas$b"
            echo "== PyTorch, OPENBLAS_NUM_THREADS=$b (bench/$script)"
            if "$py" "$here/$script" --epochs "$n_epochs" --batch "$batch" --seed "$seed" \
                    --threads 2 --blas-threads "$b" --csv "$out/$model-$tag.csv" \
                    "${limit_args[@]}" "${data_args[@]}" \
                    2>&1 | tee "$out/$model-$tag.log" | sed -u 's/^/   [pytorch] /'; then
                py_runs+=("$tag")
            else
                echo "compare.sh: PyTorch run ($model, $tag) failed; see the lines above" >&2
                exit 1
            fi
        done
    fi

    # ---- clnn ----------------------------------------------------------------------------------
    local clnn_status=absent phase n t0 t1
    if [ -x "$clnn" ]; then
        export CLNN_DEVICE="$device"
        local cache_clnn="$out/$model-cache-clnn" cache_pocl="$out/$model-cache-pocl"
        rm -rf "$cache_clnn" "$cache_pocl"
        mkdir -p "$cache_clnn" "$cache_pocl"
        clnn_status=ok
        for phase in cold warm; do
            if [ "$phase" = cold ]; then n=1; else n=$n_epochs; fi
            echo "== clnn-train $model, device '$device', $phase kernel caches ($n epoch(s))"
            t0=$(now)
            if CLNN_CACHE_DIR="$cache_clnn" POCL_CACHE_DIR="$cache_pocl" \
                    "$clnn" "${clnn_args[@]}" --device "$device" --epochs "$n" --batch "$batch" \
                    --seed "$seed" --csv "$out/$model-clnn-$phase.csv" \
                    --checkpoint "$out/$model-clnn-$phase.ckpt" "${limit_args[@]}" "${data_args[@]}" \
                    2>&1 | tee "$out/$model-clnn-$phase.log" | sed -u 's/^/   [clnn] /'; then
                t1=$(now)
                echo "$t0 $t1" > "$out/$model-clnn-$phase.wall"
            else
                echo "compare.sh: clnn-train ($model, $phase cache) failed; see the lines above" >&2
                clnn_status=failed
                break
            fi
        done
    fi

    # ---- table ---------------------------------------------------------------------------------
    "$py" - "$out" "$model" "$n_epochs" "$clnn_status" "${py_runs[@]}" <<'EOF'
import csv, os, re, statistics, sys

out, model, epochs, clnn_status = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
py_runs = sys.argv[5:]
def path(name):  # this model's files: $out/MODEL-name
    return os.path.join(out, f"{model}-{name}")
COLD = re.compile(r"cold start[^0-9]*([0-9]+(?:\.[0-9]+)?)\s*s", re.I)
COLS = ["epoch", "train_loss", "test_loss", "test_accuracy", "epoch_seconds", "samples_per_second"]

def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    missing = [c for c in COLS if rows and c not in rows[0]]
    if missing:
        sys.exit(f"compare.sh: {path}: missing columns {missing}")
    return rows

def cold_start(log):
    with open(log, errors="replace") as f:
        m = COLD.search(f.read())
    return float(m.group(1)) if m else None

def pct(acc):  # accept a fraction or a percentage
    a = float(acc)
    return 100.0 * a if a <= 1.0 else a

cols = []  # (name, rows, cold_start_s)
for tag in py_runs:
    rows = read_csv(path(tag + ".csv"))
    cols.append((f"PyTorch blas{tag[len('pytorch-blas'):]}", rows,
                 cold_start(path(tag + ".log"))))
clnn_cold = {}
if clnn_status == "ok":
    for phase in ("cold", "warm"):
        log = path(f"clnn-{phase}.log")
        cs = cold_start(log)
        note = ""
        if cs is None:
            t0, t1 = map(float, open(path(f"clnn-{phase}.wall")).read().split())
            ep = sum(float(r["epoch_seconds"]) for r in read_csv(path(f"clnn-{phase}.csv")))
            cs, note = t1 - t0 - ep, " (estimate: wall - epoch time; no 'cold start' line printed)"
        clnn_cold[phase] = (cs, note)
    cols.append(("clnn", read_csv(path("clnn-warm.csv")), clnn_cold["warm"][0]))

for name, rows, _ in cols:
    if len(rows) != epochs:
        print(f"warning: {name} wrote {len(rows)} epoch rows, expected {epochs}")

if not cols:
    sys.exit("compare.sh: nothing ran")

w = 16
print()
print(f"{model.upper()}")
print("epoch".ljust(8) + "".join(n.rjust(w) for n, _, _ in cols) + "   (epoch seconds)")
for i in range(max(len(r) for _, r, _ in cols)):
    line = str(i + 1).ljust(8)
    for _, rows, _ in cols:
        line += (f"{float(rows[i]['epoch_seconds']):.3f}" if i < len(rows) else "-").rjust(w)
    print(line)
med = {n: statistics.median(float(r["epoch_seconds"]) for r in rows) for n, rows, _ in cols}
print("median".ljust(8) + "".join(f"{med[n]:.3f}".rjust(w) for n, _, _ in cols))
print("samples/s".ljust(8) + "".join(
    f"{statistics.median(float(r['samples_per_second']) for r in rows):,.0f}".rjust(w)
    for _, rows, _ in cols))
print("test acc".ljust(8) + "".join(f"{pct(rows[-1]['test_accuracy']):.2f}%".rjust(w) for _, rows, _ in cols))
print("test loss".ljust(8) + "".join(f"{float(rows[-1]['test_loss']):.4f}".rjust(w) for _, rows, _ in cols))
print("cold st.".ljust(8) + "".join((f"{c:.2f} s" if c is not None else "n/a").rjust(w) for _, _, c in cols))
print()
py_cols = [n for n, _, _ in cols if n.startswith("PyTorch")]
if py_cols:
    best = min(py_cols, key=lambda n: med[n])
    print(f"PyTorch reference: {best} (median epoch {med[best]:.3f} s)")
if "clnn" in med and py_cols:
    r = med["clnn"] / med[best]
    verdict = "meets" if r <= 1.0 else "misses"
    print(f"{model} ratio clnn / PyTorch (median epoch time): {r:.2f}  -> {verdict} the target (<= 1.00)")
    for n in py_cols:
        if n != best:
            print(f"  (vs {n}: {med['clnn'] / med[n]:.2f})")
if clnn_cold:
    for phase, label in (("cold", "empty kernel caches"), ("warm", "warm kernel caches")):
        cs, note = clnn_cold[phase]
        print(f"clnn cold start, {label}: {cs:.2f} s{note}")
if clnn_status == "absent":
    print("clnn-train: not built, PyTorch only")
elif clnn_status == "failed":
    print("clnn-train: FAILED (see its output above)")
print("Note: 2 shared cores; other processes add noise. Compare the ratio, not absolute times.")
sys.exit(1 if clnn_status == "failed" else 0)
EOF
}

status=0
for m in $models; do
    compare_model "$m" || status=1
    echo
done
exit $status
