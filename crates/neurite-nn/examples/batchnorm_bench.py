"""PyTorch's side of batchnorm_bench.rs: BatchNorm2d forward + backward on [64, 32, 14, 14]
float32 in training mode, median of REPS runs after a warm-up, on as many threads as neurite
uses (torch.set_num_threads). Run: python batchnorm_bench.py [threads]"""
import sys
import time

try:
    import torch
except ImportError:
    print("torch is not installed: skipped")
    sys.exit(0)

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.randn(64, 32, 14, 14)
r = torch.randn(64, 32, 14, 14)
bn = torch.nn.BatchNorm2d(32).train()
REPS = 200
times = []
for i in range(REPS + 20):
    t0 = time.perf_counter()
    xv = x.clone().requires_grad_(True)
    y = bn(xv)
    y.backward(r)
    if i >= 20:
        times.append((time.perf_counter() - t0) * 1e3)
times.sort()
print(f"torch {torch.__version__} BatchNorm2d fwd+bwd [64, 32, 14, 14] f32, {threads} threads: "
      f"median {times[len(times) // 2]:.3f} ms (min {times[0]:.3f})")
