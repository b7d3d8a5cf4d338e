#!/bin/bash
# Data-parallel training across MPI ranks: a step of the paper's
# conditional net (preset paper, --only cond0: 64 channels, 21 layers,
# crops of 40x40, global batch 64) timed here on 1 and 2 ranks (one thread
# each), the step time of one rank at the batch share of 8-64 ranks, and a
# model of the rest: ring allreduce of the gradient plus the latency of the
# small batch-norm sums, on 10 and 100 Gbit/s networks.
# Writes bench/results/mpi.md.
# usage: bench/mpi-scaling.sh [BUILD_DIR]   (STEPS=5 timed steps per case)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
STEPS=${STEPS:-5}
OUT=bench/results/mpi.md
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# Waiting ranks yield their core instead of spinning (cores are shared).
export OMPI_MCA_mpi_yield_when_idle=1
load0=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$T/imgs"
for i in 0 1 2 3; do "$B/tests/wp_synth" "$T/imgs/s$i.png" 256 256 1 "$i"; done
RUN=(train --preset paper --only cond0 --threads 1 --val-every 0 --log-every 1
     --max-steps $((STEPS + 1)) --data "$T/imgs" -q)

# step_time LOG: the median of the timed steps (the first one warms up).
step_time() {
    grep -o '"seconds":[0-9.e+-]*' "$1" | cut -d: -f2 |
        awk 'NR > 1 { d[++n] = $1 - p } { p = $1 }
             END { asort(d); print (n % 2 ? d[(n + 1) / 2] : (d[n / 2] + d[n / 2 + 1]) / 2) }'
}
# one BATCH: seconds per step of one process at that batch.
one() {
    "$B/cli/wprior" "${RUN[@]}" --batch "$1" -o "$T/b$1.safetensors" 2>/dev/null
    step_time "$T/b$1.safetensors.log.jsonl"
}
declare -A t1
for b in 64 32 8 4 2 1; do t1[$b]=$(one $b); echo "1 rank, batch $b: ${t1[$b]} s/step"; done
mpirun -np 2 --oversubscribe --bind-to none "$B/cli/wprior" "${RUN[@]}" --batch 64 \
    -o "$T/r2.safetensors" 2>/dev/null
t2=$(step_time "$T/r2.safetensors.log.jsonl")
echo "2 ranks, batch 64: $t2 s/step"
# The control: two independent processes of 32 crops at once, no MPI. What
# two cores give two processes here is the best 2 ranks can do.
"$B/cli/wprior" "${RUN[@]}" --batch 32 -o "$T/pa.safetensors" 2>/dev/null &
"$B/cli/wprior" "${RUN[@]}" --batch 32 -o "$T/pb.safetensors" 2>/dev/null
wait
tp=$(printf '%s\n%s\n' "$(step_time "$T/pa.safetensors.log.jsonl")" \
    "$(step_time "$T/pb.safetensors.log.jsonl")" | sort -g | tail -n 1)
echo "2 plain processes of 32 at once: $tp s/step"
load1=$(cut -d' ' -f1-3 /proc/loadavg)
params=$("$B/cli/wprior" info "$T/b1.safetensors" | awk '$2 == "cond0" { for (i = 1; i < NF; i++) if ($i == "params") print $(i + 1) }')
layers=$("$B/cli/wprior" info "$T/b1.safetensors" | awk '$2 == "cond0" { for (i = 1; i < NF; i++) if ($i == "layers") print $(i + 1) }')

/usr/bin/python3 - "$OUT" "$params" "$layers" "$t2" "$STEPS" "$load0" "$load1" "$tp" \
    "${t1[64]}" "${t1[32]}" "${t1[8]}" "${t1[4]}" "${t1[2]}" "${t1[1]}" <<'PY'
import math, os, platform, subprocess, sys
out, params, layers, t2, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
load0, load1, tp = sys.argv[6], sys.argv[7], float(sys.argv[8])
t1 = dict(zip([64, 32, 8, 4, 2, 1], map(float, sys.argv[9:15])))
B = 64
grad = 4 * params                      # one float32 sum over the flat gradient
small = 3 * (layers - 2) + 2           # BN: 2 forward + 1 backward a layer; loss; stop vote
nets = {"10 Gbit/s Ethernet (TCP, 30 us latency)": (10e9 / 8, 30e-6),
        "100 Gbit/s InfiniBand/RoCE (2 us latency)": (100e9 / 8, 2e-6)}

def comm(n, bw, lat):
    ring = 2 * (n - 1) / n * grad / bw + 2 * (n - 1) * lat   # reduce-scatter + allgather
    tiny = small * math.ceil(math.log2(n)) * lat              # recursive doubling
    return ring, tiny

cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
ompi = subprocess.run(["sh", "-c", "mpirun --version | head -1 | awk '{print $NF}'"],
                      capture_output=True, text=True).stdout.strip()
