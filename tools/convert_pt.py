#!/usr/bin/python3
"""convert_pt.py - convert the LCV authors' PyTorch model.pt files to safetensors.

Usage:
    /usr/bin/python3 tools/convert_pt.py IN.pt OUT.safetensors [--meta KEY=VALUE ...]
    /usr/bin/python3 tools/convert_pt.py --dir DIR [--meta KEY=VALUE ...]
    /usr/bin/python3 tools/convert_pt.py --selftest

The inputs are the released model.pt files of
LabForComputationalVision/local-probability-models-of-images: PyTorch pickles holding either a
state_dict or a dict with one inside it (under "state_dict", "model_state_dict", "model", ...).
Their BF_CNN nets have tensors conv_layers.{i}.weight, BN_layers.{k}.running_sd and
BN_layers.{k}.gammas.  The output keeps the same tensor names (minus a DataParallel "module."
prefix), shapes and values, stored as little-endian float32.  Non-floating tensors (e.g. a
num_batches_tracked counter) are left out with a warning.

--dir DIR converts every file named model.pt below DIR into model.safetensors next to it.
--meta KEY=VALUE adds string entries to the header's "__metadata__" (the input path is always
recorded as "source").  --selftest converts a small made-up state dict and checks the result.

The safetensors file is written by hand (no dependency on the safetensors package): an 8-byte
little-endian header length N, N bytes of JSON {name: {"dtype": "F32", "shape": [...],
"data_offsets": [begin, end]}, "__metadata__": {...}} padded with spaces to a multiple of 8,
then the raw tensor data.  Every written file is read back and compared before it is kept.

This is an optional developer tool needing PyTorch (Debian: python3-torch); nothing in the
project imports it.
"""

import argparse
import json
import os
import struct
import sys
import tempfile

import torch

STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "net", "network", "weights", "params")


def _is_tensor_dict(obj):
    return isinstance(obj, dict) and len(obj) > 0 and all(torch.is_tensor(v) for v in obj.values())


def find_state_dict(obj):
    """Return the state dict inside whatever torch.load produced."""
    if _is_tensor_dict(obj):
        return obj
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in STATE_DICT_KEYS:
            if key in obj:
                inner = obj[key]
                if isinstance(inner, torch.nn.Module):
                    inner = inner.state_dict()
                if _is_tensor_dict(inner):
                    return inner
        candidates = [v for v in obj.values() if _is_tensor_dict(v)]
        if len(candidates) == 1:
            return candidates[0]
        # a dict mixing tensors with other entries: keep its tensors
        tensors = {k: v for k, v in obj.items() if torch.is_tensor(v)}
        if tensors:
            return tensors
    raise ValueError("no state dict found (top-level type %s)" % type(obj).__name__)


def clean_state_dict(sd, warn=print):
    """Strip "module." prefixes, drop non-float tensors, convert to contiguous float32 on CPU."""
    out = {}
    for name, t in sd.items():
        if name.startswith("module."):
            name = name[len("module."):]
        if not torch.is_floating_point(t):
            warn("warning: skipping non-float tensor %s (%s)" % (name, t.dtype))
            continue
        if name in out:
            raise ValueError("duplicate tensor name after stripping 'module.': %s" % name)
        out[name] = t.detach().to("cpu", torch.float32).contiguous()
    if not out:
        raise ValueError("state dict holds no floating point tensors")
    return out


def tensor_bytes(t):
    return t.numpy().astype("<f4", copy=False).tobytes()


