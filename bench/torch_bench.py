#!/usr/bin/python3
"""The same cases as bench.c, in PyTorch (optional reference, never a
dependency): forward of the reference BF-CNNs and a training step
(forward + backward + Adam), same shapes, same thread count.
usage: /usr/bin/python3 bench/torch_bench.py THREADS [REPEATS [FILTER]]
(FILTER: only the cases whose name contains it)"""
import sys
import time

try:
    import torch
except ImportError:
    print("torch: not installed (python3-torch); PyTorch rows skipped")
    sys.exit(0)


class BFBatchNorm(torch.nn.Module):
    """Bias-free batch norm as in the reference code."""

    def __init__(self, c):
        super().__init__()
        self.register_buffer("running_sd", torch.ones(1, c, 1, 1))
        self.gammas = torch.nn.Parameter(torch.ones(1, c, 1, 1))

    def forward(self, x):
        if self.training:
            sd = torch.sqrt(x.var(dim=(0, 2, 3), keepdim=True, unbiased=False) + 1e-5)
            with torch.no_grad():
                self.running_sd.copy_(0.9 * self.running_sd + 0.1 * sd)
            return x / sd * self.gammas
        return x / self.running_sd * self.gammas


class BFCNN(torch.nn.Module):
    def __init__(self, cin, cout, kernels, width=64):
        super().__init__()
        L = len(kernels)
        self.convs = torch.nn.ModuleList()
        self.bns = torch.nn.ModuleList()
        for l, k in enumerate(kernels):
            i = cin if l == 0 else width
            o = cout if l == L - 1 else width
            self.convs.append(torch.nn.Conv2d(i, o, k, padding=k // 2, bias=False))
            if 0 < l < L - 1:
                self.bns.append(BFBatchNorm(width))

    def forward(self, x):
        x = self.convs[0](x)
        for l in range(1, len(self.convs) - 1):
            x = torch.relu(self.bns[l - 1](self.convs[l](x)))
        return self.convs[-1](x)


def rf_kernels(rf, L=21):
    R = 8.0 if rf == 9 else float(rf)
    step = (L - 1) / ((R - 1) / 2 - 1)
    return [3] + [3 if l % step == 0 else 1 for l in range(1, L - 1)] + [3]


def macs(net, n, h, w):
    return sum(c.in_channels * c.out_channels * c.kernel_size[0] ** 2 for c in net.convs) * n * h * w


def best_of(reps, fn):
    fn()  # warm up
    best = 1e30
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def report(name, shape, sec, flops):
    print(f"{name:<22} {shape:<14} {sec * 1e3:9.2f} ms {flops / sec / 1e9:8.1f} GFLOP/s")
    sys.stdout.flush()


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    wanted = sys.argv[3] if len(sys.argv) > 3 else ""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    cases = [("infer low (20x 3x3)", 1, 1, [3] * 20),
             ("infer cond RF13", 4, 3, rf_kernels(13)),
             ("infer cond RF43", 4, 3, rf_kernels(43)),
             ("infer colour RF13", 12, 9, rf_kernels(13))]
    with torch.no_grad():
        for name, cin, cout, k in cases:
            if wanted not in name:
                continue
            net = BFCNN(cin, cout, k).eval()
            x = torch.rand(1, cin, 256, 256)
            t = best_of(reps, lambda: net(x))
            report(name, f"1x{cin}x256x256", t, 2 * macs(net, 1, 256, 256))
    for name, n, cin, cout, k, hw in [("train cond RF13", 32, 4, 3, rf_kernels(13), 40),
                                      ("train low", 32, 1, 1, [3] * 20, 40),
                                      ("train RGB cond RF13", 32, 12, 9, rf_kernels(13), 64),
                                      ("train RGB low", 16, 3, 3, [3] * 20, 64)]:
        if wanted not in name:
            continue
        net = BFCNN(cin, cout, k).train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        x = torch.rand(n, cin, hw, hw)
        target = torch.zeros(n, cout, hw, hw)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x), target)
            loss.backward()
            opt.step()

        t = best_of(reps, step)
        report(name, f"{n}x{cin}x{hw}x{hw}", t, 3 * 2 * macs(net, n, hw, hw))


if __name__ == "__main__":
    main()
