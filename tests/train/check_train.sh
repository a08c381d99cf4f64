#!/usr/bin/env bash
# End-to-end test of clnn-train on every OpenCL device: a short training on a slice of the real
# Fashion-MNIST data must lower the loss and beat chance by a wide margin; a run interrupted
# (by --stop-after and by a real SIGINT) and resumed must finish exactly as an uninterrupted one;
# the compile helper works and does not outlive its runs; bad command lines and bad data files
# must give clear errors.
# usage: check_train.sh CLNN_TRAIN CLNN_INFO   (exit 77: skipped, no Fashion-MNIST data)
set -uo pipefail
train=$1
info=$2
data=${CLNN_DATA_DIR:-/usr/share/datasets/fashion-mnist}
if ! ls "$data"/train-images* >/dev/null 2>&1; then
  echo "no Fashion-MNIST data in $data (apt-get install dataset-fashion-mnist): skipped"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Small and quick: 3072 training samples, 1000 test samples, one hidden layer of 64.
small=(--data "$data" --limit-train 3072 --limit-test 1000 --layers 64 --batch 128 --seed 5 --quiet)

if [ -n "${CLNN_TEST_DEVICES:-}" ]; then
  IFS=, read -r -a devices <<<"$CLNN_TEST_DEVICES"
else
  count=$("$info" --size 1024 | grep -c '^device ')
  devices=()
  for ((i = 0; i < count; ++i)); do devices+=("$i"); done
fi

for d in "${devices[@]}"; do
  echo "== device $d"
  dir=$work/dev$d
  mkdir -p "$dir"

  # Learning: loss falls from epoch to epoch and accuracy beats chance (10%) by far.
  if ! "$train" --device "$d" "${small[@]}" --epochs 2 --csv "$dir/a.csv" \
       --checkpoint "$dir/a.ckpt" >"$dir/a.out" 2>&1; then
    fail "device $d: training failed"; cat "$dir/a.out"; continue
  fi
  cat "$dir/a.out"
  read -r loss1 loss2 acc2 < <(awk -F, 'NR==2{l1=$2} NR==3{l2=$2; a=$4} END{print l1, l2, a}' "$dir/a.csv")
  awk -v l1="$loss1" -v l2="$loss2" 'BEGIN{exit !(l1 == l1 + 0 && l2 < l1 && l1 < 2.3)}' ||
    fail "device $d: train loss did not fall (epoch 1: $loss1, epoch 2: $loss2)"
  awk -v a="$acc2" 'BEGIN{exit !(a > 0.6)}' ||
    fail "device $d: test accuracy $acc2 after 2 short epochs, expected > 0.6 (chance is 0.1)"

  # Resume after --stop-after (mid-epoch 2): the same losses and accuracies, digit for digit.
  "$train" --device "$d" "${small[@]}" --epochs 2 --csv "$dir/b.csv" --checkpoint "$dir/b.ckpt" \
    --stop-after 30 >"$dir/b.out" 2>&1
  code=$?
  [ "$code" -eq 130 ] || { fail "device $d: --stop-after exited $code, expected 130"; cat "$dir/b.out"; }
  grep -q "continue with --resume" "$dir/b.out" || fail "device $d: no resume hint printed"
  "$train" --device "$d" "${small[@]}" --epochs 2 --csv "$dir/b.csv" --checkpoint "$dir/b.ckpt" \
    --resume >>"$dir/b.out" 2>&1 || fail "device $d: --resume failed: $(tail -3 "$dir/b.out")"
  cut -d, -f1-4 "$dir/a.csv" >"$dir/a.cols"
  cut -d, -f1-4 "$dir/b.csv" >"$dir/b.cols"
  cmp -s "$dir/a.cols" "$dir/b.cols" ||
    fail "device $d: resumed run differs: $(diff "$dir/a.cols" "$dir/b.cols" | tr '\n' ' ')"

  # A real SIGINT: the current step finishes, a checkpoint is saved, the exit code is 130.
  "$train" --device "$d" "${small[@]}" --epochs 50 --checkpoint "$dir/c.ckpt" >"$dir/c.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do grep -q "cold start" "$dir/c.out" && break; sleep 0.05; done
  kill -INT "$pid"
  wait "$pid"
  code=$?
  [ "$code" -eq 130 ] || { fail "device $d: SIGINT exit code $code, expected 130"; cat "$dir/c.out"; }
  [ -s "$dir/c.ckpt" ] || fail "device $d: no checkpoint after SIGINT"
  "$train" --device "$d" "${small[@]}" --epochs 1 --checkpoint "$dir/c.ckpt" --resume \
    >>"$dir/c.out" 2>&1 || fail "device $d: resume after SIGINT failed: $(tail -3 "$dir/c.out")"

  # A small residual CNN (convolution, batch norm, both poolings, a strided 1x1 projection) on
  # a slice: it learns (68% after 2 of 3 epochs on POCL), and a run stopped mid-epoch and resumed
  # ends digit for digit the same.
  cnn=(--data "$data" --limit-train 2048 --limit-test 500 --batch 64 --seed 3 --quiet
       --cnn-layers "conv16k3p1nb,bn:relu,maxpool2,res[conv16k3s2p1nb,bn:relu,conv16k3p1]proj:relu,avgpool2,flatten,dense10")
  if ! "$train" --device "$d" "${cnn[@]}" --epochs 3 --csv "$dir/cnn_a.csv" \
       --checkpoint "$dir/cnn_a.ckpt" >"$dir/cnn_a.out" 2>&1; then
    fail "device $d: CNN training failed"; cat "$dir/cnn_a.out"; continue
  fi
  cat "$dir/cnn_a.out"
  read -r loss1 loss2 acc2 < <(awk -F, 'NR==2{l1=$2} NR==3{l2=$2; a=$4} END{print l1, l2, a}' "$dir/cnn_a.csv")
  awk -v l1="$loss1" -v l2="$loss2" 'BEGIN{exit !(l1 == l1 + 0 && l2 < l1 && l1 < 2.3)}' ||
    fail "device $d: CNN train loss did not fall (epoch 1: $loss1, epoch 2: $loss2)"
  awk -v a="$acc2" 'BEGIN{exit !(a > 0.5)}' ||
    fail "device $d: CNN test accuracy $acc2 after 2 of 3 short epochs, expected > 0.5 (chance 0.1)"
  "$train" --device "$d" "${cnn[@]}" --epochs 3 --csv "$dir/cnn_b.csv" \
    --checkpoint "$dir/cnn_b.ckpt" --stop-after 40 >"$dir/cnn_b.out" 2>&1
  code=$?
  [ "$code" -eq 130 ] || { fail "device $d: CNN --stop-after exited $code"; cat "$dir/cnn_b.out"; }
  "$train" --device "$d" "${cnn[@]}" --epochs 3 --csv "$dir/cnn_b.csv" \
    --checkpoint "$dir/cnn_b.ckpt" --resume >>"$dir/cnn_b.out" 2>&1 ||
    fail "device $d: CNN --resume failed: $(tail -3 "$dir/cnn_b.out")"
  cut -d, -f1-4 "$dir/cnn_a.csv" >"$dir/cnn_a.cols"
  cut -d, -f1-4 "$dir/cnn_b.csv" >"$dir/cnn_b.cols"
  cmp -s "$dir/cnn_a.cols" "$dir/cnn_b.cols" ||
    fail "device $d: resumed CNN run differs: $(diff "$dir/cnn_a.cols" "$dir/cnn_b.cols" | tr '\n' ' ')"
