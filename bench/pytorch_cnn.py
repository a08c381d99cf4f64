#!/usr/bin/python3
"""PyTorch reference for `clnn-train --model cnn`: the same residual CNN on Fashion-MNIST, trained
on the CPU (issue 17). bench/compare.sh --model cnn runs both.

Run it with Debian's interpreter (/usr/bin/python3) and Debian's python3-torch (1.13), whose
convolutions run on oneDNN 2.6.3 (torch.backends.mkldnn) with PyTorch's OpenMP pool.

What it mirrors of clnn-train --model cnn (defaults in brackets):

  * data: the IDX .gz files, read with pytorch_mlp.py's checked reader, from
    /usr/share/datasets/fashion-mnist or --data DIR; --limit-train N keeps the first N training
    images, before the statistics are taken (as clnn-train does);
  * inputs: global normalisation, one mean and one population standard deviation (ddof 0) over
    every pixel of the training images (float64 sums of the raw 0..255 values, no floor), applied
    to both sets as x' = (x - mean) / std, images 1x28x28;
  * model: the layer text conv32k3p1nb,bn:relu,maxpool2,conv64k3p1nb,bn:relu,maxpool2,
    res[conv64k3p1nb,bn:relu,conv64k3p1nb,bn]:relu,flatten,dropout0.4,dense10, i.e.
      Conv2d(1,32,3,padding=1,bias=False) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
      Conv2d(32,64,3,padding=1,bias=False) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
      x + [Conv2d(64,64,3,p=1,bias=False) -> BN -> ReLU -> Conv2d(64,64,3,p=1,bias=False) -> BN], ReLU
      Flatten -> Dropout(0.4) -> Linear(64*7*7,10)
    BatchNorm2d with PyTorch's defaults (eps 1e-5, momentum 0.1, gamma 1, beta 0);
  * init: every Conv2d and Linear weight kaiming_normal_(mode="fan_in", nonlinearity="relu"),
    N(0, 2/fan_in) with fan_in = C*KH*KW, the classifier included; the classifier's bias zero;
  * loss: softmax cross-entropy (mean over the batch); AdamW lr 2e-3, weight decay 0.05 (decoupled,
    on every parameter), betas (0.9, 0.999), eps 1e-8 [--optimizer adam: Adam, no decay];
  * schedule: cosine annealing per step to 0 over the whole run, lr_t = lr (1 + cos(pi t / T)) / 2
    with t the steps already taken and T = epochs * batches per epoch (clnn's closed form, as a
    LambdaLR; CosineAnnealingLR's recursive form gives the same values up to rounding);
  * batches of 128 [--batch], the training set reshuffled every epoch (torch.randperm from a
    generator seeded with --seed), the last partial batch kept unless it holds a single sample
    (batch norm cannot train on it; clnn-train leaves it out then too); 14 epochs [--epochs];
  * threads: pytorch_mlp.py's settings (OMP_NUM_THREADS 2, OMP_WAIT_POLICY passive, OpenBLAS
    threads, see its configure_threads()); here OpenBLAS only gets the 3136x10 classifier;
  * augmentation [--augment flip]: as clnn-train's --augment, each training image mirrored left
    to right with probability 1/2 (flip) and moved by up to 2 pixels each way (shift), the blank
    (normalised 0) pixel filling in, drawn anew every batch from its own generator.

Output, CSV columns and the `cold start:` line are pytorch_mlp.py's (see bench/README.md).
"""

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
import pytorch_mlp as common  # noqa: E402  (shared data reader and thread set-up; no torch import)

# Taken before anything heavy is imported (see pytorch_mlp.py).
_T0 = time.perf_counter()
_AGE_AT_T0 = common.process_age_seconds()

