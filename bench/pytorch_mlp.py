#!/usr/bin/python3
"""PyTorch reference for clnn-train: the same MLP on Fashion-MNIST, trained on the CPU.

Run it with Debian's interpreter (/usr/bin/python3) and Debian's python3-torch (1.13); a pyenv or
venv python3 earlier on PATH does not see Debian's packages.

The model, data handling and optimiser mirror clnn-train's defaults, so that epoch times and
accuracies can be compared (bench/compare.sh runs both):

  * data: the IDX .gz files read here with gzip + struct (no torchvision), from
    /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist) or --data DIR;
  * inputs: per-pixel mean and standard deviation over the 60000 training images, computed in
    float64 on the raw 0..255 values (population std, ddof = 0), std floored at 1.0 (one grey
    level), x' = (x - mean) / std; the test set uses the training statistics;
  * model: Linear(784,512) -> BatchNorm1d -> ReLU -> Linear(512,256) -> BatchNorm1d -> ReLU ->
    Linear(256,10); BatchNorm1d with PyTorch's defaults (eps 1e-5, momentum 0.1, gamma 1, beta 0);
  * init: every Linear weight kaiming_normal_(mode="fan_in", nonlinearity="relu"), i.e. N(0, 2/fan_in)
    (He et al. 2015), every Linear bias zero;
  * loss: softmax cross-entropy (mean over the batch); Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8;
  * batches of 256, training set reshuffled every epoch (torch.randperm from a generator seeded
    with --seed), last partial batch (60000 = 234 * 256 + 96) kept;
  * 2 threads, with the BLAS and OpenMP thread pools configured so that they do not
    oversubscribe the cores (see configure_threads()).

Per epoch it prints the train loss (mean over the epoch's samples, in training mode), the test
loss and accuracy (inference mode, running batch-norm statistics), and the epoch time: the wall
time of the training pass (shuffle + every step), excluding the test evaluation, which is timed and
printed separately. --csv writes the same columns as clnn-train:
  epoch,train_loss,test_loss,test_accuracy,epoch_seconds,samples_per_second
(test_accuracy as a fraction in [0, 1]).

Cold start = process start (the kernel's start time of this process, so interpreter start-up and
`import torch` count) to the end of the first training step (loss computed, backward and optimiser
step done). It is printed as
  cold start: 1.234 s (process start to first training step completed)
"""

import argparse
import os
import sys
import time


