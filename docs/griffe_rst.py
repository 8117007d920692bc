"""A griffe extension that renders the reST markup in sbinn's docstrings as Markdown.

sbinn's docstrings are Google style (sections ``Args:``, ``Returns:``, ``Examples:``) with
reST inline markup, which ``help()`` and Sphinx read: roles such as ``:class:`Simulator```,
``:math:`\\theta``` and ``.. math::`` blocks. mkdocstrings renders docstrings as Markdown,
where that markup would show literally. This extension rewrites it when the API reference
is built, without touching the sources:

- ``:math:`x``` becomes ``$x$`` and a ``.. math::`` block a ``$$ ... $$`` block, which
  ``pymdownx.arithmatex`` hands to MathJax;
- cross-reference roles (``:class:``, ``:func:``, ``:meth:``, ``:mod:``, ``:attr:``,
  ``:data:``, ``:exc:``, ``:obj:``) become code spans; a leading ``~`` keeps the last name.

Every object's docstring is rewritten once, when griffe loads the object.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_XREF_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`(~?)([^`]+)`")
_MATH_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")


def _xref(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"``{target.rsplit('.', 1)[-1] if tilde else target}``"


def _math_blocks(text: str) -> str:
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _MATH_DIRECTIVE.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        indent = match["indent"]
        body = [match["first"]] if match["first"].strip() else []
        i += 1
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)
        ):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        # The first line may sit after "..  math::" with less indentation than the rest.
        first, rest = (body[0].strip(), body[1:]) if match["first"].strip() else ("", body)
        content = [first] if first else []
        content += textwrap.dedent("\n".join(rest)).splitlines()
        out += ["", f"{indent}$$", *[f"{indent}{line}" for line in content if line.strip()]]
        out += [f"{indent}$$", ""]
    return "\n".join(out)


def rest_to_markdown(text: str) -> str:
    """The docstring ``text`` with its reST roles and math blocks in Markdown."""
    text = _math_blocks(text)
    text = _MATH_ROLE.sub(lambda m: f"${m.group(1)}$", text)
    return _XREF_ROLE.sub(_xref, text)


class RestToMarkdown(griffe.Extension):
    """Rewrite every loaded object's docstring with :func:`rest_to_markdown`."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, if it has one."""
        if obj.docstring is not None:
            obj.docstring.value = rest_to_markdown(obj.docstring.value)
