"""Train the conditional core generator on simulated survey stamps, export ONNX and a model card.

Runs with Debian's python3-torch (1.13) on CPU and unchanged on CUDA:
  /usr/bin/python3 pipelines/train/train.py --shards DIR --val-shards DIR --out models/NAME
Checkpoints go outside git (--checkpoint, default ~/.cache/vis-agn/train/NAME.pt) every few minutes,
so an interrupted run resumes with --resume. The log (JSON lines) and the card are written to --out.
"""
import argparse
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
from data import centre_on_core, load_shards  # noqa: E402
from model import CoreGenerator, CoreGeometry, count_parameters  # noqa: E402

CARD_SCHEMA = "vis-agn/model-card/1"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shards", required=True, help="training shards folder (unlabelled survey mix)")
    p.add_argument("--val-shards", required=True, help="held-out shards folder (different seed)")
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
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--hidden", type=int, default=192)
    p.add_argument("--denoiser-layers", type=int, default=3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--draws", type=int, default=4, help="noise draws per encoded context")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--max-steps", type=int, default=20000)
    p.add_argument("--max-minutes", type=float, default=120.0)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--patience", type=int, default=8, help="evaluations without 0.2%% improvement before stopping")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--quick", action="store_true", help="tiny model, few steps: a smoke run for CI")
    args = p.parse_args(argv)
    if args.quick:
        args.width, args.hidden, args.max_steps, args.eval_every, args.batch = 8, 32, 60, 20, 64
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


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Stamps:
    """Core-centred crops, their noise sigma and, for --target host, the crops with the point source removed."""

    def __init__(self, folder, geometry, target):
        if target == "host":
            self.manifest, raw, sigma, point = load_shards(folder, ("image", "sigma", "point"))
            self.images, _, point_crops = centre_on_core(raw, geometry.crop, also=point)
            self.hosts = self.images - point_crops
        elif target == "galaxies":
            self.manifest, raw, sigma, point = load_shards(folder, ("image", "sigma", "point"))
            # The point image is exactly zero for a normal galaxy and nowhere else.
            keep = ~np.any(point != 0, axis=(1, 2))
            raw, sigma = raw[keep], sigma[keep]
            self.images, _ = centre_on_core(raw, geometry.crop)
            self.hosts = None
        else:
            self.manifest, raw, sigma = load_shards(folder)
            self.images, _ = centre_on_core(raw, geometry.crop)
            self.hosts = None
        self.sigma = sigma.astype(np.float32)

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


