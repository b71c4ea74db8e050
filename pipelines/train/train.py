"""Train the conditional core generator on simulated survey stamps, export ONNX and a model card.

Runs with Debian's python3-torch (1.13) on CPU and unchanged on CUDA:
  /usr/bin/python3 pipelines/train/train.py --shards DIR --val-shards DIR --out models/NAME
Checkpoints go outside git (--checkpoint, default ~/.cache/vis-agn/train/NAME.pt) every few minutes,
so an interrupted run resumes with --resume. The log (JSON lines) and the card are written to --out.

Under torchrun (WORLD_SIZE set) the same script trains with DistributedDataParallel, gloo on CPUs and
NCCL on GPUs (bf16 autocast there), each rank reading only its own shards:
  /usr/bin/python3 -m torch.distributed.run --nproc_per_node N pipelines/train/train.py --shards DIR ...
The global batch and every stamp's noise draws come from (seed, step) alone, so N ranks follow the
curve one rank does (docs/model.md, "Training at scale").
"""
import argparse
import contextlib
import copy
import hashlib
import json
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import (TARGET_KINDS, ShardStream, UnlabelledStampsError, centre_on_core, read_crops,  # noqa: E402
                  read_manifest, require_target)
from model import CoreGenerator, CoreGeometry, count_parameters  # noqa: E402

