"""FLOPs of one forward pass, counted the same way for every network this project compares: twice
the multiply-adds of convolutions, linear layers and (where a network has them) attention matmuls;
activations and normalisations, a sliver of the arithmetic, are not counted.

As a tool: FLOPs per source of a model card's graphs (the encoder once, the denoiser per row), as
JSON, for `npm run bench:model`:
  /usr/bin/python3 pipelines/train/flops.py --card models/default/card.json
"""
import argparse
import json

import torch
from torch import nn


def count_flops(model, inputs, extra=()):
    """FLOPs of model(*inputs); `extra` adds (module class, hook(module, inputs, output) -> flops)."""
    total = 0

    def counting(rule):
        def hook(module, hook_inputs, output):
            nonlocal total
            total += rule(module, hook_inputs, output)
        return hook

    rules = [
        ((nn.Conv1d, nn.Conv2d), lambda m, i, o: 2 * o.numel() * m.weight[0].numel()),
        ((nn.Linear,), lambda m, i, o: 2 * o.numel() * m.in_features),
        *extra,
    ]
    hooks = [m.register_forward_hook(counting(rule)) for m in model.modules() for kinds, rule in rules if isinstance(m, kinds)]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in hooks:
            h.remove()
    return total


def card_flops(card):
    from model import CoreGenerator, CoreGeometry

    g = card["geometry"]
    arch = card["training"]["architecture"]
    geometry = CoreGeometry(g["crop"], g["mask"], g.get("mask_shape", "square"), g.get("hidden_box"))
    conditioning = arch.get("conditioning", "input")
    model = CoreGenerator(geometry, arch["width"], arch["hidden"], arch["denoiser_layers"], conditioning).eval()
    crop = geometry.crop
    encoder = count_flops(model.encoder, (torch.zeros(1, 1, crop, crop), torch.ones(1, 1)))
    denoiser = count_flops(model.denoiser, (torch.zeros(1, geometry.core_pixels), torch.zeros(1, 1), torch.zeros(1, model.feature_size)))
    return {"encoder_flops": encoder, "denoiser_flops_per_row": denoiser}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--card", required=True)
    args = p.parse_args()
    with open(args.card) as f:
        print(json.dumps(card_flops(json.load(f))))


if __name__ == "__main__":
    main()
