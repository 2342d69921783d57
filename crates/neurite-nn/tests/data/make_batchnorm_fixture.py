"""Generates batchnorm.safetensors for tests/pytorch_batchnorm.rs (torch 2.15.0, CPU, float64).

For each case (BatchNorm2d on [6, 4, 5, 3], BatchNorm1d on [8, 5, 7] and on [8, 5]): PyTorch's
layer with random weight and bias runs two training steps (batch statistics; running estimates
updated with momentum 0.1 and the unbiased variance), then one evaluation step. For the first
training step and the evaluation step it records the output y and the gradients of
loss = sum(y * R) with respect to x, weight and bias; after the training steps, the buffers.

Run: python make_batchnorm_fixture.py   (writes batchnorm.safetensors next to this file)
"""
import os

import torch
from safetensors.torch import save_file

torch.manual_seed(0)
out = {}


def case(name, layer, shape):
    c = shape[1]
    layer = layer.double()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(c, dtype=torch.float64))
        layer.bias.copy_(torch.randn(c, dtype=torch.float64))
    out[f"{name}.init.weight"] = layer.weight.detach().clone()
    out[f"{name}.init.bias"] = layer.bias.detach().clone()
    x1 = torch.randn(*shape, dtype=torch.float64) * 2 + 1
    x2 = torch.randn(*shape, dtype=torch.float64) * 0.5 - 3
    r = torch.randn(*shape, dtype=torch.float64)
    out[f"{name}.x1"], out[f"{name}.x2"], out[f"{name}.r"] = x1, x2, r

    def step(x, tag):
        x = x.clone().requires_grad_(True)
        layer.zero_grad()
        y = layer(x)
        (y * r).sum().backward()
        out[f"{name}.{tag}.y"] = y.detach()
        out[f"{name}.{tag}.dx"] = x.grad.detach()
        out[f"{name}.{tag}.dweight"] = layer.weight.grad.detach().clone()
        out[f"{name}.{tag}.dbias"] = layer.bias.grad.detach().clone()

    layer.train()
    step(x1, "train")
    layer(x2)
    for k, v in layer.state_dict().items():
        out[f"{name}.after.{k}"] = v.detach().clone()
    layer.eval()
    step(x1, "eval")


case("bn2d", torch.nn.BatchNorm2d(4), (6, 4, 5, 3))
case("bn1d3", torch.nn.BatchNorm1d(5), (8, 5, 7))
case("bn1d2", torch.nn.BatchNorm1d(5), (8, 5))
save_file({k: v.contiguous() for k, v in out.items()},
          os.path.join(os.path.dirname(os.path.abspath(__file__)), "batchnorm.safetensors"))
print("torch", torch.__version__, "wrote", len(out), "tensors")