CARD_SCHEMA = "vis-agn/model-card/1"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shards", required=True, nargs="+",
                   help="training shards folder(s) (unlabelled survey mix); stamps are counted across them in order")
    p.add_argument("--val-shards", default=None,
                   help="held-out shards folder (different seed); without it every --holdout-th stamp of --shards")
    p.add_argument("--holdout", type=int, default=50,
                   help="without --val-shards, stamps 0, N, 2N, ... of --shards are held out for validation")
    p.add_argument("--out", required=True, help="folder for encoder.onnx, denoiser.onnx, card.json, train-log.jsonl")
    p.add_argument("--name", default=None)
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--mask", type=int, default=5)
    p.add_argument("--mask-shape", choices=["square", "circle"], default="square")
    p.add_argument("--hide", type=int, default=None, help="odd box the encoder does not see (default: the mask)")
    p.add_argument("--target", choices=["galaxies", "host", "observed"], default="galaxies",
                   help="what the generator learns: 'galaxies' (the default) the cores of normal galaxies only, "
                        "stamps with a simulated point source left out: the null hypothesis the scores test; "
                        "'host' the host's core under any point source (image minus the point source); "
                        "'observed' every observed core, point sources included (the paper's label-free training)")
    p.add_argument("--exclude", default=None,
                   help="file of stamp indices of --shards (0-based, one per line, '#' comments) left out of training "
                        "and validation: a self-cleaning round's list (vis-agn train --clean-rounds)")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--hidden", type=int, default=192)
    p.add_argument("--denoiser-layers", type=int, default=3)
    p.add_argument("--conditioning", choices=["input", "every"], default="input",
                   help="the context features enter the denoiser's first layer (input) or each layer its own block (every)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--draws", type=int, default=4, help="noise draws per encoded context")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--max-steps", type=int, default=20000)
    p.add_argument("--max-minutes", type=float, default=120.0)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--patience", type=int, default=8, help="evaluations without 0.2%% improvement before stopping")
    p.add_argument("--threads", type=int, default=None, help="default: the cores, shared among a node's ranks")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--init-from", default=None, metavar="MODEL_DIR",
                   help="start from the weights of an exported model (its encoder.onnx and denoiser.onnx; same "
                        "architecture), to train a shipped model further with a new schedule")
    p.add_argument("--pause-at", type=int, default=None,
                   help="stop at this step with a checkpoint and no export; --resume continues (time-limited jobs)")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="'auto': bf16 autocast under torchrun on GPUs, fp32 otherwise")
    p.add_argument("--quick", action="store_true", help="tiny model, few steps: a smoke run for CI")
    args = p.parse_args(argv)
    if args.quick:
        args.width, args.hidden, args.max_steps, args.eval_every, args.batch = 8, 32, 60, 20, 64
    if args.holdout < 2:
        p.error("--holdout must be at least 2")
    args.name = args.name or os.path.basename(os.path.normpath(args.out))
    if args.checkpoint is None:
        args.checkpoint = os.path.join(os.path.expanduser("~/.cache/vis-agn/train"), args.name + ".pt")
    return args


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def read_exclusions(path):
    """The stamp indices a cleaning round leaves out, sorted and unique (empty without --exclude)."""
    if path is None:
        return np.zeros(0, dtype=np.int64)
    with open(path) as f:
        rows = [line.split("#", 1)[0].strip() for line in f]
    return np.unique(np.array([int(r) for r in rows if r], dtype=np.int64))


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Stamps:
    """Core-centred crops, their noise sigma and, for --target host, the crops with the point source removed.

    With `holdout` N, `part` "val" keeps the stamps whose index is a multiple of N, "train" the others.
    """

    def __init__(self, folders, geometry, target, holdout=None, part=None, exclude=None):
        folders = [folders] if isinstance(folders, str) else folders
        read, offset = [], 0
        for folder in folders:
            read.append(read_crops(folder, geometry.crop, target, offset))
            offset += read[-1][0]["count"]
        # One folder's arrays are kept as they are: a concatenation would copy the crops.
        joined = lambda k: read[0][k] if len(read) == 1 else np.concatenate([r[k] for r in read])  # noqa: E731
        self.manifests = [r[0] for r in read]
        index, self.images, self.sigma = joined(1), joined(2), joined(3)
        self.hosts = joined(4) if target == "host" else None
        del read
        if exclude is not None and len(exclude):
            kept = ~np.isin(index, exclude)
            index, self.images, self.sigma = index[kept], self.images[kept], self.sigma[kept]
            self.hosts = None if self.hosts is None else self.hosts[kept]
        if holdout is not None:
            rows = (index % holdout == 0) if part == "val" else (index % holdout != 0)
            self.images, self.sigma = self.images[rows], self.sigma[rows]
            self.hosts = None if self.hosts is None else self.hosts[rows]

    @classmethod
    def from_arrays(cls, manifest, images, sigma, hosts):
        stamps = cls.__new__(cls)
        stamps.manifests, stamps.images, stamps.sigma, stamps.hosts = [manifest], images, sigma, hosts
        return stamps

    def __len__(self):
        return len(self.sigma)

    def batch(self, index, device):
        """(image, sigma, target image or None) as the model's losses() takes them."""
        image = torch.from_numpy(self.images[index][:, None]).to(device)
        sigma = torch.from_numpy(self.sigma[index][:, None]).to(device)
        host = None if self.hosts is None else torch.from_numpy(self.hosts[index][:, None]).to(device)
        return image, sigma, host


def evaluate(model, stamps, device, generator, batch=512):
    model.eval()
    flow_sum, nll_sum, n = 0.0, 0.0, 0
    state = torch.get_rng_state()
    torch.manual_seed(int(generator.integers(2**31)))
    with torch.no_grad():
        for start in range(0, len(stamps), batch):
            idx = np.arange(start, min(start + batch, len(stamps)))
            image, sigma, host = stamps.batch(idx, device)
            flow, nll = model.losses(image, sigma, draws=2, target_image=host)
            flow_sum += flow.item() * len(idx)
            nll_sum += nll.item() * len(idx)
            n += len(idx)
    torch.set_rng_state(state)
    model.train()
    return {"flow": flow_sum / n, "nll": nll_sum / n, "total": (flow_sum + nll_sum) / n}


class EncoderGraph(torch.nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, image, sigma):
        features, offset, scale, _, _, _ = self.encoder(image, sigma)
        return features, offset, scale