def write_safetensors(path, tensors, metadata):
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".convert_pt.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for data in blobs:
                f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_safetensors(path):
    """Parse a safetensors file with plain Python: returns (header without metadata, metadata,
    {name: (shape, raw little-endian bytes)})."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: too short" % path)
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError("%s: header length %d past end of file" % (path, n))
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    tensors = {}
    end_max = 0
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError("%s: %s has dtype %s, expected F32" % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        if not (0 <= begin <= end <= len(data)) or end - begin != 4 * count:
            raise ValueError("%s: bad data_offsets for %s" % (path, name))
        tensors[name] = (list(info["shape"]), data[begin:end])
        end_max = max(end_max, end)
    if end_max != len(data):
        raise ValueError("%s: %d trailing bytes after the tensor data" % (path, len(data) - end_max))
    return header, metadata, tensors


def verify(path, tensors):
    _, _, back = read_safetensors(path)
    if list(back) != list(tensors):
        raise ValueError("%s: tensor names differ after writing" % path)
    for name, t in tensors.items():
        shape, raw = back[name]
        if shape != list(t.shape) or raw != tensor_bytes(t):
            raise ValueError("%s: tensor %s differs after writing" % (path, name))


def load_pt(src, log=print):
    """torch.load(map_location='cpu'), restricted to tensors and plain containers when the
    installed torch allows it; a full pickle only when the file needs it."""
    try:
        return torch.load(src, map_location="cpu", weights_only=True)
    except TypeError:  # torch < 1.13 has no weights_only
        return torch.load(src, map_location="cpu")
    except Exception as e:  # holds other Python objects: only load files you trust
        log("%s: not loadable with weights_only=True (%s); loading it as a full pickle"
            % (src, str(e).splitlines()[0] if str(e) else type(e).__name__))
        return torch.load(src, map_location="cpu", weights_only=False)


def convert(src, dst, extra_meta=None, log=print):
    obj = load_pt(src, log)
    tensors = clean_state_dict(find_state_dict(obj), warn=lambda m: log("%s: %s" % (src, m)))
    meta = {"source": src, "format": "pt", "converted_by": "wavelet-prior tools/convert_pt.py"}
    meta.update(extra_meta or {})
    write_safetensors(dst, tensors, meta)
    verify(dst, tensors)
    n = sum(t.numel() for t in tensors.values())
    log("%s -> %s: %d tensors, %d parameters" % (src, dst, len(tensors), n))
    return tensors


def selftest():
    """Convert a small made-up BF_CNN-like state dict (wrapped, with module. prefixes) and check it."""
    torch.manual_seed(0)
    sd = {}
    sd["module.conv_layers.0.weight"] = torch.randn(8, 1, 3, 3)
    sd["module.conv_layers.1.weight"] = torch.randn(8, 8, 3, 3)
    sd["module.conv_layers.2.weight"] = torch.randn(1, 8, 3, 3)
    sd["module.BN_layers.0.running_sd"] = torch.rand(1, 8, 1, 1, dtype=torch.float64) + 0.5
    sd["module.BN_layers.0.gammas"] = torch.randn(1, 8, 1, 1)
    sd["module.BN_layers.0.num_batches_tracked"] = torch.tensor(7)
    expected = {k[len("module."):]: v.to(torch.float32) for k, v in sd.items() if v.is_floating_point()}
    with tempfile.TemporaryDirectory() as d:
        for wrap in (lambda s: s, lambda s: {"epoch": 3, "state_dict": s, "optimizer": {}}):
            pt = os.path.join(d, "model.pt")
            out = os.path.join(d, "model.safetensors")
            torch.save(wrap(sd), pt)
            convert(pt, out, {"role": "selftest"}, log=lambda m: None)
            _, meta, back = read_safetensors(out)
            assert meta["role"] == "selftest" and meta["source"] == pt, meta
            assert list(back) == list(expected), list(back)
            for name, t in expected.items():
                shape, raw = back[name]
                assert shape == list(t.shape), (name, shape)
                vals = struct.unpack("<%df" % t.numel(), raw)
                assert list(vals) == t.flatten().tolist(), name
            with open(out, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
            assert n % 8 == 0, n
        os.unlink(out)
        main(["--dir", d])
        assert os.path.exists(out)
    print("selftest passed")
    return 0


def parse_meta(items):
    meta = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit("--meta expects KEY=VALUE, got %r" % item)
        k, v = item.split("=", 1)
        meta[k] = v
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert LCV model.pt files to safetensors (float32).")
    ap.add_argument("input", nargs="?", help="model .pt file")
    ap.add_argument("output", nargs="?", help="output .safetensors file")
    ap.add_argument("--dir", help="convert every model.pt below DIR to model.safetensors alongside")
    ap.add_argument("--meta", action="append", metavar="KEY=VALUE", help="extra __metadata__ entry")
    ap.add_argument("--selftest", action="store_true", help="run a small round-trip test")
    args = ap.parse_args(argv)
    if args.selftest:
        return selftest()
    meta = parse_meta(args.meta)
    if args.dir:
        if args.input or args.output:
            ap.error("--dir takes no positional arguments")
        found = 0
        failed = 0
        for root, dirs, files in os.walk(args.dir):
            dirs.sort()
            if "model.pt" in files:
                found += 1
                try:
                    convert(os.path.join(root, "model.pt"), os.path.join(root, "model.safetensors"), meta)
                except Exception as e:  # report and go on with the others
                    failed += 1
                    print("error: %s: %s" % (os.path.join(root, "model.pt"), e), file=sys.stderr)
        if found == 0:
            print("error: no model.pt found below %s" % args.dir, file=sys.stderr)
            return 1
        return 1 if failed else 0
    if not (args.input and args.output):
        ap.error("give IN.pt OUT.safetensors, or --dir DIR")
    convert(args.input, args.output, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
