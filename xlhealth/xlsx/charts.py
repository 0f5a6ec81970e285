"""Native Excel charts (DrawingML) for the Segments sheet.

Charts reference cell ranges, so Excel and LibreOffice draw them from the
sheet; the cached values written alongside let viewers that do not
recalculate (previewers, Excel on the web before editing) show them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"


@dataclass
class Series:
    name_ref: str
    name: str
    values_ref: str
    values: Sequence[float]
    color: str


def _num_cache(values: Sequence[float], fmt: str = "General") -> str:
    pts = "".join(
        f'<c:pt idx="{i}"><c:v>{v:g}</c:v></c:pt>' for i, v in enumerate(values) if v == v
    )
    return (
        f'<c:numCache><c:formatCode>{fmt}</c:formatCode><c:ptCount val="{len(values)}"/>'
        f"{pts}</c:numCache>"
    )


def _str_cache(values: Sequence[str]) -> str:
    pts = "".join(
        f'<c:pt idx="{i}"><c:v>{escape(str(v))}</c:v></c:pt>' for i, v in enumerate(values)
    )
    return f'<c:strCache><c:ptCount val="{len(values)}"/>{pts}</c:strCache>'


def _title(text: str) -> str:
    return (
        '<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="1200" '
        f'b="1"/></a:pPr><a:r><a:rPr lang="en-US" sz="1200" b="1"/><a:t>{escape(text)}'
        '</a:t></a:r></a:p></c:rich></c:tx><c:overlay val="0"/></c:title>'
    )


def _axis_title(text: str) -> str:
    return (
        "<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>"
        f'{escape(text)}</a:t></a:r></a:p></c:rich></c:tx><c:overlay val="0"/></c:title>'
    )


def _wrap(plot: str, title: str, legend: bool | str = True) -> bytes:
    """The chart part; ``legend`` is True (at the bottom), False, or the c:legend XML."""
    if isinstance(legend, str):
        legend_xml = legend
    else:
        legend_xml = (
            '<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend>' if legend else ""
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<c:chartSpace xmlns:c="{NS_C}" xmlns:a="{NS_A}" xmlns:r="{NS_R}">'
        '<c:roundedCorners val="0"/><c:chart>'
        + _title(title)
        + '<c:autoTitleDeleted val="0"/><c:plotArea><c:layout/>'
        + plot
        + "</c:plotArea>"
        + legend_xml
        + '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
        "</c:chartSpace>"
    ).encode("utf-8")


def stacked_bar(
    title: str,
    categories_ref: str,
    categories: Sequence[str],
    series: Sequence[Series],
    value_axis: str,
) -> bytes:
    """Horizontal 100%-stacked bars: one bar per category, one colour per series."""
    sers = []
    for i, s in enumerate(series):
        sers.append(
            f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>'
            f"<c:tx><c:strRef><c:f>{escape(s.name_ref)}</c:f>{_str_cache([s.name])}</c:strRef>"
            "</c:tx>"
            f'<c:spPr><a:solidFill><a:srgbClr val="{s.color}"/></a:solidFill>'
            '<a:ln><a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill></a:ln></c:spPr>'
            '<c:invertIfNegative val="0"/>'
            f"<c:cat><c:strRef><c:f>{escape(categories_ref)}</c:f>{_str_cache(categories)}"
            "</c:strRef></c:cat>"
            f"<c:val><c:numRef><c:f>{escape(s.values_ref)}</c:f>{_num_cache(s.values)}"
            "</c:numRef></c:val></c:ser>"
        )
    plot = (
        '<c:barChart><c:barDir val="bar"/><c:grouping val="percentStacked"/>'
        '<c:varyColors val="0"/>' + "".join(sers) + '<c:gapWidth val="60"/><c:overlap val="100"/>'
        '<c:axId val="500100"/><c:axId val="500200"/></c:barChart>'
        '<c:catAx><c:axId val="500100"/><c:scaling><c:orientation val="maxMin"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="l"/><c:numFmt formatCode="General" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="500200"/><c:crosses val="autoZero"/><c:auto val="1"/>'
        '<c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="500200"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="t"/><c:majorGridlines/>'
        + _axis_title(value_axis)
        + '<c:numFmt formatCode="0%" sourceLinked="0"/><c:majorTickMark val="out"/>'
        '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="500100"/>'
        '<c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
    )
    return _wrap(plot, title)


@dataclass
class XY:
    """One scatter series whose x and y values are cells on the chart's own sheet."""

    name: str
    x_ref: str
    xs: Sequence[float]
    y_ref: str
    ys: Sequence[float]
    color: str = "7F7F7F"
    name_ref: str = ""


