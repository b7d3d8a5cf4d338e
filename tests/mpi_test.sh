#!/bin/bash
# `mpirun wprior train` on one machine (2-4 ranks, --oversubscribe, one
# thread each): the same losses as one process, a checkpoint written by 4
# ranks resumed on 1 and on 2, and kill -9 of a rank (0, the writer, and
# 1): the job ends, and its checkpoint is whole, no older than
# --checkpoint-every and resumes (on 2 ranks) to the same losses.
# Usage: mpi_test.sh WPRIOR WP_SYNTH MPI_KIND (MPI or none: exit 77)
set -u
WPRIOR=$1
SYNTH=$2
[ "${3:-none}" = MPI ] || { echo "wprior built without MPI: skipped"; exit 77; }
command -v mpirun >/dev/null || { echo "no mpirun: skipped"; exit 77; }
T=$(mktemp -d /tmp/wprior-mpi-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
source "$(dirname "$0")/lib.sh"
export OPENBLAS_NUM_THREADS=1
# CI runs as root; containers often forbid the cross-memory attach that
# Open MPI's shared-memory transport tries first.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=(mpirun --oversubscribe --bind-to none)

mkdir -p "$T/imgs"
for i in 0 1 2 3 4; do "$SYNTH" "$T/imgs/g$i.png" 48 40 1 "$i" || bad "wp_synth"; done
# Batch 4: 2 + 2 crops on 2 ranks, 1 each on 4.
TINY=(--preset tiny --threads 1 --seed 3 --log-every 1 --data "$T/imgs" -q)

# losses A B [FROM]: the largest relative difference of the losses the two
# JSON-lines logs both have (by total_step >= FROM), and how many.
losses() {
    awk -v from="${3:-0}" '
        { match($0, /"total_step":[0-9]+/); s = substr($0, RSTART + 13, RLENGTH - 13) + 0
          match($0, /"loss":[-0-9.e+]+/); l = substr($0, RSTART + 7, RLENGTH - 7) + 0 }
        FNR == NR { a[s] = l; next }
        (s in a) && s >= from { r = (l - a[s]) / a[s]; r = r < 0 ? -r : r; if (r > m) m = r; n++ }
        END { printf "%d %.3g\n", n, m }' "$1" "$2"
}
# within N_MIN A B [FROM]: at least N_MIN common steps, all within 1e-4.
within() {
    read -r n m < <(losses "$2" "$3" "${4:-0}")
    echo "$n steps, largest relative difference $m"
    [ "$n" -ge "$1" ] && awk -v m="$m" 'BEGIN { exit !(m < 1e-4) }'
}

# --- the same losses as one process ---
"$WPRIOR" train "${TINY[@]}" -o "$T/one.safetensors" 2>"$T/err" || bad "one process: $(cat "$T/err")"
if "${MPIRUN[@]}" -np 2 "$WPRIOR" train "${TINY[@]}" -o "$T/two.safetensors" 2>"$T/err"; then
    r=$(within 150 "$T/one.safetensors.log.jsonl" "$T/two.safetensors.log.jsonl") &&
        ok "2 ranks: the same losses as one process ($r)" || bad "2 ranks vs one: $r"
    [ -s "$T/two.safetensors" ] && [ ! -e "$T/two.safetensors.log.jsonl.1" ] &&
        ok "2 ranks: rank 0 wrote the model and the log" || bad "2 ranks: no model"
else
    bad "mpirun -np 2: $(tail -5 "$T/err")"
fi

# --- a checkpoint of 4 ranks resumes on 1 and on 2 ---
if "${MPIRUN[@]}" -np 4 "$WPRIOR" train "${TINY[@]}" --max-steps 60 -o "$T/four.safetensors" \
    2>"$T/err"; then
    for n in 1 2; do
        cp "$T/four.safetensors.ckpt" "$T/r$n.ckpt"
        run=("$WPRIOR")
        [ $n -gt 1 ] && run=("${MPIRUN[@]}" -np $n "$WPRIOR")
        if "${run[@]}" train --resume "$T/r$n.ckpt" -o "$T/r$n.safetensors" --log "$T/r$n.log" \
            --log-every 1 -q 2>"$T/err"; then
            r=$(within 90 "$T/one.safetensors.log.jsonl" "$T/r$n.log" 61) &&
                ok "4 ranks, resumed on $n: the losses of one process ($r)" ||
                bad "4 ranks resumed on $n: $r"
        else
            bad "resume on $n ranks: $(tail -5 "$T/err")"
        fi
    done
else
    bad "mpirun -np 4: $(tail -5 "$T/err")"
fi

# --- kill -9 of one rank ---
# rank_pid MPIRUN_PID RANK: the pid of that rank (a child of mpirun).
rank_pid() {
    for p in $(pgrep -P "$1"); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" &&
            echo "$p" && return
    done
}
# The unbroken reference: 300 steps a network on 2 ranks. Not one process:
# over hundreds of steps training amplifies the 1e-7 differences of the
# ranks' summation order into percents.
"${MPIRUN[@]}" -np 2 "$WPRIOR" train "${TINY[@]}" --steps 300 -o "$T/ref.safetensors" \
    2>"$T/err" || bad "reference run: $(cat "$T/err")"
EVERY=25
for rank in 1 0; do
    K=$T/kill$rank
    "${MPIRUN[@]}" -np 2 "$WPRIOR" train "${TINY[@]}" --steps 300 --checkpoint-every $EVERY \
        -o "$K.safetensors" 2>"$K.err" &
    mpid=$!
    for _ in $(seq 300); do # up to 30 s for 120 steps
        [ "$(cat "$K.safetensors.log.jsonl" 2>/dev/null | grep -c .)" -ge 120 ] && break
        sleep 0.1
    done
    victim=$(rank_pid $mpid $rank)
    [ -n "$victim" ] && kill -9 "$victim"
    for _ in $(seq 300); do kill -0 $mpid 2>/dev/null || break; sleep 0.1; done
    if kill -0 $mpid 2>/dev/null; then
        bad "kill -9 of rank $rank: the job still runs 30 s later"
        kill -9 $mpid
        continue
    fi
    wait $mpid
    rc=$?
    last=$(tail -1 "$K.safetensors.log.jsonl" | grep -o '"total_step":[0-9]*' | cut -d: -f2)
    if [ -z "$victim" ] || [ $rc -eq 0 ]; then
        bad "kill -9 of rank $rank: victim '${victim}', mpirun exit status $rc"
        continue
    fi
    # The checkpoint left behind resumes (on 2 ranks again) to the end.
    if "${MPIRUN[@]}" -np 2 "$WPRIOR" train --resume "$K.safetensors.ckpt" --log "$K.resumed" --log-every 1 -q \
        2>"$K.err2"; then
        first=$(head -1 "$K.resumed" | grep -o '"total_step":[0-9]*' | cut -d: -f2)
        lost=$((last - (first - 1)))
        [ "$lost" -ge 0 ] && [ "$lost" -le $EVERY ] &&
            ok "kill -9 of rank $rank at step $last: mpirun ended ($rc), checkpoint at step $((first - 1)) ($lost steps back, at most $EVERY)" ||
            bad "kill -9 of rank $rank: killed at step $last, checkpoint at $((first - 1))"
        r=$(within 500 "$T/ref.safetensors.log.jsonl" "$K.resumed") &&
            ok "kill -9 of rank $rank: the resumed run logs the unbroken run's losses ($r)" ||
            bad "kill -9 of rank $rank, resumed vs unbroken: $r"
    else
        bad "kill -9 of rank $rank: the checkpoint does not resume: $(tail -3 "$K.err2")"
    fi
done
finish
