"""A fixed encoder's pooled states of a split, cached on disk: written the first time an example
is seen (epoch 1), read every time after.

One file per split and process, ``examples x depths x hidden x 4`` bytes (rotten-tomatoes' 11,527
training snippets at 26 depths of the 256-wide embedded ALBERT: 307 MB), in ``directory`` (default:
the system's temporary folder, ``$TMPDIR``). The file is unlinked as soon as it is open, so it
vanishes with the process, also when the run is killed. Rows are read and written with
``pread``/``pwrite`` rather than a memory map: mapped pages count as the process's resident
memory, so a map would grow with the data set; the page cache does not.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import torch
from torch import Tensor


class PooledStateCache:
    def __init__(self, count: int, depths: int, hidden: int, directory: str | None = None):
        self.shape = (depths, hidden)
        self.row_bytes = depths * hidden * 4
        handle, path = tempfile.mkstemp(prefix="pooled-states-", suffix=".f32", dir=directory)
        os.unlink(path)
        os.ftruncate(handle, count * self.row_bytes)
        self.fd: int | None = handle
        self.filled = torch.zeros(count, dtype=torch.bool)

    def holds(self, index: Tensor) -> bool:
        return bool(self.filled[index].all())

    def read(self, index: Tensor) -> Tensor:
        """(batch, depths, hidden) states of the examples ``index``."""
        rows = [os.pread(self.fd, self.row_bytes, int(i) * self.row_bytes) for i in index]
        return torch.from_numpy(
            np.frombuffer(bytearray(b"".join(rows)), dtype=np.float32).reshape(len(rows), *self.shape)
        )

    def write(self, index: Tensor, states: Tensor) -> None:
        data = states.detach().to("cpu", torch.float32).contiguous().numpy()
        for i, row in zip(index.tolist(), data):
            os.pwrite(self.fd, row.tobytes(), i * self.row_bytes)
        self.filled[index.cpu()] = True

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
