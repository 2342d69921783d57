"""Generates the PyTorch reference fixture of neurite-cnn's training test (run once, output vendored).

    ~/.venv-peers/bin/python make_fixtures.py     # torch 2.15.0, CPU

`train_init.safetensors`: the initial state_dict of a small CNN (Sequential indices as names);
`train_io.safetensors`: STEPS mini-batches of inputs and labels, the cross-entropy loss PyTorch
computed at each step, and the parameters after STEPS steps of Adam (lr 1e-2) — the final
parameters are stored with a `final.` prefix. Written in the safetensors layout by hand so that
no extra package is needed.
"""
import json
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
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
