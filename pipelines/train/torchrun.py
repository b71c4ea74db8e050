"""`python3 -m torch.distributed.run` (torchrun), made to work with Debian's torch 1.13 on Python >= 3.11.

torch 1.13 parses --redirects and --tee by iterating its Std IntFlag, and since Python 3.11 that
iteration skips the zero (NONE) and multi-bit (ALL) members, so even the default `--redirects 0`
fails with "'NoneType' object has no attribute 'get'". Where that happens, the parser is replaced by
one that reads the same syntax; newer torch is left alone. Arguments are torchrun's.
"""
import re
import sys

from torch.distributed import run
from torch.distributed.elastic.multiprocessing import api


def from_str(text):
    if re.fullmatch(r"[0-3]", text):
        return api.Std(int(text))
    if re.fullmatch(r"(\d+:[0-3],)*\d+:[0-3]", text):
        return {int(rank): api.Std(int(value)) for rank, value in (item.split(":") for item in text.split(","))}
    raise ValueError(f"{text} is not a stream number 0-3 or a mapping like 0:3,1:0")


if api.Std.from_str("0") is None:
    api.Std.from_str = staticmethod(from_str)

if __name__ == "__main__":
    sys.exit(run.main())
