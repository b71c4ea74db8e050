"""Conditional core generator: a context encoder run once per source and a small flow-matching
denoiser that works on the masked core pixels only.

Why this shape: the published recipe spends 178 full-image U-Net passes per source. Here the image
context is encoded once; each of the S x K denoising evaluations touches only the core pixels and a
feature vector, so the per-sample cost is a few hundred kFLOP.

Normalisation (exactly invertible, done inside the encoder graph so TypeScript never re-implements it):
  s      = max(mean(ring), 0) + sigma      ring: the 7x7 box around the core minus the core itself
  input  = asinh(x / s) * outside_mask     compresses neighbours and bright outskirts, conditioning only
  core   = offset + scale * z              offset = s * m(context), scale = s * exp(l(context))
The generator samples z by integrating the learned velocity field from N(0, I) at t = 0 to t = 1;
physical core pixels follow from the affine map above, so samples are in the image's own units.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


class CoreGeometry:
    """Crop size and core mask. The crop is centred on the mask centre (index crop // 2).

    A square mask covers mask x mask pixels; a circular one the pixels whose centres lie within
    mask / 2 of the centre pixel's (21 pixels for mask = 5). Core pixels are taken in row-major order
    (src/model/geometry.ts implements the same rule). The ring that sets the normalisation is the
    one-pixel frame around the hidden box, or around the mask's square box when nothing more is
    hidden, minus anything hidden.
    """

    def __init__(self, crop=64, mask=5, shape="square", hide=None):
        if mask % 2 == 0 or mask < 1 or mask > 9:
            raise ValueError("mask size must be odd, 1..9")
        # The encoder sees nothing inside the `hide` x `hide` box (default: just the core). A box
        # wider than the core keeps a point source's PSF wings from the encoder, so it cannot
        # regenerate the point source from them.
        if hide is not None and (hide % 2 == 0 or hide < mask or hide > 15):
            raise ValueError("hidden box must be odd, at least the mask size, at most 15")
        if shape not in ("square", "circle"):
            raise ValueError("mask shape must be square or circle")
        self.crop = crop
        self.mask = mask
        self.shape = shape
        self.centre = crop // 2
        self.hide = hide
        half = mask // 2
        offsets = [(dy, dx) for dy in range(-half, half + 1) for dx in range(-half, half + 1)
                   if shape == "square" or dy * dy + dx * dx <= (mask / 2) ** 2]
        self.core_index = torch.tensor([(self.centre + dy) * crop + self.centre + dx for dy, dx in offsets])
        hidden_half = half if hide is None else hide // 2
        self.hide_slice = slice(self.centre - hidden_half, self.centre + hidden_half + 1)
        self.ring_slice = slice(self.centre - hidden_half - 1, self.centre + hidden_half + 2)

    @property
    def core_pixels(self):
        return len(self.core_index)

    def outside_mask(self):
        m = torch.ones(1, 1, self.crop * self.crop)
        m[:, :, self.core_index] = 0.0
        m = m.reshape(1, 1, self.crop, self.crop)
        if self.hide is not None:
            m[:, :, self.hide_slice, self.hide_slice] = 0.0
        return m

    def ring_mask(self):
        m = torch.zeros(1, 1, self.crop, self.crop)
        m[:, :, self.ring_slice, self.ring_slice] = 1.0
        return m * self.outside_mask()

    def to_dict(self):
        return {"crop": self.crop, "mask": self.mask, "mask_shape": self.shape, "centre_index": self.centre,
                "core_pixels": self.core_pixels, "hidden_box": self.hide}


def asinh(x):
    # torch 1.13 cannot export aten::asinh; this form is exact and symmetric, so large negative values
    # do not cancel catastrophically.
    a = torch.abs(x)
    return torch.sign(x) * torch.log(a + torch.sqrt(a * a + 1.0))


def conv_block(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.SiLU())


class ContextEncoder(nn.Module):
    """Image context -> conditioning features and a per-pixel affine frame for the core."""

    def __init__(self, geometry: CoreGeometry, width=32, hidden=192, feature_blocks=1):
        super().__init__()
        self.geometry = geometry
        self.register_buffer("outside", geometry.outside_mask())
        self.register_buffer("ring", geometry.ring_mask())
        w = width
        self.trunk = nn.Sequential(
            conv_block(2, w // 2, 1),
            conv_block(w // 2, w, 2),  # 32
            conv_block(w, w, 1),
            conv_block(w, 2 * w, 2),  # 16
            conv_block(2 * w, 2 * w, 1),
            conv_block(2 * w, 2 * w, 2),  # 8
            conv_block(2 * w, 3 * w, 2),  # 4
        )
        trunk_out = 3 * w * (geometry.crop // 16) ** 2
        # The 9x9 pixels around the core, at full resolution, carry most of the information about how
        # the profile continues inward; they bypass the strided trunk.
        near = 9 * 9
        self.mix = nn.Sequential(nn.Linear(trunk_out + near + 1, 2 * hidden), nn.SiLU(), nn.Linear(2 * hidden, 2 * hidden), nn.SiLU())
        self.features = nn.Linear(2 * hidden, hidden * feature_blocks)
        self.mean_head = nn.Linear(2 * hidden, geometry.core_pixels)
        self.log_scale_head = nn.Linear(2 * hidden, geometry.core_pixels)

    def normalise(self, image, sigma):
        ring_mean = (image * self.ring).sum(dim=(1, 2, 3)) / self.ring.sum()
        s = torch.clamp(ring_mean, min=0.0) + sigma[:, 0]
        return s

    def forward(self, image, sigma):
        s = self.normalise(image, sigma)
        scaled = asinh(image / s[:, None, None, None]) * self.outside
        x = torch.cat([scaled, self.outside.expand_as(scaled)], dim=1)
        trunk = self.trunk(x).flatten(1)
        c = self.geometry.centre
        near = scaled[:, 0, c - 4 : c + 5, c - 4 : c + 5].reshape(scaled.shape[0], -1)
        log_noise = torch.log(sigma[:, 0] / s)[:, None]
        h = self.mix(torch.cat([trunk, near, log_noise], dim=1))
        mean = self.mean_head(h)
        log_scale = torch.clamp(self.log_scale_head(h), -9.0, 5.0)
        return self.features(h), s[:, None] * mean, s[:, None] * torch.exp(log_scale), mean, log_scale, s


def time_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t * freqs[None, :] * 1000.0
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class CoreDenoiser(nn.Module):
    """Velocity field v(z_t, t | features) over the core pixels in the normalised frame.

    `conditioning` "input": the features are added to the first layer only; "every": the features hold
    one block of `hidden` per layer and each layer adds its own, so the context steers every layer. The
    encoder computes them once per source, so a denoiser evaluation costs the same either way.
    """

    def __init__(self, core_pixels=25, hidden=192, time_dim=32, layers=3, conditioning="input"):
        super().__init__()
        self.time_dim, self.hidden, self.conditioning = time_dim, hidden, conditioning
        self.inp = nn.Linear(core_pixels + time_dim, hidden)
        self.blocks = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(layers - 1)])
        self.out = nn.Linear(hidden, core_pixels)

    def forward(self, z_t, t, features):
        every = self.conditioning == "every"
        first = features[:, : self.hidden] if every else features
        h = F.silu(self.inp(torch.cat([z_t, time_embedding(t, self.time_dim)], dim=1)) + first)
        for k, block in enumerate(self.blocks):
            shift = features[:, (k + 1) * self.hidden : (k + 2) * self.hidden] if every else 0
            h = h + F.silu(block(h) + shift)
        return self.out(h)


class CoreGenerator(nn.Module):
    def __init__(self, geometry: CoreGeometry, width=32, hidden=192, denoiser_layers=3, conditioning="input"):
        super().__init__()
        self.geometry = geometry
        blocks = denoiser_layers if conditioning == "every" else 1
        self.encoder = ContextEncoder(geometry, width=width, hidden=hidden, feature_blocks=blocks)
        self.denoiser = CoreDenoiser(geometry.core_pixels, hidden=hidden, layers=denoiser_layers, conditioning=conditioning)
        self.feature_size = hidden * blocks

    def core_of(self, image):
        return image.reshape(image.shape[0], -1)[:, self.geometry.core_index]

    def losses(self, image, sigma, draws=4, target_image=None, noise=None):
        """Flow-matching loss in the normalised frame plus a Gaussian NLL that trains the frame.

        The encoder sees `image`; the core it learns to generate is taken from `target_image` when given
        (the host alone under a point source), else from `image`. `noise` = (z0, t), shaped like the
        repeated core (draws * n rows, draw-major) and (draws * n, 1), replaces the global RNG's draws:
        distributed training passes each stamp the draws it would get in a single process.
        """
        features, _, _, mean, log_scale, s = self.encoder(image, sigma)
        target = self.core_of(image if target_image is None else target_image) / s[:, None]
        nll = (0.5 * ((target - mean) / torch.exp(log_scale)) ** 2 + log_scale).mean()
        z1 = ((target - mean) / torch.exp(log_scale)).detach()
        z1 = z1.repeat(draws, 1)
        feats = features.repeat(draws, 1)
        if noise is None:
            z0 = torch.randn_like(z1)
            t = torch.rand(z1.shape[0], 1, device=z1.device)
        else:
            z0, t = noise
        z_t = (1 - t) * z0 + t * z1
        flow = F.mse_loss(self.denoiser(z_t, t, feats), z1 - z0)
        return flow, nll


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())
