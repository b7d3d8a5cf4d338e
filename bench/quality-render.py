#!/usr/bin/env python3
"""Renders bench/quality's records as markdown tables.

usage: quality-render.py RECORDS PUBLISHED COMMAND OPTIONS MACHINE PARAMS
RECORDS: tab-separated lines `kind set table column row value` written by
bench/quality (kind: psnr, time in s/MP, info, sheet); PUBLISHED:
bench/published.tsv (set method level psnr)."""
import sys
from collections import OrderedDict

rec_path, pub_path, command, options, machine, params = sys.argv[1:7]

psnr = OrderedDict()   # (set, table) -> column -> row -> value
times = {}             # (set, table, column) -> s/MP
info = {}              # (set, what) -> value: images, set size
sheets = []            # (set, model, file)
details = []           # (what, file)
dpsnr = OrderedDict()  # crop -> method -> PSNR of the fine-detail crops
for line in open(rec_path):
    f = line.rstrip("\n").split("\t")
    if len(f) != 6:
        continue
    kind, s, table, col, row, val = f
    if kind == "psnr":
        psnr.setdefault((s, table), OrderedDict()).setdefault(col, {})[row] = val
    elif kind == "time":
        times[(s, table, col)] = val
    elif kind == "info":
        info[(s, col)] = val
    elif kind == "sheet":
        sheets.append((s, col, val))
    elif kind == "detail":
        details.append((col, val))
    elif kind == "dpsnr":  # table: the crop, col: the method
        dpsnr.setdefault(table, OrderedDict())[col] = val

published = OrderedDict()  # set -> method -> level -> psnr
for line in open(pub_path):
    if line.startswith("#") or not line.strip():
        continue
    s, m, level, p = line.rstrip("\n").split("\t")
    published.setdefault(s, OrderedDict()).setdefault(m, {})[level] = p


def fmt(v):
    try:
        return "%.2f" % float(v)
    except (TypeError, ValueError):
        return "–"


def images(s):
    n, total = info.get((s, "images"), "?"), info.get((s, "set size"), "?")
    return "%s images" % n if n == total else "the first %s of %s images" % (n, total)


def row(cells):
    return "| " + " | ".join(cells) + " |"


out = ["# Quality on the standard benchmarks", ""]
out.append("Produced by `%s` (%s) on %s." % (command, options, machine))
out.append("")
out.append("Sets, protocols and published figures: `../shared/benchmarks/README.md`. "
           "Published columns are the papers' figures under the standard protocol, "
           "not measured here, and over the whole set: where a set was cut to its "
           "first images, compare with care. Time: wall-clock seconds per megapixel of each method "
           "in this run, one image at a time, each program on all cores of a shared "
           "machine (a ratio between methods, not an absolute speed).")
out.append("")
plines = [l[1:].strip() for l in open(params)
          if l.startswith("#") and not l.startswith("# method")]
if plines:
    out.append("Peer parameters (`%s`): %s" % (params, " ".join(plines)))
    out.append("")

gray_sets = ("Set12", "BSD68")
denoise_sets = [k for k in psnr if k[1] in ("standard", "file")]
sr_sets = [k for k in psnr if k[1] in ("given", "means")]

if denoise_sets:
    out += ["## Denoising (PSNR dB, peak 1, mean over the set)", ""]
for s in OrderedDict((k[0], 1) for k in denoise_sets):
    kind = "gray" if s in gray_sets else "colour"
    out += ["### %s (%s, %s)" % (s, images(s), kind), ""]
    for table, title in (("standard", "Standard protocol: float noise, not clipped"),
                         ("file", "File protocol: the noisy image clipped, a 16-bit PNG every "
                          "method reads; gegl:denoise-dct told the true sigma, G'MIC with the "
                          "tuned parameters, ours blind")):
        cols = psnr.get((s, table))
        if not cols:
            continue
        pub = published.get(s, {}) if table == "standard" else {}
        sigmas = sorted({r for c in cols.values() for r in c}, key=float)
        names = list(cols)
        out += [title + ":", ""]
        out.append(row(["sigma"] + names + ["%s (published)" % m for m in pub]))
        out.append(row(["---"] * (1 + len(names) + len(pub))))
        for sg in sigmas:
            out.append(row([sg] + [fmt(cols[c].get(sg)) for c in names]
                           + [fmt(pub[m].get(sg)) for m in pub]))
        out.append(row(["s/MP"] + ["" if c == "noisy" else fmt(times.get((s, table, c)))
                                   for c in names] + [""] * len(pub)))
        out.append("")

if sr_sets:
    out += ["## Upscaling (PSNR dB on BT.601 luma, 16..235, F pixels shaved at each border, "
            "8-bit results)", ""]
for s in OrderedDict((k[0], 1) for k in sr_sets):
    out += ["### %s (%s)" % (s, images(s)), ""]
    pub = published.get(s, {})
    names = list(OrderedDict((c, 1) for t in ("given", "means") for c in psnr.get((s, t), {})))
    out.append(row(["input"] + names + ["%s (published)" % m for m in pub]))
    out.append(row(["---"] * (1 + len(names) + len(pub))))
    for t, title in (("given", "the provided LR (bicubic)"), ("means", "block means of the HR")):
        cols = psnr.get((s, t), {})
        if not cols:
            continue
        out.append(row([title] + [fmt(cols.get(c, {}).get("-")) for c in names]
                       + [fmt(pub[m].get("-")) if t == "given" else "" for m in pub]))
    for t, title in (("given", "s/MP, provided LR"), ("means", "s/MP, block means")):
        if (s, t) in psnr:
            out.append(row([title] + [fmt(times.get((s, t, c))) for c in names] + [""] * len(pub)))
    out.append("")

if sheets:
    out += ["## Real noise (no ground truth: judge by eye)", ""]
    for s, model, f in sheets:
        out += ["%s: centre crops; the noisy image, %s (blind), and gegl:denoise-dct told "
                "the sigma our estimate reports (%s)." % (s, model, images(s)), "", "![%s](%s)" % (s, f), ""]

for what, f in details:
    out += ["## Fine detail at 100%% (%s)" % what, "",
            "256x256 crops with small text and fine texture (`DETAIL_CROPS` in bench/quality): "
            "the noisy crop, ours (blind), gegl:denoise-dct told the sigma, the clean crop; "
            "PSNR in the labels and below.", "", "![fine detail](%s)" % f, ""]
    methods = list(OrderedDict((m, 1) for d in dpsnr.values() for m in d))
    if dpsnr:
        out.append(row(["crop"] + methods))
        out.append(row(["---"] * (len(methods) + 1)))
        for crop, d in dpsnr.items():
            out.append(row([crop] + [fmt(d.get(m)) for m in methods]))
        out.append("")

print("\n".join(out).rstrip("\n"))
