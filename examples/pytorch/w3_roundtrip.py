#!/usr/bin/env python3
"""The PyTorch half of neurite's round trip (see README.md next to this file).

usage:
  python w3_roundtrip.py train [OUT_DIR]
      Trains the W3 CNN with BatchNorm (the network of `cnn_fashion_mnist --batchnorm`) on the
      vendored Fashion-MNIST subset for one epoch (seed 0, Adam lr 1e-3, batch 64), prints its
      accuracy on the subset's 1,000 test images, and writes to OUT_DIR (default: the fixture
      directory tests/data/pytorch-w3):
        w3_bn_torch.safetensors   the state dict, f32, PyTorch's names (strict-loadable)
        w3_bn_torch_eval.safetensors
                                  what PyTorch computed on the test images in eval mode:
                                  `logits` F32 [1000, 10], `predictions` I64 [1000],
                                  `accuracy` F64 [] (the printed figure)
  python w3_roundtrip.py check FILE [--expect ACCURACY]
      Loads a state dict saved by neurite (`cargo run --release --example pytorch_roundtrip --
      --save FILE`) into the same PyTorch model with load_state_dict(strict=True), evaluates it
      on the test images and prints the accuracy; with --expect, exits 1 unless it equals
      ACCURACY (what neurite printed for the file) within one prediction in a thousand.

Needs torch, numpy and safetensors (the peers' environment `~/.venv-peers` has them).
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SUBSET = os.path.join(ROOT, "tests", "data", "fashion-mnist-subset")
FIXTURE = os.path.join(ROOT, "tests", "data", "pytorch-w3")


def idx(path):
    """An IDX file (gzipped) as a numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * (dims - 1), data[8 : 4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape((count,) + shape)


def load(split):
    """Images [N, 1, 28, 28] scaled to [0, 1] (as neurite's load_mnist) and labels."""
    prefix = "train" if split == "train" else "t10k"
    x = idx(os.path.join(SUBSET, f"{prefix}-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    y = idx(os.path.join(SUBSET, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def network():
    """W3 with a BatchNorm2d after each convolution; indices as neurite's Sequential names them."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),   # 0
        nn.BatchNorm2d(16),               # 1
        nn.ReLU(),                        # 2
        nn.MaxPool2d(2),                  # 3
        nn.Conv2d(16, 32, 3, padding=1),  # 4
        nn.BatchNorm2d(32),               # 5
        nn.ReLU(),                        # 6
        nn.MaxPool2d(2),                  # 7
        nn.Flatten(),                     # 8
        nn.Linear(32 * 7 * 7, 128),       # 9
        nn.ReLU(),                        # 10
        nn.Linear(128, 10),               # 11
    )


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    logits = torch.cat([model(x[i : i + 500]) for i in range(0, len(x), 500)])
    pred = logits.argmax(1)
    return logits, pred, (pred == y).double().mean().item()


def train(out_dir):
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    x, y = load("train")
    xt, yt = load("test")
    model = network()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    for i in range(0, len(x), 64):
        b = order[i : i + 64]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[b]), y[b])
        loss.backward()
        opt.step()
    logits, pred, acc = evaluate(model, xt, yt)
    os.makedirs(out_dir, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out_dir, "w3_bn_torch.safetensors"))
    save_file(
        {
            "logits": logits.float().contiguous(),
            "predictions": pred.to(torch.int64).contiguous(),
            "accuracy": torch.tensor(acc, dtype=torch.float64),
        },
        os.path.join(out_dir, "w3_bn_torch_eval.safetensors"),
    )
    print(f"pytorch {torch.__version__}: trained 1 epoch on {len(x)} images (last batch loss {loss.item():.4f})")
    print(f"test accuracy {acc:.4f} on {len(xt)} images")
    print(f"result: torch_accuracy={acc:.4f}")


def check(path, expect):
    xt, yt = load("test")
    model = network()
    state = load_file(path)
    dtypes = sorted({str(v.dtype) for v in state.values()})
    # strict=True: every name of the model present, nothing else; shapes must agree.
    model.load_state_dict(state, strict=True)
    _, _, acc = evaluate(model, xt, yt)
    bn = model[1]
    print(f"pytorch {torch.__version__}: loaded {path} with load_state_dict(strict=True) "
          f"({len(state)} tensors, {', '.join(dtypes)}; 1.num_batches_tracked = {int(bn.num_batches_tracked)})")
    print(f"test accuracy {acc:.4f} on {len(xt)} images")
    print(f"result: torch_accuracy={acc:.4f}")
    if expect is not None and abs(acc - expect) > 1.0 / len(xt) + 1e-9:
        sys.exit(f"accuracy {acc:.4f} in PyTorch, neurite printed {expect:.4f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("out_dir", nargs="?", default=FIXTURE)
    c = sub.add_parser("check")
    c.add_argument("file")
    c.add_argument("--expect", type=float)
    a = p.parse_args()
    torch.set_num_threads(1)
    if a.cmd == "train":
        train(a.out_dir)
    else:
        check(a.file, a.expect)


if __name__ == "__main__":
    main()
