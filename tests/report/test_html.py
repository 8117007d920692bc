import matplotlib.pyplot as plt
import pytest

from sbinn.report.html import Section, figure_html, preformatted, render_page, table


def test_figures_are_embedded_as_png_and_closed():
    fig = plt.figure(figsize=(1, 1))
    out = figure_html(fig, 'a <b> & "c"')
    assert out.startswith('<figure><img alt="a &lt;b&gt; &amp; &quot;c&quot;" src="data:image/png')
    assert not plt.fignum_exists(fig.number)
    assert "<figcaption>" in out


def test_large_figures_are_embedded_at_most_max_pixels_wide():
    import base64
    import io

    from matplotlib.image import imread

    fig = plt.figure(figsize=(20, 10))
    fig.add_subplot().plot([0, 1], [0, 1])
    out = figure_html(fig, dpi=110, max_pixels=400)
    encoded = out.split("base64,")[1].split('"')[0]
    image = imread(io.BytesIO(base64.b64decode(encoded)), format="png")
    assert max(image.shape[:2]) <= 410  # bbox_inches="tight" may trim, never grow much


def test_tables_escape_cells_and_reject_ragged_rows():
    assert "<td>&lt;script&gt;</td>" in table(["h"], [["<script>"]])
    with pytest.raises(ValueError, match="every row needs 2 cells like the header, got 1"):
        table(["a", "b"], [["only one"]])


def test_preformatted_shows_json_or_text():
    assert preformatted({"a": [1, 2]}).startswith("<pre>{")
    assert preformatted("x < y") == "<pre>x &lt; y</pre>"


def test_page_has_sections_in_order_and_the_image_check():
    page = render_page(
        "T <1>", [Section("First", ["<p>one</p>"]), Section("Second")], intro="i & j"
    )
    assert "<title>T &lt;1&gt;</title>" in page
    assert page.index("<h2>First</h2>") < page.index("<p>one</p>") < page.index("<h2>Second")
    assert '<p id="image-check"' in page and "naturalWidth" in page
    assert "<p>i &amp; j</p>" in page
    assert "http://" not in page and "https://" not in page