def export(model, args, out, example_image, example_sigma):
    model = copy.deepcopy(model).cpu().eval()
    encoder_path = os.path.join(out, "encoder.onnx")
    denoiser_path = os.path.join(out, "denoiser.onnx")
    with torch.no_grad():
        torch.onnx.export(
            EncoderGraph(model.encoder), (example_image, example_sigma), encoder_path, opset_version=17,
            input_names=["image", "sigma"], output_names=["features", "core_offset", "core_scale"],
            dynamic_axes={n: {0: "batch"} for n in ["image", "sigma", "features", "core_offset", "core_scale"]},
        )
        features, offset, scale = EncoderGraph(model.encoder)(example_image, example_sigma)
        n = features.shape[0]
        z_t = torch.randn(n, model.geometry.core_pixels, generator=torch.Generator().manual_seed(args.seed))
        t = torch.linspace(0.05, 0.95, n)[:, None]
        torch.onnx.export(
            model.denoiser, (z_t, t, features), denoiser_path, opset_version=17,
            input_names=["z_t", "t", "features"], output_names=["velocity"],
            dynamic_axes={n: {0: "batch"} for n in ["z_t", "t", "features", "velocity"]},
        )
        velocity = model.denoiser(z_t, t, features)
    reference = {
        "image": example_image, "sigma": example_sigma, "features": features, "core_offset": offset,
        "core_scale": scale, "z_t": z_t, "t": t, "velocity": velocity,
    }
    ref_dir = os.path.join(out, "reference")
    os.makedirs(ref_dir, exist_ok=True)
    index = {}
    for key, tensor in reference.items():
        array = tensor.detach().numpy().astype("<f4")
        array.tofile(os.path.join(ref_dir, key + ".f32"))
        index[key] = list(array.shape)
    with open(os.path.join(ref_dir, "index.json"), "w") as f:
        json.dump({"dtype": "float32", "byte_order": "little", "shapes": index}, f, indent=1)
    return encoder_path, denoiser_path


def data_provenance(args, manifests, used):
    """The training data as the card records it: each manifest by path and sha256, and for observed
    stamps (`vis-agn stamps`) their source, selection and counts, so the set can be rebuilt. One folder
    keeps its fields at the top; several are listed in `folders`, their stamps counted in that order."""
    def of_folder(folder, manifest):
        path = os.path.join(folder, "manifest.json")
        data = {"manifest": os.path.abspath(path), "manifest_sha256": sha256_of(path), "schema": manifest.get("schema"),
                "recipe": manifest.get("recipe"), "seed": manifest.get("seed"), "stamps": manifest.get("count")}
        if manifest.get("labels") == "none":
            data.update(labels="none", source=manifest.get("source"), selection=manifest.get("selection"), counts=manifest.get("counts"))
        return data
    folders = [of_folder(folder, manifest) for folder, manifest in zip(args.shards, manifests)]
    data = folders[0] if len(folders) == 1 else {"folders": folders, "stamps": sum(f["stamps"] or 0 for f in folders)}
    data.update(used=used, validation=os.path.abspath(args.val_shards) if args.val_shards else f"every {args.holdout}th stamp held out")
    if args.exclude is not None:
        data["excluded"] = {"file": os.path.abspath(args.exclude), "sha256": sha256_of(args.exclude),
                            "stamps": int(len(read_exclusions(args.exclude)))}
    return data