@dataclass
class Corner:
    """A static text drawn beside one helper point: ``pos`` is "l" or "r" of the point."""

    text: str
    pos: str = "r"


def _ser_head(i: int, s: XY) -> str:
    name = (
        f"<c:tx><c:strRef><c:f>{escape(s.name_ref)}</c:f>{_str_cache([s.name])}</c:strRef></c:tx>"
        if s.name_ref
        else f"<c:tx><c:v>{escape(s.name)}</c:v></c:tx>"
    )
    return f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>{name}'


def _ser_tail(s: XY) -> str:
    return (
        f"<c:xVal><c:numRef><c:f>{escape(s.x_ref)}</c:f>{_num_cache(s.xs)}</c:numRef></c:xVal>"
        f"<c:yVal><c:numRef><c:f>{escape(s.y_ref)}</c:f>{_num_cache(s.ys)}</c:numRef></c:yVal>"
        '<c:smooth val="0"/></c:ser>'
    )


_NO_LINE = '<c:spPr><a:ln w="19050"><a:noFill/></a:ln></c:spPr>'
_SHOW = (
    '<c:showLegendKey val="0"/><c:showVal val="{val}"/><c:showCatName val="0"/>'
    '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/>'
)


def _rich(text: str, lang: str, size: int, color: str, bold: bool = True) -> str:
    b = ' b="1"' if bold else ""
    return (
        f'<c:rich><a:bodyPr wrap="none"/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="{size}"{b}/>'
        f'</a:pPr><a:r><a:rPr lang="{lang}" sz="{size}"{b}><a:solidFill><a:srgbClr '
        f'val="{color}"/></a:solidFill></a:rPr><a:t>{escape(text)}</a:t></a:r></a:p></c:rich>'
    )


