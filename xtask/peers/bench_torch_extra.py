"""PyTorch CPU peer of the `cargo xtask bench` workloads that ../shared/peers/bench_torch.py does
not have: W7-batchnorm-train (BatchNorm2d(32), training mode, forward + backward of a fixed
upstream gradient on [64, 32, 14, 14] float32). Timed like the xtask harness: one warm-up
repeat, then 7 repeats of 200 steps; prints one JSON line per workload in the xtask format.

Run (T = thread count), right after `cargo xtask bench --only W7 --threads T`:

    OMP_NUM_THREADS=T ~/.venv-peers/bin/python xtask/peers/bench_torch_extra.py T W7
"""
import json
import statistics
import sys
import time

try:
    import torch
except ImportError:
    print("# torch is not installed: skipped")
    sys.exit(0)

T = int(sys.argv[1]) if len(sys.argv) > 1 else 1
WANT = set(sys.argv[2:]) or {"W7"}
torch.set_num_threads(T)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass
torch.manual_seed(7)
REPEATS = 7
print(f"# torch {torch.__version__} threads={torch.get_num_threads()}", flush=True)


def harness(name, metric, one_repeat):
    one_repeat()  # warm-up
    figures = sorted(one_repeat() for _ in range(REPEATS))
    print(json.dumps({"workload": name, "threads": T, "metric": metric,
                      "median": round(statistics.median(figures), 1), "min": round(figures[0], 1),
                      "max": round(figures[-1], 1), "runs": REPEATS,
                      "peer": f"pytorch {torch.__version__}"}), flush=True)


if "W7" in WANT:
    x = torch.randn(64, 32, 14, 14) * 2.0 + 0.5
    r = torch.randn(64, 32, 14, 14)
    bn = torch.nn.BatchNorm2d(32).train()
    STEPS = 200

    def w7():
        t0 = time.perf_counter()
        for _ in range(STEPS):
            xv = x.detach().requires_grad_(True)
            y = bn(xv)
            y.backward(r)
            bn.weight.grad = None
            bn.bias.grad = None
        return STEPS / (time.perf_counter() - t0)

    harness("W7-batchnorm-train", "batches_per_s", w7)
