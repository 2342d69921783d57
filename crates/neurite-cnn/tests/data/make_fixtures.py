"""Generates the PyTorch reference fixtures of neurite-cnn's tests (run once, output vendored).

    ~/.venv-peers/bin/python make_fixtures.py     # torch 2.15.0, CPU

`train_init.safetensors`: the initial state_dict of a small CNN (Sequential indices as names);
`train_io.safetensors`: STEPS mini-batches of inputs and labels, the cross-entropy loss PyTorch
computed at each step, and the parameters after STEPS steps of Adam (lr 1e-2) — the final
parameters are stored with a `final.` prefix.

`pooling.safetensors` (f64): max and average pooling, 1-D and 2-D, with stride, padding,
dilation, ceil_mode and count_include_pad. Case i has `case{i}.config` (I64: dims, is_max,
kernel h w, stride h w, padding h w, dilation h w, ceil_mode, count_include_pad; 1-D cases use
the w entries), `case{i}.x`, `case{i}.y` (the pooled output), `case{i}.dy` (an upstream
gradient), `case{i}.dx` (the input gradient) and, for max, `case{i}.indices` (I64, flat
in-plane). `sizes` (I64, one row per random 1-D configuration: length, kernel, stride, padding,
dilation, ceil_mode, is_max, then PyTorch's output length or -1 where PyTorch refuses it).

Written in the safetensors layout by hand so that no extra package is needed. (Re-running it
on another CPU may change the training fixture in its last float bits; the vendored one is the
original.)
"""
import json
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save(path, tensors, keep_dtype=False):
    """Float tensors as F32, or (keep_dtype) F32, F64 and I64 tensors as they are."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if not keep_dtype:
            t = t.to(torch.float32)
        b = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


torch.manual_seed(0)
torch.set_num_threads(1)
STEPS, B = 12, 16
model = nn.Sequential(
    nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(24, 10))
save("train_init.safetensors", dict(model.state_dict()))
x = torch.rand(STEPS, B, 1, 8, 8)
y = torch.randint(0, 10, (STEPS, B))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for s in range(STEPS):
    opt.zero_grad()
    loss = F.cross_entropy(model(x[s]), y[s])
    loss.backward()
    opt.step()
    losses.append(loss.item())
io = {"x": x, "labels": y.float(), "losses": torch.tensor(losses)}
for k, v in model.state_dict().items():
    io[f"final.{k}"] = v
save("train_io.safetensors", io)
print("ok", losses[0], losses[-1])


# Pooling: fixed cases through the layers (values, indices, input gradients) ...
torch.manual_seed(1)
POOL_CASES = [
    # dims, is_max, kernel, stride, padding, dilation, ceil_mode, count_include_pad, input shape
    (2, 1, (2, 2), (2, 2), (0, 0), (1, 1), 1, 1, (2, 3, 7, 5)),
    (2, 1, (3, 3), (2, 2), (1, 1), (1, 1), 1, 1, (1, 2, 8, 6)),
    (2, 1, (3, 2), (2, 1), (1, 0), (2, 3), 1, 1, (2, 2, 9, 8)),
    (2, 1, (2, 3), (3, 2), (0, 1), (2, 1), 0, 1, (1, 3, 8, 7)),
    (1, 1, (1, 3), (1, 2), (0, 1), (1, 2), 1, 1, (2, 3, 10)),
    (1, 1, (1, 4), (1, 3), (0, 0), (1, 1), 1, 1, (1, 2, 3)),
    (2, 0, (3, 3), (2, 2), (1, 1), (1, 1), 1, 1, (2, 2, 6, 7)),
    (2, 0, (3, 3), (2, 2), (1, 1), (1, 1), 1, 0, (2, 2, 6, 7)),
    (2, 0, (2, 3), (2, 2), (1, 0), (1, 1), 1, 1, (1, 3, 5, 8)),
    (2, 0, (3, 2), (3, 1), (0, 1), (1, 1), 0, 0, (1, 2, 7, 4)),
    (1, 0, (1, 3), (1, 2), (0, 1), (1, 1), 1, 1, (2, 2, 6)),
    (1, 0, (1, 2), (1, 2), (0, 1), (1, 1), 1, 0, (1, 3, 1)),
    (1, 0, (1, 4), (1, 3), (0, 0), (1, 1), 1, 1, (2, 1, 3)),
    (1, 0, (1, 5), (1, 3), (0, 2), (1, 1), 1, 1, (1, 2, 9)),
]
pool = {}
for i, (dims, is_max, k, st, p, d, ceil, inc, shape) in enumerate(POOL_CASES):
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    if dims == 1:
        k, st, p, d = k[1], st[1], p[1], d[1]
        if is_max:
            y, idx = F.max_pool1d(x, k, st, p, d, ceil_mode=bool(ceil), return_indices=True)
        else:
            y = F.avg_pool1d(x, k, st, p, ceil_mode=bool(ceil), count_include_pad=bool(inc))
    else:
        if is_max:
            y, idx = F.max_pool2d(x, k, st, p, d, ceil_mode=bool(ceil), return_indices=True)
        else:
            y = F.avg_pool2d(x, k, st, p, ceil_mode=bool(ceil), count_include_pad=bool(inc))
    dy = torch.randn_like(y)
    (dx,) = torch.autograd.grad(y, x, dy)
    cfg = POOL_CASES[i]
    flat = [dims, is_max, *cfg[2], *cfg[3], *cfg[4], *cfg[5], ceil, inc]
    pool[f"case{i}.config"] = torch.tensor(flat, dtype=torch.int64)
    pool[f"case{i}.x"], pool[f"case{i}.y"] = x, y
    pool[f"case{i}.dy"], pool[f"case{i}.dx"] = dy, dx
    if is_max:
        pool[f"case{i}.indices"] = idx

# ... and PyTorch's output lengths (or refusals) on random 1-D configurations.
gen = torch.Generator().manual_seed(2)
rows = []
while len(rows) < 600:
    n, k, s, p, d = (int(torch.randint(lo, hi, (1,), generator=gen)) for lo, hi in
                     [(1, 40), (1, 9), (1, 7), (0, 5), (1, 5)])
    ceil, is_max = (int(torch.randint(0, 2, (1,), generator=gen)) for _ in range(2))
    if not is_max:
        d = 1  # PyTorch's AvgPool has no dilation
    x = torch.zeros(1, 1, n, dtype=torch.float64)
    try:
        if is_max:
            out = F.max_pool1d(x, k, s, p, d, ceil_mode=bool(ceil)).shape[-1]
        else:
            out = F.avg_pool1d(x, k, s, p, ceil_mode=bool(ceil)).shape[-1]
    except RuntimeError:
        out = -1
    rows.append([n, k, s, p, d, ceil, is_max, out])
pool["sizes"] = torch.tensor(rows, dtype=torch.int64)
save("pooling.safetensors", pool, keep_dtype=True)
print("pooling ok", len(POOL_CASES), "cases,", sum(r[-1] < 0 for r in rows), "of", len(rows), "sizes refused")
