"""A letter as PDF, drawn by fpdf2 in Noto Sans CJK SC, a font with the Latin and the Chinese
glyphs both, shipped on PyPI (``noto-cjk-sans-otc``, SIL Open Font License) so that nothing is
fetched at run time. Only the glyphs a letter uses are embedded.

Drawing one takes about 0.3 s of CPU, most of it reading the font, so callers run it off the
event loop."""

import noto_cjk_sans_otc
from fpdf import FPDF

from services.complaints.letters.models import ComplaintLetter

_FONT = "NotoSansCJKsc"
# The collection's faces: JP, KR, SC, TC, HK, then the monospaced ones; the letters use SC.
_SIMPLIFIED_CHINESE_FACE = 2
_LINE_MM = 6.0


def pdf_of(letter: ComplaintLetter) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(letter.subject)
    pdf.set_lang(letter.language)
    pdf.set_margins(20, 20, 20)
    pdf.add_font(
        _FONT,
        fname=str(noto_cjk_sans_otc.FONT_PATH),
        collection_font_number=_SIMPLIFIED_CHINESE_FACE,
    )
    pdf.add_page()
    pdf.set_font(_FONT, size=14)
    pdf.multi_cell(0, _LINE_MM * 1.4, letter.subject)
    pdf.ln(_LINE_MM)
    pdf.set_font(_FONT, size=11)
    pdf.multi_cell(0, _LINE_MM, letter.body)
    return bytes(pdf.output())