def write_card(args, model, out, paths, train_set, metrics, steps, wall_s, device, run=None):
    geometry = model.geometry
    card = {
        "schema": CARD_SCHEMA,
        "name": args.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kind": "conditional-core-flow",
        "geometry": geometry.to_dict(),
        "normalisation": {
            "scale": "s = max(mean(ring), 0) + sigma; ring = the (mask+2)^2 box around the core minus the core",
            "encoder_input": "asinh(image / s) outside the core, 0 inside, plus the outside-mask channel",
            "core": "pixels = core_offset + core_scale * z, z integrated from N(0, I) at t=0 to t=1",
            "units": "image units in and out (MAGZERO 24.6 for Euclid MER VIS)",
        },
        "graphs": {
            "encoder": {
                "file": "encoder.onnx", "sha256": sha256_of(paths[0]),
                "inputs": {"image": ["batch", 1, geometry.crop, geometry.crop], "sigma": ["batch", 1]},
                "outputs": {"features": ["batch", model.feature_size], "core_offset": ["batch", geometry.core_pixels],
                            "core_scale": ["batch", geometry.core_pixels]},
                "parameters": count_parameters(model.encoder),
            },
            "denoiser": {
                "file": "denoiser.onnx", "sha256": sha256_of(paths[1]),
                "inputs": {"z_t": ["batch", geometry.core_pixels], "t": ["batch", 1], "features": ["batch", model.feature_size]},
                "outputs": {"velocity": ["batch", geometry.core_pixels]},
                "parameters": count_parameters(model.denoiser),
            },
        },
        "sampler": {"method": "flow-heun", "samples": 16, "steps": 4, "time": "t from 0 (noise) to 1 (data)"},
        "training": {
            "data": data_provenance(args, train_set.manifests, len(train_set)),
            **(run or {"world_size": 1, "distributed": None, "precision": "fp32"}),
            "target": args.target, "seed": args.seed, "steps": steps, "wall_time_s": round(wall_s, 1), "batch": args.batch,
            "draws_per_context": args.draws, "lr": args.lr, "ema": args.ema,
            "initialised_from": getattr(args, "initialised_from", None),
            "architecture": {"width": args.width, "hidden": args.hidden, "denoiser_layers": args.denoiser_layers, "conditioning": args.conditioning},
            "hardware": {"device": str(device), "cuda": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
                         "cpu": cpu_name(), "cores": os.cpu_count(), "threads": torch.get_num_threads()},
            "software": {"torch": torch.__version__, "python": platform.python_version()},
            "quick": args.quick,
        },
        "validation": metrics,
    }
    with open(os.path.join(out, "card.json"), "w") as f:
        json.dump(card, f, indent=1)


class StreamedStamps:
    """The training stamps of a torchrun run: the global indices every rank agrees on, each read on
    demand by the rank that owns its shard."""

    def __init__(self, args, geometry, rank, world):
        if len(args.shards) != 1:
            raise ValueError(f"a torchrun run streams one --shards folder, got {len(args.shards)}: simulate one set of the size wanted")
        folder = args.shards[0]
        self.manifest = read_manifest(folder)
        self.manifests = [self.manifest]
        require_target(self.manifest, folder, args.target)
        self.target, self.crop = args.target, geometry.crop
        self.stream = ShardStream(folder, self.manifest, ("image", "sigma") + TARGET_KINDS[args.target], rank, world)
        if self.stream.shards < world:
            raise ValueError(f"{folder}: {self.stream.shards} shard(s) for {world} ranks; every rank needs a shard of its own")
        eligible = np.arange(self.stream.count)
        if args.target == "galaxies":
            # The point image is exactly zero for a normal galaxy and nowhere else; each rank looks at its own shards.
            own = {k: np.flatnonzero(~np.any(np.asarray(self.stream.arrays(k)["point"]) != 0, axis=(1, 2)))
                   for k in self.stream.owned_shards()}
            gathered = [None] * world
            torch.distributed.all_gather_object(gathered, own)
            kept = {k: rows for part in gathered for k, rows in part.items()}
            eligible = np.concatenate([self.stream.firsts[k] + kept[k] for k in range(self.stream.shards)])
        eligible = eligible[~np.isin(eligible, read_exclusions(args.exclude))]
        self.val_index = None
        if args.val_shards is None:
            self.val_index = eligible[eligible % args.holdout == 0]
            eligible = eligible[eligible % args.holdout != 0]
        self.index = eligible
        mine = np.flatnonzero(self.stream.owner_of(eligible) == rank)
        if len(mine) == 0:
            raise ValueError(f"{folder}: rank {rank} owns no training stamps")
        # A rank whose shards get no stamp of a step still joins the gradient reduction, with this one at weight 0.
        self.stand_in = int(mine[0])

    def __len__(self):
        return len(self.index)

    def crops(self, index, kinds=None):
        """(images, sigma, host images or None) of the stamps at global `index`, core-centred."""
        data = self.stream.read(index, kinds)
        sigma = data["sigma"].astype(np.float32)
        if self.target == "host":
            images, _, point = centre_on_core(data["image"], self.crop, also=data["point"])
            return images, sigma, images - point
        images, _ = centre_on_core(data["image"], self.crop)
        return images, sigma, None

    def validation(self):
        """The held-out stamps in memory (rank 0 reads them from every shard)."""
        images, sigma, hosts = self.crops(self.val_index)
        return Stamps.from_arrays(self.manifest, images, sigma, hosts)