env = {k: os.environ.get(k, "unset") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
L = []
L.append("# Training across MPI ranks: measured and predicted scaling\n")
L.append("Written by `bench/mpi-scaling.sh` (median of %s timed steps a case, after one "
         "warm-up step). CPU: %s, %d online cores shared with other jobs (load average %s at the "
         "start, %s at the end); OPENBLAS_CORETYPE=%s, OPENBLAS_L2_SIZE=%s; one thread per rank; "
         "Open MPI %s.\n" %
         (steps, cpu, os.cpu_count(), load0, load1, env["OPENBLAS_CORETYPE"],
          env["OPENBLAS_L2_SIZE"], ompi))
L.append("The net: the paper's conditional network (`--preset paper --only cond0`: %d layers, "
         "64 channels, %d parameters, a %d KiB float32 gradient), crops of 40x40, a global batch "
         "of %d.\n" % (layers, params, grad // 1024, B))
L.append("## Measured here\n")
L.append("| ranks | crops a rank | s/step | speed-up |")
L.append("|---|---|---|---|")
L.append("| 1 | 64 | %.3f | 1.00 |" % t1[64])
L.append("| 2 (`mpirun -np 2`) | 32 | %.3f | %.2f |" % (t2, t1[64] / t2))
L.append("| 2 plain processes at once (no MPI, the control) | 32 each | %.3f | %.2f |" %
         (tp, t1[64] / tp))
L.append("")
L.append("One process with 32 crops takes %.3f s a step alone, but %.3f s when two such "
         "processes run at once with no MPI at all: this machine's two cores give two processes "
         "%.2f times the work of one, so %.2f is the best 2 ranks can do here. The ranks' own "
         "cost, their %d sums a step (shared memory), is what 2 ranks take beyond the control: "
         "%.3f s a step." %
         (t1[32], tp, 2 * t1[32] / tp, t1[64] / tp, small + 1, t2 - tp))
L.append("")
L.append("One rank's step at the batch share of N ranks (the compute term of the model):\n")
L.append("| crops | s/step | s/crop |")
L.append("|---|---|---|")
for b in (64, 32, 8, 4, 2, 1):
    L.append("| %d | %.3f | %.4f |" % (b, t1[b], t1[b] / b))
L.append("")
per_crop = [t1[b] / b for b in t1]
L.append("The convolutions run image by image, so a step's compute is its crops times the time "
         "of one; measured here a crop took %.3f-%.3f s over these batches, the scatter of a "
         "machine whose cores other jobs share (the shortest steps scatter most). The model "
         "below takes the time a crop of the longest, steadiest case (batch 64): %.4f s.\n" %
         (min(per_crop), max(per_crop), t1[64] / 64))
L.append("## Predicted for 8-64 ranks\n")
L.append("T(N) = t1(64) / N + ring + small, speed-up t1(64)/T(N). t1(64): measured above (one "
         "rank is one core like this one). ring: the gradient's allreduce, 2 (N-1)/N x %d KiB / "
         "bandwidth + 2 (N-1) x latency. small: %d latency-bound sums a step (batch-norm "
         "statistics forward and backward in %d layers, the loss, the stop vote), "
         "ceil(log2 N) x latency each. Bandwidths and latencies are assumptions for typical "
         "networks, not measurements.\n" % (grad // 1024, small, layers - 2))
for name, (bw, lat) in nets.items():
    L.append("### %s\n" % name)
    L.append("| ranks | crops a rank | compute s | gradient allreduce ms | small sums ms | "
             "step s | speed-up | efficiency | speed-up, ranks 16x faster |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for n in (8, 16, 32, 64):
        c = t1[B] / n
        ring, tiny = comm(n, bw, lat)
        step = c + ring + tiny
        fast = (t1[B] / 16) / (c / 16 + ring + tiny)
        L.append("| %d | %d | %.3f | %.2f | %.2f | %.3f | %.1f | %.0f%% | %.1f |" %
                 (n, B // n, c, ring * 1e3, tiny * 1e3, step, t1[B] / step,
                  100 * t1[B] / step / n, fast))
    L.append("")
L.append("Reading: with a rank as fast as one core here, the %d KiB gradient is "
         "milliseconds against a compute of %.0f ms or more (one crop), on either network: "
         "the speed-up stays near N up to 64 ranks (one crop each). The last column divides the compute by 16 "
         "(a rank on a many-core node): there the 10 Gbit/s network's latency of the %d small "
         "sums shows, and overlapping the gradient's allreduce with the backward pass "
         "(not done: it would need per-layer hooks in the net's backward) would win at most "
         "the ring column.\n" % (grad // 1024, 1e3 * t1[B] / B, small))
open(out, "w").write("\n".join(L))
print("\n".join(L))
PY