def matrix(
    title: str,
    points: Sequence[XY],
    lines: Sequence[XY],
    corners: XY,
    corner_texts: Sequence[Corner],
    x_title: str,
    y_title: str,
    lang: str = "en",
    x_range: tuple[float, float] = (1, 5),
    y_range: tuple[float, float] = (0, 100),
) -> bytes:
    """The health × maturity 2×2 matrix as a scatter chart.

    Series, in this order (``c:idx`` = ``c:order`` = legend index):

    - ``points``: markers only, one series per tier in the tier's colour;
    - ``lines``: the thresholds, each two points joined by a grey dashed line, no markers;
    - ``corners``: invisible helper points near the four corners of the plot area, each
      carrying a data label (``c:dLbl``) with a static ``c:tx/c:rich`` text: the quadrant
      name. Static rich text labels are drawn by Excel and LibreOffice alike (LibreOffice
      ignores the Excel 2013 "value from cells" labels, and text boxes in the drawing
      part would not follow the plot area when the chart is resized).

    Lines and corner labels are left out of the legend (``c:legendEntry/c:delete``).
    """
    xml_lang = "ja-JP" if lang == "ja" else "en-US"
    sers = []
    for i, s in enumerate(points):
        sers.append(
            _ser_head(i, s)
            + _NO_LINE
            + '<c:marker><c:symbol val="circle"/><c:size val="6"/><c:spPr><a:solidFill>'
            f'<a:srgbClr val="{s.color}"><a:alpha val="85000"/></a:srgbClr></a:solidFill>'
            '<a:ln w="6350"><a:solidFill><a:srgbClr val="595959"><a:alpha val="70000"/>'
            "</a:srgbClr></a:solidFill></a:ln></c:spPr></c:marker>" + _ser_tail(s)
        )
    hidden = []
    for s in lines:
        i = len(sers)
        hidden.append(i)
        sers.append(
            _ser_head(i, s)
            + f'<c:spPr><a:ln w="19050" cap="flat"><a:solidFill><a:srgbClr val="{s.color}"/>'
            '</a:solidFill><a:prstDash val="dash"/><a:round/></a:ln></c:spPr>'
            '<c:marker><c:symbol val="none"/></c:marker>' + _ser_tail(s)
        )
    i = len(sers)
    hidden.append(i)
    labels = "".join(
        f'<c:dLbl><c:idx val="{k}"/><c:tx>{_rich(c.text, xml_lang, 1100, "1F4E79")}</c:tx>'
        "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
        f'<c:dLblPos val="{c.pos}"/>' + _SHOW.format(val=1) + "</c:dLbl>"
        for k, c in enumerate(corner_texts)
    )
    sers.append(
        _ser_head(i, corners)
        + _NO_LINE
        + '<c:marker><c:symbol val="none"/></c:marker>'
        + f"<c:dLbls>{labels}<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
        '<c:dLblPos val="r"/>' + _SHOW.format(val=0) + "</c:dLbls>" + _ser_tail(corners)
    )

    def axis(ax_id: str, cross: str, pos: str, text: str, lo: float, hi: float, unit: float):
        return (
            f'<c:valAx><c:axId val="{ax_id}"/><c:scaling><c:orientation val="minMax"/>'
            f'<c:max val="{hi:g}"/><c:min val="{lo:g}"/></c:scaling><c:delete val="0"/>'
            f'<c:axPos val="{pos}"/><c:majorGridlines><c:spPr><a:ln w="6350"><a:solidFill>'
            '<a:srgbClr val="E7E6E6"/></a:solidFill></a:ln></c:spPr></c:majorGridlines>'
            + _axis_title(text)
            + '<c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="out"/>'
            '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
            '<c:spPr><a:ln w="9525"><a:solidFill><a:srgbClr val="A6A6A6"/></a:solidFill>'
            f'</a:ln></c:spPr><c:crossAx val="{cross}"/><c:crosses val="autoZero"/>'
            f'<c:crossBetween val="midCat"/><c:majorUnit val="{unit:g}"/></c:valAx>'
        )

    plot = (
        '<c:scatterChart><c:scatterStyle val="lineMarker"/><c:varyColors val="0"/>'
        + "".join(sers)
        + '<c:axId val="600100"/><c:axId val="600200"/></c:scatterChart>'
        + axis("600100", "600200", "b", x_title, *x_range, 1)
        + axis("600200", "600100", "l", y_title, *y_range, 20)
    )
    legend = (
        '<c:legend><c:legendPos val="b"/>'
        + "".join(
            f'<c:legendEntry><c:idx val="{k}"/><c:delete val="1"/></c:legendEntry>' for k in hidden
        )
        + '<c:overlay val="0"/></c:legend>'
    )
    return _wrap(plot, title, legend=legend)


def drawing(anchors: Sequence[tuple[int, int, int, int]]) -> bytes:
    """A drawing part placing chart k (rId{k+1}) between (col, row) corners, 0-based."""
    frames = []
    for k, (c1, r1, c2, r2) in enumerate(anchors):
        frames.append(
            '<xdr:twoCellAnchor editAs="oneCell">'
            f"<xdr:from><xdr:col>{c1}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{r1}</xdr:row>"
            "<xdr:rowOff>0</xdr:rowOff></xdr:from>"
            f"<xdr:to><xdr:col>{c2}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{r2}</xdr:row>"
            "<xdr:rowOff>0</xdr:rowOff></xdr:to>"
            f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{k + 2}" '
            f'name="Chart {k + 1}"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
            '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/'
            f'chart"><c:chart xmlns:c="{NS_C}" r:id="rId{k + 1}"/></a:graphicData></a:graphic>'
            "</xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}" xmlns:r="{NS_R}">'
        + "".join(frames)
        + "</xdr:wsDr>"
    ).encode("utf-8")


