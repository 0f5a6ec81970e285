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


def _wrap(plot: str, title: str, legend: bool = True) -> bytes:
    legend_xml = '<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend>' if legend else ""
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


def scatter(
    title: str,
    x_ref: str,
    xs: Sequence[float],
    y_ref: str,
    ys: Sequence[float],
    x_title: str,
    y_title: str,
    name: str,
    color: str = "1F4E79",
    x_range: tuple[float, float] = (1, 5),
    y_range: tuple[float, float] = (0, 100),
) -> bytes:
    """Markers only: one point per customer (x = CMI, y = health score)."""
    ser = (
        '<c:ser><c:idx val="0"/><c:order val="0"/>'
        f"<c:tx><c:v>{escape(name)}</c:v></c:tx>"
        '<c:spPr><a:ln w="19050"><a:noFill/></a:ln></c:spPr>'
        f'<c:marker><c:symbol val="circle"/><c:size val="5"/><c:spPr><a:solidFill>'
        f'<a:srgbClr val="{color}"><a:alpha val="60000"/></a:srgbClr></a:solidFill>'
        "<a:ln><a:noFill/></a:ln></c:spPr></c:marker>"
        f"<c:xVal><c:numRef><c:f>{escape(x_ref)}</c:f>{_num_cache(xs)}</c:numRef></c:xVal>"
        f"<c:yVal><c:numRef><c:f>{escape(y_ref)}</c:f>{_num_cache(ys)}</c:numRef></c:yVal>"
        '<c:smooth val="0"/></c:ser>'
    )

    def axis(ax_id: str, cross: str, pos: str, text: str, lo: float, hi: float) -> str:
        return (
            f'<c:valAx><c:axId val="{ax_id}"/><c:scaling><c:orientation val="minMax"/>'
            f'<c:max val="{hi:g}"/><c:min val="{lo:g}"/></c:scaling><c:delete val="0"/>'
            f'<c:axPos val="{pos}"/><c:majorGridlines/>'
            + _axis_title(text)
            + '<c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="out"/>'
            '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
            f'<c:crossAx val="{cross}"/><c:crosses val="autoZero"/>'
            '<c:crossBetween val="midCat"/></c:valAx>'
        )

    plot = (
        '<c:scatterChart><c:scatterStyle val="lineMarker"/><c:varyColors val="0"/>'
        + ser
        + '<c:axId val="600100"/><c:axId val="600200"/></c:scatterChart>'
        + axis("600100", "600200", "b", x_title, *x_range)
        + axis("600200", "600100", "l", y_title, *y_range)
    )
    return _wrap(plot, title, legend=False)


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
