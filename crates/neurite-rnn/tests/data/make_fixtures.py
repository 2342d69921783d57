"""Generates the PyTorch reference fixtures of neurite-rnn's tests (run once, output vendored).

    ~/.venv-peers/bin/python make_fixtures.py     # torch 2.15.0, CPU

For each layer type: `<kind>.safetensors` holds the weights of a 2-layer bidirectional
nn.LSTM / nn.GRU / nn.RNN (state_dict names), `<kind>_io.safetensors` an input batch with
lengths, initial states and PyTorch's outputs (packed sequences, padded back with zeros).
Written in the safetensors layout by hand so that no extra package is needed.
"""
import json
import struct

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


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
T, B, I, H, L = 6, 3, 5, 4, 2
lengths = torch.tensor([6, 2, 4])
for kind, make in [
    ("lstm", lambda: torch.nn.LSTM(I, H, num_layers=L, bidirectional=True)),
    ("gru", lambda: torch.nn.GRU(I, H, num_layers=L, bidirectional=True)),
    ("rnn_tanh", lambda: torch.nn.RNN(I, H, num_layers=L, bidirectional=True, nonlinearity="tanh")),
    ("rnn_relu", lambda: torch.nn.RNN(I, H, num_layers=L, bidirectional=True, nonlinearity="relu")),
]:
    m = make()
    save(f"{kind}.safetensors", dict(m.state_dict()))
    x = torch.randn(T, B, I)
    h0 = torch.randn(L * 2, B, H)
    c0 = torch.randn(L * 2, B, H)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    with torch.no_grad():
        if kind == "lstm":
            out, (hn, cn) = m(packed, (h0, c0))
        else:
            out, hn = m(packed, h0)
    out, _ = pad_packed_sequence(out, total_length=T)
    io = {"x": x, "lengths": lengths.float(), "h0": h0, "output": out, "h_n": hn}
    if kind == "lstm":
        io["c0"] = c0
        io["c_n"] = cn
    save(f"{kind}_io.safetensors", io)
print("ok")