LAYERS = ("conv32k3p1nb,bn:relu,maxpool2,conv64k3p1nb,bn:relu,maxpool2,"
          "res[conv64k3p1nb,bn:relu,conv64k3p1nb,bn]:relu,flatten,dropout0.4,dense10")


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Train clnn-train's default CNN (--model cnn) with PyTorch on the CPU "
                    "(benchmark reference).")
    p.add_argument("--data", default=common.DEFAULT_DATA,
                   help="directory holding the four Fashion-MNIST IDX .gz files (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=14, help="epochs to train (default: %(default)s)")
    p.add_argument("--batch", type=int, default=128, help="batch size (default: %(default)s)")
    p.add_argument("--lr", type=float, default=2e-3, help="learning rate (default: %(default)s)")
    p.add_argument("--optimizer", choices=["adamw", "adam"], default="adamw",
                   help="optimiser (default: %(default)s)")
    p.add_argument("--weight-decay", type=float, default=0.05,
                   help="AdamW's decoupled weight decay (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="seed for init and shuffling (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2,
                   help="intra-op threads, torch.set_num_threads and OMP_NUM_THREADS (default: %(default)s)")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="OpenBLAS threads (OPENBLAS_NUM_THREADS); default: same as --threads")
    p.add_argument("--omp-wait-policy", choices=["passive", "active"], default="passive",
                   help="OMP_WAIT_POLICY for PyTorch's OpenMP pool (default: %(default)s)")
    p.add_argument("--limit-train", type=int, default=0, metavar="N",
                   help="use only the first N training images (0 = all)")
    p.add_argument("--augment", choices=["none", "flip", "shift", "flip,shift"], default="flip",
                   help="random changes to each training image (default: %(default)s)")
    p.add_argument("--csv", metavar="FILE", help="write one row per epoch (clnn-train's columns)")
    a = p.parse_args(argv)
    for name in ("epochs", "batch", "threads"):
        if getattr(a, name) < 1:
            p.error(f"--{name} must be at least 1 (got {getattr(a, name)})")
    if a.blas_threads is not None and a.blas_threads < 1:
        p.error(f"--blas-threads must be at least 1 (got {a.blas_threads})")
    if a.limit_train < 0 or a.limit_train == 1:
        p.error(f"--limit-train must be 0 (all) or at least 2 (got {a.limit_train})")
    if not (a.lr > 0):
        p.error(f"--lr must be positive (got {a.lr})")
    return a


def main(argv):
    args = parse_args(argv)
    env = common.configure_threads(args)

    import numpy as np
    import torch  # after configure_threads(), deliberately
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    t_import = time.perf_counter()

    # ---- data ---------------------------------------------------------------------------------
    train_x8, train_y8 = common.load_split(args.data, "train", np)
    test_x8, test_y8 = common.load_split(args.data, "t10k", np)
    if train_x8.shape[1] != 784 or test_x8.shape[1] != 784:
        sys.exit(f"error: expected 28x28 images, got {train_x8.shape[1]} / {test_x8.shape[1]} pixels")
    if args.limit_train:
        train_x8, train_y8 = train_x8[:args.limit_train], train_y8[:args.limit_train]
    # One mean and one population std over every training pixel, float64, two passes in chunks
    # (no 60000x784 float64 temporary).
    n_pix = train_x8.size
    total = 0.0
    for i in range(0, train_x8.shape[0], 4096):
        total += float(train_x8[i:i + 4096].sum(dtype=np.float64))
    mean = total / n_pix
    squares = 0.0
    for i in range(0, train_x8.shape[0], 4096):
        d = train_x8[i:i + 4096].astype(np.float64) - mean
        squares += float((d * d).sum())
    std = math.sqrt(squares / n_pix)
    mean32, std32 = np.float32(mean), np.float32(std)

    def normalise(x8):
        x = x8.astype(np.float32)
        x -= mean32
        x /= std32
        return torch.from_numpy(x).reshape(-1, 1, 28, 28)

    train_x, test_x = normalise(train_x8), normalise(test_x8)
    train_y = torch.from_numpy(train_y8.astype(np.int64))
    test_y = torch.from_numpy(test_y8.astype(np.int64))
    n_train, n_test = train_x.shape[0], test_x.shape[0]
    t_data = time.perf_counter()

    # ---- model --------------------------------------------------------------------------------
    class Residual(nn.Module):
        """relu(x + body(x)): res[...]:relu with an identity skip."""

        def __init__(self, body):
            super().__init__()
            self.body = body

        def forward(self, x):
            return F.relu(x + self.body(x))

    def conv_bn(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out)]

    torch.manual_seed(args.seed)
    model = nn.Sequential(
        *conv_bn(1, 32), nn.ReLU(), nn.MaxPool2d(2),
        *conv_bn(32, 64), nn.ReLU(), nn.MaxPool2d(2),
        Residual(nn.Sequential(*conv_bn(64, 64), nn.ReLU(), *conv_bn(64, 64))),
        nn.Flatten(), nn.Dropout(0.4), nn.Linear(64 * 7 * 7, 10),
    )
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    if args.optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # As clnn-train: the last partial batch is dropped only when it holds a single sample.
    remainder = n_train % args.batch
    batches = n_train // args.batch + (1 if remainder > 1 else 0)
    t_max = args.epochs * batches
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: (1.0 + math.cos(math.pi * (t % (2 * t_max)) / t_max)) / 2.0)
    shuffle_gen = torch.Generator().manual_seed(args.seed)

    print(f"pytorch {torch.__version__} (oneDNN for conv: {torch.backends.mkldnn.is_available()}), "
          f"{torch.get_num_threads()} threads, " + ", ".join(f"{k}={v}" for k, v in env.items()),
          flush=True)
    print(f"data: {args.data}: {n_train} train, {n_test} test, global mean {mean:.3f} std {std:.3f}; "
          f"model {LAYERS}, kaiming_normal fan_in, {args.optimizer} lr {args.lr:g}"
          f"{f' weight decay {args.weight_decay:g}' if args.optimizer == 'adamw' else ''}"
          f" cosine over {t_max} steps, augment {args.augment}, "
          f"batch {args.batch}, seed {args.seed}", flush=True)

    blank = (0.0 - mean) / std  # a 0 pixel after normalisation
    aug_gen = torch.Generator().manual_seed(args.seed + 1)

    def augment(x):
        if "flip" in args.augment:
            flip = torch.rand(x.shape[0], generator=aug_gen) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        if "shift" in args.augment:
            padded = F.pad(x, (2, 2, 2, 2), value=blank)
            offsets = torch.randint(0, 5, (x.shape[0], 2), generator=aug_gen).tolist()
            x = torch.stack([padded[i, :, r:r + 28, c:c + 28] for i, (r, c) in enumerate(offsets)])
        return x

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
        seen = 0
        for b in range(batches):
            idx = order[b * args.batch:(b + 1) * args.batch]
            x, y = augment(train_x[idx]), train_y[idx]
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.detach().double() * idx.numel()
            seen += idx.numel()
            if cold_start is None:
                now = time.perf_counter()
                cold_start = (now - _T0) + (_AGE_AT_T0 if _AGE_AT_T0 is not None else 0.0)
                first_step = now - t_data
        epoch_s = time.perf_counter() - t_epoch
        cpu_s = time.process_time() - cpu_epoch  # CPU time of all threads: 2x epoch_s at best
        epoch_times.append(epoch_s)
        train_loss = loss_sum.item() / seen

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
    s = sorted(epoch_times)
    med = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    print(f"median epoch time: {med:.3f} s over {len(s)} epochs; "
          f"{1000 * med / batches:.2f} ms/step", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