class LossOf(torch.nn.Module):
    """The generator's losses as a module's forward, which DistributedDataParallel hooks into."""

    def __init__(self, model, draws):
        super().__init__()
        self.model, self.draws = model, draws

    def forward(self, image, sigma, host, z0, t):
        return self.model.losses(image, sigma, draws=self.draws, target_image=host, noise=(z0, t))


def global_batch(args, step, pool, core_pixels):
    """Step `step`'s global batch as positions in the training pool, and every slot's noise draws,
    from (seed, step) alone: the same whatever the number of ranks, and after a resume."""
    rng = np.random.default_rng([args.seed, step])
    slots = rng.integers(0, pool, args.batch)
    g = torch.Generator().manual_seed(int(rng.integers(2**62)))
    return slots, torch.randn(args.draws, args.batch, core_pixels, generator=g), torch.rand(args.draws, args.batch, 1, generator=g)


def initial_weights(model, folder):
    """The exported graphs' initializers as the model's parameters: the encoder graph names them as the
    model does (it wraps `encoder`), the denoiser graph without its `denoiser.` prefix. Every parameter
    must be found with its shape, or the graphs are of another architecture."""
    import onnx
    from onnx import numpy_helper
    found = {}
    for graph, prefix in (("encoder.onnx", ""), ("denoiser.onnx", "denoiser.")):
        for tensor in onnx.load(os.path.join(folder, graph)).graph.initializer:
            found[prefix + tensor.name] = numpy_helper.to_array(tensor)
    state = model.state_dict()
    missing = [k for k, v in state.items() if k not in found or tuple(found[k].shape) != tuple(v.shape)]
    if missing:
        sys.exit(f"train.py: error: --init-from {folder}: no weights of this architecture for {', '.join(missing[:4])}"
                 + (f" and {len(missing) - 4} more" if len(missing) > 4 else ""))
    model.load_state_dict({k: torch.from_numpy(found[k].copy()) for k in state})
    with open(os.path.join(folder, "card.json")) as f:
        card = json.load(f)
    return {"model": card.get("name"), "card_sha256": sha256_of(os.path.join(folder, "card.json")),
            "steps": card.get("training", {}).get("steps")}


def build(args, geometry, device):
    model = CoreGenerator(geometry, args.width, args.hidden, args.denoiser_layers, args.conditioning).to(device)
    if args.init_from is not None:
        args.initialised_from = initial_weights(model, args.init_from)
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.max_steps, pct_start=0.05)
    os.makedirs(args.out, exist_ok=True)
    return model, ema, opt, schedule


def restore(args, model, ema, opt, schedule, device, log_path):
    """(step, best, stale, wall_s) from the checkpoint with --resume, else a fresh start and log."""
    if args.resume and os.path.exists(args.checkpoint):
        state = torch.load(args.checkpoint, map_location=device)
        model.load_state_dict(state["model"]); ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"]); schedule.load_state_dict(state["schedule"])
        if os.path.exists(log_path):
            # Evaluations after the checkpoint are redone by this run; keep the log free of repeats.
            with open(log_path) as f:
                kept = [line for line in f if json.loads(line)["step"] <= state["step"]]
            with open(log_path, "w") as f:
                f.writelines(kept)
        return state["step"], state["best"], state["stale"], state["wall_s"]
    if os.path.exists(log_path):
        os.remove(log_path)
    return 0, float("inf"), 0, 0.0


def checkpoint_state(model, ema, opt, schedule, step, best, stale, wall, world):
    return {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
            "schedule": schedule.state_dict(), "step": step, "best": best, "stale": stale, "wall_s": wall,
            "world_size": world}


