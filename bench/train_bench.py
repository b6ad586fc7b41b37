"""Training-loop overhead: samples/s of `jetad_nb.train.fit` (shuffled batches drawn on the device, validation
every epoch, early-stopping bookkeeping, atomic checkpoint every epoch, progress bar) against a bare
forward + backward + step loop on the same model, batch size and number of steps, in the same run.

    python bench/train_bench.py [--channels 16] [--batch 1024] [--train 16384] [--val 4096] [--epochs 3] [--device cpu]

Images are real QCD jet images from data/qcd.h5, tiled up to --train + --val. Prints a table.
Goal (issue 4): fit >= 0.8 of the bare loop's samples/s.
"""
import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from jetad_nb.ae import ConvAE
from jetad_nb.core import data_dir
from jetad_nb.core import get_device
from jetad_nb.core import seed_everything
from jetad_nb.images import jet_images
from jetad_nb.images import load_jets
from jetad_nb.train import fit


def bare_loop(model, x, steps, batch, lr, dev):
    "Forward, backward and Adam step on one fixed batch, `steps` times."
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xb = x[:batch]
    for _ in range(steps):
        loss = model.loss(xb).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if dev.type == "cuda":
        torch.cuda.synchronize()

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--train", type=int, default=16384)
    ap.add_argument("--val", type=int, default=4096)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--device", default=None)
    a = ap.parse_args()
    dev = get_device(a.device)
    img = jet_images(load_jets(data_dir() / "qcd.h5"), show_progress=False)
    img = np.concatenate([img] * ((a.train + a.val) // len(img) + 1))[: a.train + a.val]
    tr, va = img[: a.train], img[a.train:]
    steps = a.epochs * -(-a.train // a.batch)

    seed_everything(0)
    m = ConvAE(40, a.channels, 12).to(dev)
    x = torch.as_tensor(tr).to(dev)
    bare_loop(m, x, 2, a.batch, 1e-3, dev)  # warm-up
    t0 = time.perf_counter()
    bare_loop(m, x, steps, a.batch, 1e-3, dev)
    t_bare = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as d:
        seed_everything(0)
        m = ConvAE(40, a.channels, 12)
        t0 = time.perf_counter()
        fit(
            m,
            tr,
            va,
            epochs=a.epochs,
            batch_size=a.batch,
            lr=1e-3,
            patience=None,
            device=dev,
            checkpoint=Path(d) / "ck.pt",
            show_progress=True,
        )
        t_fit = time.perf_counter() - t0
        seed_everything(0)
        m = ConvAE(40, a.channels, 12)
        t0 = time.perf_counter()
        fit(m, tr, None, epochs=a.epochs, batch_size=a.batch, lr=1e-3, patience=None, device=dev, show_progress=False)
        t_fit_noval = time.perf_counter() - t0

    n = a.epochs * a.train
    print(
        f"# train_bench: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), device {dev}; "
        f"ConvAE 40x40 channels={a.channels}, batch {a.batch}, "
        f"{a.epochs} epochs x {a.train} jets ({steps} steps), validation {a.val} jets"
    )
    print("| loop | seconds | training samples/s | ratio to bare |")
    print("|---|---|---|---|")
    print(f"| bare forward+backward+step, fixed batch | {t_bare:.2f} | {n / t_bare:,.0f} | 1.00 |")
    print(f"| fit, with validation + checkpoint each epoch | {t_fit:.2f} | {n / t_fit:,.0f} | {t_bare / t_fit:.2f} |")
    print(
        f"| fit, no validation, no checkpoint | {t_fit_noval:.2f} | {n / t_fit_noval:,.0f} "
        f"| {t_bare / t_fit_noval:.2f} |"
    )
    print(f"goal: fit >= 0.8 of bare (with validation: {t_bare / t_fit:.2f}; the validation pass costs about "
          f"{a.val / (3 * a.train):.0%} of an epoch's forward+backward work)")

if __name__ == "__main__":
    main()