def clustered_columns(
    title: str,
    categories_ref: str,
    categories: Sequence[str],
    series: Sequence[Series],
    value_axis: str,
    value_range: tuple[float, float] | None = None,
    number_format: str = "0.00",
) -> bytes:
    """Vertical columns side by side: one group per category, one colour per series
    (the Suggestions sheet: AUC today vs suggested on each held-out fold)."""
    sers = []
    for i, s in enumerate(series):
        sers.append(
            f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>'
            f"<c:tx><c:strRef><c:f>{escape(s.name_ref)}</c:f>{_str_cache([s.name])}</c:strRef>"
            "</c:tx>"
            f'<c:spPr><a:solidFill><a:srgbClr val="{s.color}"/></a:solidFill></c:spPr>'
            '<c:invertIfNegative val="0"/>'
            f"<c:cat><c:strRef><c:f>{escape(categories_ref)}</c:f>{_str_cache(categories)}"
            "</c:strRef></c:cat>"
            f"<c:val><c:numRef><c:f>{escape(s.values_ref)}</c:f>"
            f"{_num_cache(s.values, number_format)}</c:numRef></c:val></c:ser>"
        )
    scaling = '<c:orientation val="minMax"/>'
    if value_range is not None:
        scaling += f'<c:max val="{value_range[1]:g}"/><c:min val="{value_range[0]:g}"/>'
    plot = (
        '<c:barChart><c:barDir val="col"/><c:grouping val="clustered"/>'
        '<c:varyColors val="0"/>' + "".join(sers) + '<c:gapWidth val="80"/>'
        '<c:axId val="700100"/><c:axId val="700200"/></c:barChart>'
        '<c:catAx><c:axId val="700100"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="low"/>'
        '<c:crossAx val="700200"/><c:crosses val="autoZero"/><c:auto val="1"/>'
        '<c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        f'<c:valAx><c:axId val="700200"/><c:scaling>{scaling}</c:scaling>'
        '<c:delete val="0"/><c:axPos val="l"/><c:majorGridlines/>'
        + _axis_title(value_axis)
        + f'<c:numFmt formatCode="{escape(number_format)}" sourceLinked="0"/>'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="700100"/><c:crosses val="autoZero"/><c:crossBetween val="between"/>'
        "</c:valAx>"
    )
    return _wrap(plot, title)


SPARKLINES_URI = "{05C60535-1F16-4fd2-B633-F4F36F0B64E0}"
NS_X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
NS_XM = "http://schemas.microsoft.com/office/excel/2006/main"


def sparklines(sheet: str, target: str, first: str, last: str, top: int, bottom: int) -> str:
    """Excel's own line sparklines (the x14 extension openpyxl does not write): in column
    ``target`` of rows ``top``..``bottom``, each drawn from ``first``..``last`` of its row,
    on a fixed 0–100 axis so customers compare at a glance; gaps where no snapshot."""
    lines = "".join(
        f"<x14:sparkline><xm:f>{sheet}!{first}{r}:{last}{r}</xm:f>"
        f"<xm:sqref>{target}{r}</xm:sqref></x14:sparkline>"
        for r in range(top, bottom + 1)
    )
    return (
        f'<ext uri="{SPARKLINES_URI}" xmlns:x14="{NS_X14}">'
        f'<x14:sparklineGroups xmlns:xm="{NS_XM}">'
        '<x14:sparklineGroup manualMin="0" manualMax="100" lineWeight="1.25" '
        'displayEmptyCellsAs="gap" displayHidden="1" markers="0" last="1" '
        'minAxisType="custom" maxAxisType="custom">'
        '<x14:colorSeries rgb="FF376092"/><x14:colorNegative rgb="FFD00000"/>'
        '<x14:colorAxis rgb="FF000000"/><x14:colorMarkers rgb="FF376092"/>'
        '<x14:colorFirst rgb="FF376092"/><x14:colorLast rgb="FFD00000"/>'
        '<x14:colorHigh rgb="FF376092"/><x14:colorLow rgb="FF376092"/>'
        f"<x14:sparklines>{lines}</x14:sparklines>"
        "</x14:sparklineGroup></x14:sparklineGroups></ext>"
    )
