"""Self-contained HTML: figures embedded as PNG data, tables and text escaped, no scripts
loaded from anywhere.

A report must open years later on a colleague's machine without network access, so every
image travels inside the file as ``data:image/png;base64,...``. The one inline script checks,
after loading, that every image decoded and writes the count into the page
(``<p id="image-check">``), so a reader sees at a glance that no figure is broken and a
headless browser can confirm it.

Examples:
    >>> page = render_page("Demo", [Section("Numbers", [table(["a", "b"], [[1, "<x>"]])])])
    >>> "<td>&lt;x&gt;</td>" in page, page.startswith("<!DOCTYPE html>")
    (True, True)
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from matplotlib.figure import Figure

__all__ = ["Section", "figure_html", "preformatted", "render_page", "table"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
figure { margin: 1em 0; } figcaption { font-size: .9em; color: #555; }
img { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: .85em; }
.note { color: #555; font-size: .9em; }
.flag { color: #a00; font-weight: bold; }
"""

# Runs after every image has loaded or failed; naturalWidth is 0 for one that did not decode.
_IMAGE_CHECK = """
window.addEventListener("load", function () {
  var images = document.images, rendered = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) { rendered++; }
  }
  var check = document.getElementById("image-check");
  check.textContent = rendered + " of " + images.length + " figures rendered";
  check.setAttribute("data-rendered", rendered);
  check.setAttribute("data-total", images.length);
});
"""


@dataclass
class Section:
    """A titled part of the page: a heading and HTML fragments in order.

    Attributes:
        title: The ``<h2>`` heading (escaped).
        parts: HTML fragments, e.g. from :func:`table`, :func:`figure_html`,
            :func:`preformatted`.
    """

    title: str
    parts: list[str] = field(default_factory=list)


def figure_html(fig: Figure, caption: str = "", *, dpi: int = 110, max_pixels: int = 1600) -> str:
    """``<figure>`` with ``fig`` embedded as base64 PNG; ``fig`` is closed afterwards.

    Closing matters in a report that draws dozens of figures: pyplot keeps every open
    figure alive, and warns past twenty. The resolution drops below ``dpi`` when the
    longer side would exceed ``max_pixels``: a 13-parameter pair plot at full resolution
    made a 36 MB page that browsers struggle to open.

    Examples:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> fig = plt.figure(figsize=(1, 1))
        >>> figure_html(fig, "a caption").startswith('<figure><img alt="a caption" src="data:')
        True
    """
    import matplotlib.pyplot as plt

    longest_side_inches = max(fig.get_size_inches())
    dpi = min(dpi, max_pixels / longest_side_inches)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    text = html.escape(caption)
    out = f'<figure><img alt="{text}" src="data:image/png;base64,{data}">'
    if caption:
        out += f"<figcaption>{text}</figcaption>"
    return out + "</figure>"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; every cell is converted with ``str`` and escaped.

    Examples:
        >>> table(["metric"], [["0.5"]])
        '<table><tr><th>metric</th></tr><tr><td>0.5</td></tr></table>'
    """
    cells = ["<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>"]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(
                f"every row needs {len(header)} cells like the header, got {len(row)}: {row!r}"
            )
        cells.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
    return "<table>" + "".join(cells) + "</table>"


def preformatted(value: object) -> str:
    """``<pre>`` with ``value`` as indented JSON (or its text, if it is a string).

    Examples:
        >>> preformatted({"seed": 0})
        '<pre>{\\n  &quot;seed&quot;: 0\\n}</pre>'
    """
    text = value if isinstance(value, str) else json.dumps(value, indent=2, default=str)
    return f"<pre>{html.escape(text)}</pre>"


def render_page(title: str, sections: Sequence[Section], *, intro: str = "") -> str:
    """The whole HTML document: title, an optional escaped introduction, the sections.

    The section parts are inserted as they are: build them with the helpers of this
    module, which escape their text.
    """
    body = [f"<h1>{html.escape(title)}</h1>"]
    if intro:
        body.append(f"<p>{html.escape(intro)}</p>")
    body.append('<p id="image-check" class="note">figures not checked yet</p>')
    for section in sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        body.extend(section.parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        f"<script>{_IMAGE_CHECK}</script></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