def save_checkpoint(args, state):
    os.makedirs(os.path.dirname(os.path.abspath(args.checkpoint)), exist_ok=True)
    torch.save(state, args.checkpoint + ".tmp")
    os.replace(args.checkpoint + ".tmp", args.checkpoint)


class Progress:
    """A line with steps, rate and ETA on a terminal, redrawn every two seconds; nothing in logs, which
    get the JSON record of every evaluation instead."""

    def __init__(self, first, last):
        self.first, self.last, self.started, self.shown = first, last, time.time(), 0.0
        self.live = sys.stderr.isatty()

    def update(self, step):
        now = time.time()
        if not self.live or (now - self.shown < 2 and step < self.last):
            return
        self.shown = now
        rate = (step - self.first) / max(now - self.started, 1e-9)
        eta = (self.last - step) / rate if rate > 0 else float("inf")
        sys.stderr.write(f"\rtrain: step {step}/{self.last}, {rate:.2f} steps/s, ETA {eta:.0f} s ")
        if step >= self.last:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def clear(self):
        """Makes room for another line (an evaluation's record) where the progress line stands."""
        if self.live:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def optimiser_step(model, ema, opt, schedule, decay):
    """One update of the weights from the gradients in place (clipped), then of their moving average."""
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step(); schedule.step()
    with torch.no_grad():
        for p_ema, p in zip(ema.parameters(), model.parameters()):
            p_ema.mul_(decay).add_(p.detach(), alpha=1 - decay)


