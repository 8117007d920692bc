"""Test-session settings shared by the test suite and the doctests in the package."""

import torch

# The suite runs one pytest worker per core; torch's own threads on top of that
# oversubscribe the machine and slow every test down several-fold.
torch.set_num_threads(1)
