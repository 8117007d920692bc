"""Fill a store with a slow simulator: the process that the kill test SIGKILLs mid-run.

Usage: ``python -m tests.store_writer PATH BACKEND``.
"""

import sys

from sbinn.store import SimulationStore
from tests.store_support import KILL_RUN, SlowNoisy


def write(path: str, backend: str, delay: float = 0.05) -> SimulationStore:
    """Create (or reopen) the kill test's store at ``path`` and fill it."""
    store = SimulationStore.create(
        path,
        SlowNoisy(delay),
        seed=KILL_RUN["seed"],
        chunk_size=KILL_RUN["chunk_size"],
        exist_ok=True,
    )
    store.fill(KILL_RUN["num_simulations"], backend=backend, max_workers=2, progress=False)
    return store


if __name__ == "__main__":
    write(*sys.argv[1:3])