def keep_freed_memory():
    """Makes glibc keep freed memory for reuse instead of returning it to the kernel.
    Every step allocates and frees tens of MB of activations; with glibc's defaults each step faulted
    its memory back in page by page (~80,000 page faults/s, 35-40% of the CPU time in the kernel):
    0.64-0.87 s per step on 2 EPYC cores against 0.24 s with this (v5's run, docs/model.md). True where
    it applied."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    # No mmap at all: the first convolution's activations at batch 128 are 32 MiB + 4 KiB, just above
    # the largest threshold glibc accepts, so a threshold alone left them faulting.
    m_trim_threshold, m_top_pad, m_mmap_max = -1, -2, -4
    return all(libc.mallopt(option, value) == 1 for option, value in
               ((m_mmap_max, 0), (m_trim_threshold, 1 << 30), (m_top_pad, 256 << 20)))


def main(argv=None):
    args = parse_args(argv)
    keep_freed_memory()
    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        return train_distributed(args)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    geometry = CoreGeometry(args.crop, args.mask, args.mask_shape, args.hide)
    try:
        exclude = read_exclusions(args.exclude)
        if args.val_shards is None:
            train_set = Stamps(args.shards, geometry, args.target, args.holdout, "train", exclude)
            val_set = Stamps(args.shards, geometry, args.target, args.holdout, "val", exclude)
        else:
            train_set = Stamps(args.shards, geometry, args.target, exclude=exclude)
            val_set = Stamps(args.val_shards, geometry, args.target)
    except UnlabelledStampsError as error:
        sys.exit(f"train.py: error: {error}")
    model, ema, opt, schedule = build(args, geometry, device)
    log_path = os.path.join(args.out, "train-log.jsonl")
    step, best, stale, wall_before = restore(args, model, ema, opt, schedule, device, log_path)
    if step > 0:
        rng = np.random.default_rng([args.seed, step])
        torch.manual_seed(args.seed + step)
    log = open(log_path, "a")
    started, last_checkpoint = time.time(), time.time()
    print(f"train: {len(train_set)} stamps, val {len(val_set)}, encoder {count_parameters(model.encoder)} "
          f"params, denoiser {count_parameters(model.denoiser)}, device {device}", flush=True)
    metrics = {}
    progress = Progress(step, args.max_steps)
    while step < args.max_steps:
        idx = rng.integers(0, len(train_set), args.batch)
        image, sigma, host = train_set.batch(idx, device)
        flow, nll = model.losses(image, sigma, draws=args.draws, target_image=host)
        loss = flow + nll
        opt.zero_grad(set_to_none=True)
        loss.backward()
        optimiser_step(model, ema, opt, schedule, args.ema)
        step += 1
        progress.update(step)
        wall = wall_before + time.time() - started
        if step % args.eval_every == 0 or step == args.max_steps:
            metrics = evaluate(ema, val_set, device, np.random.default_rng(args.seed + 1))
            improved = best == float("inf") or metrics["total"] < best - 0.002 * abs(best)
            best, stale = (metrics["total"], 0) if improved else (best, stale + 1)
            record = {"step": step, "wall_s": round(wall, 1), "train_flow": flow.item(), "train_nll": nll.item(),
                      "lr": schedule.get_last_lr()[0], **{"val_" + k: v for k, v in metrics.items()}}
            log.write(json.dumps(record) + "\n"); log.flush()
            progress.clear()
            print(json.dumps(record), flush=True)
            if stale >= args.patience:
                print(f"train: stopping, no 0.2% validation improvement in {stale} evaluations", flush=True)
                break
        if wall > args.max_minutes * 60:
            print("train: stopping at the wall-time limit", flush=True)
            break
        if step == args.pause_at:
            save_checkpoint(args, checkpoint_state(model, ema, opt, schedule, step, best, stale, wall, 1))
            print(f"train: paused at step {step}; --resume continues from {args.checkpoint}", flush=True)
            log.close()
            return
        if time.time() - last_checkpoint > args.checkpoint_minutes * 60:
            save_checkpoint(args, checkpoint_state(model, ema, opt, schedule, step, best, stale, wall, 1))
            last_checkpoint = time.time()
    log.close()
    example = torch.from_numpy(val_set.images[:4, None].copy())
    example_sigma = torch.from_numpy(val_set.sigma[:4, None].copy())
    paths = export(ema, args, args.out, example, example_sigma)
    write_card(args, ema, args.out, paths, train_set, metrics, step, wall_before + time.time() - started, device)
    print(f"train: wrote {args.out}", flush=True)


def train_distributed(args):
    """DistributedDataParallel under torchrun: gloo on CPUs, NCCL and bf16 autocast on GPUs. Every rank
    computes the part of the global batch that lies in its own shards; gradients are weighted by that
    part's size, so their average is the single-process gradient of the whole batch. Rank 0 evaluates,
    checkpoints, logs, exports and writes the card; its stopping decisions are broadcast."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    rank, world, local_rank = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local_rank)
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    dist.init_process_group("nccl" if cuda else "gloo")
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // local_world))
    bf16 = args.precision == "bf16" or (args.precision == "auto" and cuda)
    if bf16 and not cuda:
        raise SystemExit("train.py: error: --precision bf16 needs GPUs (bf16 autocast on CPU is slower than fp32)")
    torch.manual_seed(args.seed)
    geometry = CoreGeometry(args.crop, args.mask, args.mask_shape, args.hide)
    try:
        train_set = StreamedStamps(args, geometry, rank, world)
        val_set = None
        if rank == 0:
            val_set = Stamps(args.val_shards, geometry, args.target) if args.val_shards else train_set.validation()
    except (UnlabelledStampsError, ValueError) as error:
        raise SystemExit(f"train.py: error: {error}")
    model, ema, opt, schedule = build(args, geometry, device)
    loss_of = DistributedDataParallel(LossOf(model, args.draws), device_ids=[local_rank] if cuda else None)
    log_path = os.path.join(args.out, "train-log.jsonl")
    step, best, stale, wall_before = restore(args, model, ema, opt, schedule, device, log_path) if rank == 0 else (0, float("inf"), 0, 0.0)
    if args.resume:
        # Only rank 0 reads the checkpoint (the folder need not be shared); the others take its weights.
        for tensor in [*model.state_dict().values(), *ema.state_dict().values()]:
            dist.broadcast(tensor, 0)
        shared = [step, best, stale, wall_before, opt.state_dict(), schedule.state_dict()]
        dist.broadcast_object_list(shared, 0)
        step, best, stale, wall_before = shared[:4]
        opt.load_state_dict(shared[4]); schedule.load_state_dict(shared[5])
    log = open(log_path, "a") if rank == 0 else None
    started, last_checkpoint = time.time(), time.time()
    if rank == 0:
        print(f"train: {len(train_set)} stamps in {train_set.stream.shards} shards over {world} rank(s), val {len(val_set)}, "
              f"device {device}, {'bf16' if bf16 else 'fp32'}", flush=True)
    metrics, core = {}, geometry.core_pixels
    progress = Progress(step, args.max_steps)
    while step < args.max_steps:
        slots, z0, t = global_batch(args, step, len(train_set), core)
        index = train_set.index[slots]
        mine = np.flatnonzero(train_set.stream.owner_of(index) == rank)
        weight = len(mine) * world / args.batch
        part = mine if len(mine) else np.array([0])
        images, sigma, hosts = train_set.crops(index[mine] if len(mine) else [train_set.stand_in])
        to = lambda a: None if a is None else torch.from_numpy(a[:, None]).to(device)  # noqa: E731
        z0_mine = z0[:, part].reshape(-1, core).to(device)
        t_mine = t[:, part].reshape(-1, 1).to(device)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
            flow, nll = loss_of(to(images), torch.from_numpy(sigma[:, None]).to(device), to(hosts), z0_mine, t_mine)
        loss = (flow.float() + nll.float()) * weight
        opt.zero_grad(set_to_none=True)
        loss.backward()
        sums = torch.tensor([flow.item() * len(mine), nll.item() * len(mine)], dtype=torch.float64)
        dist.all_reduce(sums)
        optimiser_step(model, ema, opt, schedule, args.ema)
        step += 1
        if rank == 0:
            progress.update(step)
        wall = wall_before + time.time() - started
        stop = torch.zeros(1)
        if rank == 0:
            if step % args.eval_every == 0 or step == args.max_steps:
                metrics = evaluate(ema, val_set, device, np.random.default_rng(args.seed + 1))
                improved = best == float("inf") or metrics["total"] < best - 0.002 * abs(best)
                best, stale = (metrics["total"], 0) if improved else (best, stale + 1)
                record = {"step": step, "wall_s": round(wall, 1), "train_flow": sums[0].item() / args.batch,
                          "train_nll": sums[1].item() / args.batch, "lr": schedule.get_last_lr()[0], "world_size": world,
                          **{"val_" + k: v for k, v in metrics.items()}}
                log.write(json.dumps(record) + "\n"); log.flush()
                progress.clear()
                print(json.dumps(record), flush=True)
                if stale >= args.patience:
                    print(f"train: stopping, no 0.2% validation improvement in {stale} evaluations", flush=True)
                    stop[0] = 1
            if wall > args.max_minutes * 60:
                print("train: stopping at the wall-time limit", flush=True)
                stop[0] = 1
            if step == args.pause_at or time.time() - last_checkpoint > args.checkpoint_minutes * 60:
                save_checkpoint(args, checkpoint_state(model, ema, opt, schedule, step, best, stale, wall, world))
                last_checkpoint = time.time()
        dist.broadcast(stop, 0)
        if step == args.pause_at:
            if rank == 0:
                print(f"train: paused at step {step}; --resume continues from {args.checkpoint}", flush=True)
                log.close()
            dist.destroy_process_group()
            return
        if stop.item():
            break
    if rank == 0:
        log.close()
        example = torch.from_numpy(val_set.images[:4, None].copy())
        example_sigma = torch.from_numpy(val_set.sigma[:4, None].copy())
        paths = export(ema, args, args.out, example, example_sigma)
        run = {"world_size": world, "distributed": {"engine": "torch DistributedDataParallel (torchrun)",
               "backend": dist.get_backend(), "shards": train_set.stream.shards}, "precision": "bf16" if bf16 else "fp32"}
        write_card(args, ema, args.out, paths, train_set, metrics, step, wall_before + time.time() - started, device, run)
        print(f"train: wrote {args.out}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
