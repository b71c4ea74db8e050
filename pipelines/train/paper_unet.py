"""The published recipe's network, for timing only: a guided-diffusion style U-Net on 64x64 VIS
cutouts (Stevens et al. 2025 via Astro-Repaint): 32 base channels, channel multipliers (1, 2, 3, 4),
3 residual blocks per level, self-attention at 16x16 and 8x8, scale-shift time conditioning, learned
variance (2 output channels). Untrained weights are enough: the benchmark times 178 passes per source.

Attention is written with bmm + softmax because torch 1.13 cannot export nn.MultiheadAttention in
eval mode. Export: /usr/bin/python3 pipelines/train/paper_unet.py --out models/paper-unet.onnx
"""
import argparse
import math

import torch
from torch import nn
import torch.nn.functional as F

from flops import count_flops


def norm(channels):
    return nn.GroupNorm(32 if channels % 32 == 0 else 8, channels)


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb):
        super().__init__()
        self.in_layers = nn.Sequential(norm(cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1))
        self.emb = nn.Sequential(nn.SiLU(), nn.Linear(emb, 2 * cout))
        self.out_norm = norm(cout)
        self.out_layers = nn.Sequential(nn.SiLU(), nn.Dropout(0.0), nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        scale, shift = self.emb(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.out_norm(h) * (1 + scale) + shift
        return self.skip(x) + self.out_layers(h)


class Attention(nn.Module):
    def __init__(self, channels, head_channels=64):
        super().__init__()
        self.heads = max(1, channels // head_channels)
        self.norm = norm(channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj = nn.Conv1d(channels, channels, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x).reshape(b, c, h * w))
        q, k, v = qkv.reshape(b * self.heads, 3 * c // self.heads, h * w).chunk(3, dim=1)
        weights = torch.softmax(torch.bmm(q.transpose(1, 2), k) / math.sqrt(c // self.heads), dim=-1)
        out = torch.bmm(v, weights.transpose(1, 2)).reshape(b, c, h * w)
        return x + self.proj(out).reshape(b, c, h, w)


class PaperUNet(nn.Module):
    def __init__(self, base=32, mult=(1, 2, 3, 4), blocks=3, attention_at=(16, 8), size=64):
        super().__init__()
        emb = 4 * base
        self.base = base
        self.time = nn.Sequential(nn.Linear(base, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.stem = nn.Conv2d(1, base, 3, padding=1)
        self.down, skips, ch, res = nn.ModuleList(), [base], base, size
        for level, m in enumerate(mult):
            for _ in range(blocks):
                layer = nn.ModuleList([ResBlock(ch, base * m, emb)])
                ch = base * m
                if res in attention_at:
                    layer.append(Attention(ch))
                self.down.append(layer)
                skips.append(ch)
            if level < len(mult) - 1:
                self.down.append(nn.ModuleList([nn.Conv2d(ch, ch, 3, stride=2, padding=1)]))
                skips.append(ch)
                res //= 2
        self.middle = nn.ModuleList([ResBlock(ch, ch, emb), Attention(ch), ResBlock(ch, ch, emb)])
        self.up = nn.ModuleList()
        for level, m in reversed(list(enumerate(mult))):
            for i in range(blocks + 1):
                layer = nn.ModuleList([ResBlock(ch + skips.pop(), base * m, emb)])
                ch = base * m
                if res in attention_at:
                    layer.append(Attention(ch))
                if level > 0 and i == blocks:
                    layer.append(nn.Upsample(scale_factor=2, mode="nearest"))
                    layer.append(nn.Conv2d(ch, ch, 3, padding=1))
                    res *= 2
                self.up.append(layer)
        self.head = nn.Sequential(norm(ch), nn.SiLU(), nn.Conv2d(ch, 2, 3, padding=1))

    @staticmethod
    def _apply(layer, h, emb):
        for module in layer:
            h = module(h, emb) if isinstance(module, ResBlock) else module(h)
        return h

    def forward(self, x, t):
        emb = self.time(timestep_embedding(t, self.base))
        h = self.stem(x)
        hs = [h]
        for layer in self.down:
            h = self._apply(layer, h, emb)
            hs.append(h)
        h = self._apply(self.middle, h, emb)
        for layer in self.up:
            h = torch.cat([h, hs.pop()], dim=1)
            h = self._apply(layer, h, emb)
        return self.head(h)


def flops_per_pass(model, size=64):
    """FLOPs of one pass on a size x size image, attention matmuls (QK^T and AV) included."""
    def attention(module, inputs, output):
        b, c, h, w = inputs[0].shape
        return 2 * 2 * b * c * (h * w) ** 2

    return count_flops(model, (torch.zeros(1, 1, size, size), torch.zeros(1)), extra=[((Attention,), attention)])


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    model = PaperUNet().eval()
    params = sum(p.numel() for p in model.parameters())
    flops = flops_per_pass(model)
    with torch.no_grad():
        torch.onnx.export(model, (torch.zeros(1, 1, 64, 64), torch.zeros(1)), args.out, opset_version=17,
                          input_names=["x", "t"], output_names=["eps_and_variance"],
                          dynamic_axes={"x": {0: "batch"}, "t": {0: "batch"}, "eps_and_variance": {0: "batch"}})
    import json
    with open(args.out + ".json", "w") as f:
        json.dump({"parameters": params, "flops_per_pass": flops, "passes_per_source": 178,
                   "architecture": "guided-diffusion U-Net 64x64, base 32, mult (1,2,3,4), 3 res blocks, attention at 16 and 8"}, f, indent=1)
    print(f"paper U-Net: {params} parameters, {flops / 1e9:.2f} GFLOP per pass, wrote {args.out}")


if __name__ == "__main__":
    main()