def write_card(args, model, out, paths, train_set, metrics, steps, wall_s, device):
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
                "outputs": {"features": ["batch", args.hidden], "core_offset": ["batch", geometry.core_pixels],
                            "core_scale": ["batch", geometry.core_pixels]},
                "parameters": count_parameters(model.encoder),
            },
            "denoiser": {
                "file": "denoiser.onnx", "sha256": sha256_of(paths[1]),
                "inputs": {"z_t": ["batch", geometry.core_pixels], "t": ["batch", 1], "features": ["batch", args.hidden]},
                "outputs": {"velocity": ["batch", geometry.core_pixels]},
                "parameters": count_parameters(model.denoiser),
            },
        },
        "sampler": {"method": "flow-heun", "samples": 16, "steps": 4, "time": "t from 0 (noise) to 1 (data)"},
        "training": {
            "data": {"recipe": train_set.manifest.get("recipe"), "seed": train_set.manifest.get("seed"),
                     "stamps": train_set.manifest.get("count"), "used": len(train_set)},
            "target": args.target, "seed": args.seed, "steps": steps, "wall_time_s": round(wall_s, 1), "batch": args.batch,
            "draws_per_context": args.draws, "lr": args.lr, "ema": args.ema,
            "architecture": {"width": args.width, "hidden": args.hidden, "denoiser_layers": args.denoiser_layers},
            "hardware": {"device": str(device), "cuda": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
                         "cpu": cpu_name(), "cores": os.cpu_count(), "threads": torch.get_num_threads()},
            "software": {"torch": torch.__version__, "python": platform.python_version()},
            "quick": args.quick,
        },
        "validation": metrics,
    }
    with open(os.path.join(out, "card.json"), "w") as f:
        json.dump(card, f, indent=1)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    geometry = CoreGeometry(args.crop, args.mask, args.mask_shape, args.hide)
    train_set = Stamps(args.shards, geometry, args.target)
    val_set = Stamps(args.val_shards, geometry, args.target)
    model = CoreGenerator(geometry, args.width, args.hidden, args.denoiser_layers).to(device)
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.max_steps, pct_start=0.05)
    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "train-log.jsonl")
    step, best, stale, wall_before = 0, float("inf"), 0, 0.0
    if args.resume and os.path.exists(args.checkpoint):
        state = torch.load(args.checkpoint, map_location=device)
        model.load_state_dict(state["model"]); ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"]); schedule.load_state_dict(state["schedule"])
        step, best, stale, wall_before = state["step"], state["best"], state["stale"], state["wall_s"]
        rng = np.random.default_rng([args.seed, step])
        torch.manual_seed(args.seed + step)
        if os.path.exists(log_path):
            # Evaluations after the checkpoint are redone by this run; keep the log free of repeats.
            with open(log_path) as f:
                kept = [line for line in f if json.loads(line)["step"] <= step]
            with open(log_path, "w") as f:
                f.writelines(kept)
    elif os.path.exists(log_path):
        os.remove(log_path)
    log = open(log_path, "a")
    started, last_checkpoint = time.time(), time.time()
    print(f"train: {len(train_set)} stamps, val {len(val_set)}, encoder {count_parameters(model.encoder)} "
          f"params, denoiser {count_parameters(model.denoiser)}, device {device}", flush=True)
    metrics = {}
    while step < args.max_steps:
        idx = rng.integers(0, len(train_set), args.batch)
        image, sigma, host = train_set.batch(idx, device)
        flow, nll = model.losses(image, sigma, draws=args.draws, target_image=host)
        loss = flow + nll
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); schedule.step(); step += 1
        with torch.no_grad():
            for p_ema, p in zip(ema.parameters(), model.parameters()):
                p_ema.mul_(args.ema).add_(p.detach(), alpha=1 - args.ema)
        wall = wall_before + time.time() - started
        if step % args.eval_every == 0 or step == args.max_steps:
            metrics = evaluate(ema, val_set, device, np.random.default_rng(args.seed + 1))
            improved = best == float("inf") or metrics["total"] < best - 0.002 * abs(best)
            best, stale = (metrics["total"], 0) if improved else (best, stale + 1)
            record = {"step": step, "wall_s": round(wall, 1), "train_flow": flow.item(), "train_nll": nll.item(),
                      "lr": schedule.get_last_lr()[0], **{"val_" + k: v for k, v in metrics.items()}}
            log.write(json.dumps(record) + "\n"); log.flush()
            print(json.dumps(record), flush=True)
            if stale >= args.patience:
                print(f"train: stopping, no 0.2% validation improvement in {stale} evaluations", flush=True)
                break
        if wall > args.max_minutes * 60:
            print("train: stopping at the wall-time limit", flush=True)
            break
        if time.time() - last_checkpoint > args.checkpoint_minutes * 60:
            os.makedirs(os.path.dirname(args.checkpoint), exist_ok=True)
            torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                        "schedule": schedule.state_dict(), "step": step, "best": best, "stale": stale,
                        "wall_s": wall}, args.checkpoint + ".tmp")
            os.replace(args.checkpoint + ".tmp", args.checkpoint)
            last_checkpoint = time.time()
    log.close()
    example = torch.from_numpy(val_set.images[:4, None].copy())
    example_sigma = torch.from_numpy(val_set.sigma[:4, None].copy())
    paths = export(ema, args, args.out, example, example_sigma)
    write_card(args, ema, args.out, paths, train_set, metrics, step, wall_before + time.time() - started, device)
    print(f"train: wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
