"""The review's pictures: the inline SVG and the text chart, deterministic and inert."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from agentir.render.svg_chart import COST_AREA, ChartMark, ChartPoint, render_svg
from agentir.render.text_chart import BLOCKS, mark_key, render_text

POINTS = [ChartPoint(s, s * 0.01, 1000 + s * 500) for s in range(0, 100, 5)]
MARKS = [
    ChartMark(20, 1, "loop: <script>alert(1)</script> & {{ 7*7 }}", "high"),
    ChartMark(60, 2, "external: git push --force", "critical"),
]


def test_svg_is_well_formed_self_contained_and_escapes_labels() -> None:
    svg = render_svg(POINTS, MARKS, title="t <b>")
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script" not in svg and "&lt;script&gt;" in svg and "&amp;" in svg
    assert "href" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    ns = {"s": "http://www.w3.org/2000/svg"}
    area = root.find(".//s:polygon[@class='cost-area']", ns)
    assert area is not None and area.get("fill") == COST_AREA
    assert len(root.findall(".//s:g[@class='mark']", ns)) == 2
    assert svg == render_svg(POINTS, MARKS, title="t <b>")  # deterministic


def test_svg_places_points_in_order_and_marks_at_their_step() -> None:
    svg = render_svg(POINTS, MARKS)
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    line = root.find(".//s:polyline[@class='cost']", ns)
    assert line is not None
    xs = [float(p.split(",")[0]) for p in line.get("points", "").split()]
    ys = [float(p.split(",")[1]) for p in line.get("points", "").split()]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)  # cost only grows: y goes up
    marks = root.findall(".//s:g[@class='mark']/s:line", ns)
    mark_x = [float(m.get("x1", "0")) for m in marks]
    assert xs[0] < mark_x[0] < mark_x[1] < xs[-1]


def test_svg_without_model_calls_says_so() -> None:
    svg = render_svg([], [])
    assert "no model calls recorded" in svg
    ET.fromstring(svg)


def test_svg_without_prices_still_draws_the_context() -> None:
    svg = render_svg([ChartPoint(1, None, 10), ChartPoint(2, None, 30)], [])
    assert 'class="context"' in svg and 'class="cost-area"' not in svg and "unpriced" in svg


def test_text_chart_rows_and_marks() -> None:
    text = render_text(POINTS, MARKS, columns=20)
    lines = text.splitlines()
    assert lines[0].startswith("cost     ") and lines[0].endswith("$0.95")
    assert lines[1].startswith("context  ") and lines[1].endswith("48,500 tokens")
    cost = lines[0][9:29]
    assert cost[0] == BLOCKS[0] and cost[-1] == BLOCKS[-1]
    assert list(cost) == sorted(cost, key=BLOCKS.index)  # cumulative: never goes down
    marks = lines[2][9:]
    assert marks.index("1") == 20 * 20 // 96 and marks.index("2") == 60 * 20 // 96
    assert lines[3].strip().startswith("step 0") and lines[3].endswith("step 95")
    assert render_text(POINTS, MARKS, columns=20) == text


def test_text_chart_keys_and_collisions() -> None:
    assert [mark_key(n) for n in (1, 9, 10, 33, 34)] == ["1", "9", "A", "Z", "*"]
    same_step = [ChartMark(5, 1, "a", "high"), ChartMark(5, 2, "b", "high")]
    assert "*" in render_text(POINTS, same_step).splitlines()[2]
    assert render_text([], []) == "no model calls recorded: nothing to chart"