done

# The compile helper (the second process clnn-train starts on CPU devices to warm the first step
# up from its far end): run as such it builds the model from the shape it is given, launches the
# step's kernels, prints nothing and exits 0; none is left running after the runs above.
for args in "--model cnn --compile-helper-process 64:10:28x28" \
            "--layers 64 --compile-helper-process 128:10:784"; do
  # shellcheck disable=SC2086
  out=$("$train" $args 2>&1)
  code=$?
  { [ "$code" -eq 0 ] && [ -z "$out" ]; } || fail "'$args' exited $code, printed: $out"
done
# (/proc rather than pgrep, which a bare Debian lacks; the bracket keeps grep from finding itself)
left=$(grep -las "compile-helper-proces[s]" /proc/[0-9]*/cmdline)
[ -z "$left" ] || fail "a compile helper is still running: $left"


# Bad command lines: exit 2 and a message that names the option and the valid choices.
expect_error() {
  local want_code=$1 pattern=$2
  shift 2
  out=$("$train" "$@" 2>&1)
  code=$?
  [ "$code" -eq "$want_code" ] || fail "'$*' exited $code, expected $want_code"
  grep -q -- "$pattern" <<<"$out" || fail "'$*': message lacks '$pattern': $out"
}
expect_error 2 "--epochs 'x'" --epochs x
expect_error 2 "an integer from 1" --epochs 0
expect_error 2 "unknown option '--frobnicate'" --frobnicate
expect_error 2 "relu" --activation nonsense
expect_error 2 "sgd, rmsprop, adam, adamw or adagrad" --optimizer nonsense
expect_error 2 "needs a value" --lr
expect_error 2 "--layers" --layers 512,,256
expect_error 2 "--dropout" --dropout 1.5
expect_error 2 "mlp or cnn" --model rnn
expect_error 2 "ROWS:CLASSES:D0" --compile-helper-process 0:10:28x28
expect_error 1 "item 2, character 5" --data "$data" --cnn-layers "gap,den10"
expect_error 1 "outputs per sample" --data "$data" --cnn-layers "conv4k3,gap"

# Bad data: a missing directory, and a truncated images file, are named.
expect_error 1 "$work/none" --data "$work/none"
mkdir -p "$work/bad"
cp "$data"/t10k-labels* "$data"/train-labels* "$work/bad/"
cp "$data"/t10k-images* "$work/bad/"
head -c 5000 "$(ls "$data"/train-images* | head -n 1)" >"$work/bad/$(basename "$(ls "$data"/train-images* | head -n 1)")"
expect_error 1 "train-images" --data "$work/bad"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