def process_age_seconds():
    """Seconds since this process started, from /proc/self/stat (10 ms resolution), or None."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        # Field 2 (comm) may hold spaces or parentheses: split after its closing parenthesis.
        fields = stat[stat.rindex(")") + 2:].split()
        start_ticks = int(fields[19])  # field 22 overall: starttime, in clock ticks since boot
        hz = os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / hz
    except (OSError, ValueError, IndexError, AttributeError):
        return None


# Taken before anything heavy is imported; cold start is measured from the process start when
# /proc allows it, else from here (which misses only the interpreter's own start-up).
_T0 = time.perf_counter()
_AGE_AT_T0 = process_age_seconds()

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Train clnn-train's default MLP with PyTorch on the CPU (benchmark reference).")
    p.add_argument("--data", default=DEFAULT_DATA,
                   help="directory holding the four Fashion-MNIST IDX .gz files (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=10, help="epochs to train (default: %(default)s)")
    p.add_argument("--batch", type=int, default=256, help="batch size (default: %(default)s)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="seed for init and shuffling (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2,
                   help="intra-op threads, torch.set_num_threads and OMP_NUM_THREADS (default: %(default)s)")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="OpenBLAS threads (OPENBLAS_NUM_THREADS); default: same as --threads")
    p.add_argument("--omp-wait-policy", choices=["passive", "active"], default="passive",
                   help="OMP_WAIT_POLICY for PyTorch's OpenMP pool (default: %(default)s)")
    p.add_argument("--limit-train", type=int, default=0, metavar="N",
                   help="use only the first N training images (smoke tests; 0 = all)")
    p.add_argument("--csv", metavar="FILE", help="write one row per epoch (clnn-train's columns)")
    a = p.parse_args(argv)
    for name in ("epochs", "batch", "threads"):
        if getattr(a, name) < 1:
            p.error(f"--{name} must be at least 1 (got {getattr(a, name)})")
    if a.blas_threads is not None and a.blas_threads < 1:
        p.error(f"--blas-threads must be at least 1 (got {a.blas_threads})")
    if a.limit_train < 0:
        p.error(f"--limit-train must be >= 0 (got {a.limit_train})")
    if not (a.lr > 0):
        p.error(f"--lr must be positive (got {a.lr})")
    return a


def configure_threads(args):
    """Set the thread environment. Must run before `import torch`: the OpenMP runtime (libgomp)
    and OpenBLAS read these variables once, when they are loaded.

    Debian's torch 1.13 runs its element-wise and batch-norm kernels on an OpenMP (libgomp) pool
    and sends every matrix product (addmm/mm of Linear and its backward) to OpenBLAS
    (libopenblas0-pthread), which keeps a second, pthread pool of its own. With the defaults the
    two pools fight over the 2 cores: after each parallel region libgomp's threads spin-wait
    (OMP_WAIT_POLICY defaults to a long active spin), so OpenBLAS's workers, started right after,
    find the cores busy, and vice versa; the BASELINES note measured a 2x slowdown.

    What we do:
      OMP_NUM_THREADS=threads     the OpenMP pool size (torch.set_num_threads is also called),
      OMP_WAIT_POLICY=passive     idle OpenMP threads sleep at once instead of spinning, so the
                                  cores are free when OpenBLAS starts,
      OPENBLAS_NUM_THREADS=n      OpenBLAS's own pool (default = threads, so GEMMs still use both
                                  cores; 1 would serialise them and halve GEMM throughput),
      OPENBLAS_THREAD_TIMEOUT=4   OpenBLAS workers spin only 2^4 cycles before sleeping (its
                                  default is 2^28, about 0.1 s, i.e. they would spin through
                                  PyTorch's element-wise kernels between two GEMMs),
      MKL_NUM_THREADS=threads     harmless here (no MKL in Debian's build), kept for other builds.
    """
    blas = args.blas_threads if args.blas_threads is not None else args.threads
    env = {
        "OMP_NUM_THREADS": str(args.threads),
        "OMP_WAIT_POLICY": args.omp_wait_policy.upper(),
        "OPENBLAS_NUM_THREADS": str(blas),
        "OPENBLAS_THREAD_TIMEOUT": "4",
        "MKL_NUM_THREADS": str(args.threads),
    }
    os.environ.update(env)
    return env


def read_idx_gz(path, expect_magic, expect_dims):
    """Read one gzip'd IDX file of unsigned bytes; return (dims, bytes). Clear errors, no crash."""
    import gzip
    import struct
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        sys.exit(f"error: {path}: no such file (install dataset-fashion-mnist or pass --data DIR)")
    except (OSError, EOFError) as e:
        sys.exit(f"error: {path}: cannot read gzip data: {e}")
    if len(raw) < 4:
        sys.exit(f"error: {path}: truncated header ({len(raw)} bytes)")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expect_magic:
        sys.exit(f"error: {path}: bad magic 0x{magic:08x} (expected 0x{expect_magic:08x})")
    ndim = magic & 0xFF
    if ndim != expect_dims or len(raw) < 4 + 4 * ndim:
        sys.exit(f"error: {path}: expected {expect_dims} dimensions, header says {ndim}")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    count = 1
    for d in dims:
        count *= d
    body = raw[4 + 4 * ndim:]
    if len(body) != count:
        sys.exit(f"error: {path}: dimensions {dims} need {count} bytes of data, file has {len(body)}")
    return dims, body


def load_split(data_dir, prefix, np):
    images_path = os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz")
    labels_path = os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")
    idims, ibytes = read_idx_gz(images_path, 0x00000803, 3)
    ldims, lbytes = read_idx_gz(labels_path, 0x00000801, 1)
    if idims[0] != ldims[0]:
        sys.exit(f"error: {images_path} has {idims[0]} images but {labels_path} has {ldims[0]} labels")
    images = np.frombuffer(ibytes, dtype=np.uint8).reshape(idims[0], idims[1] * idims[2])
    labels = np.frombuffer(lbytes, dtype=np.uint8)
    if labels.size and int(labels.max()) > 9:
        sys.exit(f"error: {labels_path}: label {int(labels.max())} out of range 0..9")
    return images, labels


def main(argv):
    args = parse_args(argv)
    env = configure_threads(args)

    import numpy as np
    import torch  # after configure_threads(), deliberately
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    t_import = time.perf_counter()

    # ---- data ---------------------------------------------------------------------------------
    train_x8, train_y8 = load_split(args.data, "train", np)
    test_x8, test_y8 = load_split(args.data, "t10k", np)
    if train_x8.shape[1] != 784 or test_x8.shape[1] != 784:
        sys.exit(f"error: expected 28x28 images, got {train_x8.shape[1]} / {test_x8.shape[1]} pixels")
    # Two-pass mean and population variance in float64, in chunks of 4096 images so that no
    # 60000x784 float64 temporary (376 MB) is made; then normalise in float32.
    n_img = train_x8.shape[0]
    acc = np.zeros(784, dtype=np.float64)
    for i in range(0, n_img, 4096):
        acc += train_x8[i:i + 4096].sum(axis=0, dtype=np.float64)
    mean = acc / n_img
    acc[:] = 0.0
    for i in range(0, n_img, 4096):
        d = train_x8[i:i + 4096].astype(np.float64) - mean
        acc += (d * d).sum(axis=0)
    std = np.maximum(np.sqrt(acc / n_img), 1.0)  # population std, floored at one grey level
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)

    def normalise(x8):
        x = x8.astype(np.float32)
        x -= mean32
        x /= std32
        return torch.from_numpy(x)

    train_x, test_x = normalise(train_x8), normalise(test_x8)
    train_y = torch.from_numpy(train_y8.astype(np.int64))
    test_y = torch.from_numpy(test_y8.astype(np.int64))
    if args.limit_train:
        train_x, train_y = train_x[:args.limit_train], train_y[:args.limit_train]
    n_train, n_test = train_x.shape[0], test_x.shape[0]
    t_data = time.perf_counter()

    # ---- model --------------------------------------------------------------------------------
    torch.manual_seed(args.seed)
    model = nn.Sequential(
        nn.Linear(784, 512), nn.BatchNorm1d(512), nn.ReLU(),
        nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(),
        nn.Linear(256, 10),
    )
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    shuffle_gen = torch.Generator().manual_seed(args.seed)

    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads, "
          + ", ".join(f"{k}={v}" for k, v in env.items()), flush=True)
    print(f"data: {args.data}: {n_train} train, {n_test} test; model 784-512-256-10 BN ReLU, "
          f"kaiming_normal fan_in, Adam lr {args.lr:g}, batch {args.batch}, seed {args.seed}",
          flush=True)

    def evaluate():
        model.eval()
        loss_sum, correct = 0.0, 0
        with torch.no_grad():
            for i in range(0, n_test, 1000):
                logits = model(test_x[i:i + 1000])
                y = test_y[i:i + 1000]
                loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
                correct += (logits.argmax(dim=1) == y).sum().item()
        return loss_sum / n_test, correct / n_test

    csv = None
    if args.csv:
        try:
            csv = open(args.csv, "w", encoding="ascii")
        except OSError as e:
            sys.exit(f"error: --csv {args.csv}: {e}")
        csv.write("epoch,train_loss,test_loss,test_accuracy,epoch_seconds,samples_per_second\n")

    cold_start = None
    epoch_times = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        t_epoch = time.perf_counter()
        cpu_epoch = time.process_time()
        order = torch.randperm(n_train, generator=shuffle_gen)
        loss_sum = torch.zeros((), dtype=torch.float64)
        for i in range(0, n_train, args.batch):
            idx = order[i:i + args.batch]
            x, y = train_x[idx], train_y[idx]
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            # Accumulated on the tensor side: no per-step host synchronisation beyond what the
            # CPU backend does anyway.
            loss_sum += loss.detach().double() * idx.numel()
            if cold_start is None:
                now = time.perf_counter()
                cold_start = (now - _T0) + (_AGE_AT_T0 if _AGE_AT_T0 is not None else 0.0)
                first_step = now - t_data
        epoch_s = time.perf_counter() - t_epoch
        cpu_s = time.process_time() - cpu_epoch  # CPU time of all threads: 2x epoch_s at best
        epoch_times.append(epoch_s)
        train_loss = loss_sum.item() / n_train

        t_eval = time.perf_counter()
        test_loss, test_acc = evaluate()
        eval_s = time.perf_counter() - t_eval
        sps = n_train / epoch_s
        print(f"epoch {epoch:2d}/{args.epochs}  train_loss {train_loss:.4f}  test_loss {test_loss:.4f}  "
              f"test_acc {100 * test_acc:6.2f}%  time {epoch_s:.3f} s  {sps:,.0f} samples/s  "
              f"(cpu {cpu_s:.2f} s, eval {eval_s:.3f} s)", flush=True)
        if csv:
            csv.write(f"{epoch},{train_loss:.6f},{test_loss:.6f},{test_acc:.6f},{epoch_s:.6f},{sps:.1f}\n")
            csv.flush()
    if csv:
        csv.close()

    since = "process start" if _AGE_AT_T0 is not None else "script start"
    print(f"cold start: {cold_start:.3f} s ({since} to first training step completed; "
          f"import torch {t_import - _T0:.3f} s, data load+normalise {t_data - t_import:.3f} s, "
          f"model+first step {first_step:.3f} s)", flush=True)
    med = sorted(epoch_times)[len(epoch_times) // 2] if len(epoch_times) % 2 else \
        sum(sorted(epoch_times)[len(epoch_times) // 2 - 1:len(epoch_times) // 2 + 1]) / 2
    print(f"median epoch time: {med:.3f} s over {len(epoch_times)} epochs; "
          f"{1000 * med / -(-n_train // args.batch):.2f} ms/step", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
