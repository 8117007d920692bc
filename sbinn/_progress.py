"""The progress bar class: a notebook widget where Jupyter can show one, else plain text.

``tqdm.auto`` picks the widget bar in Jupyter but warns ("IProgress not found") when
ipywidgets is missing, which it is in a plain install, so the text bar is used then.

Examples:
    >>> bar = progress_bar(total=3, disable=True)
    >>> bar.update(3)
    >>> bar.close()
"""

from __future__ import annotations

import importlib.util

__all__ = ["progress_bar"]

if importlib.util.find_spec("ipywidgets") is not None:
    from tqdm.auto import tqdm as progress_bar
else:
    from tqdm.std import tqdm as progress_bar
