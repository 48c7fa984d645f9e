"""`hotline qr`: printable posters whose QR code opens the chat page for one village
(``/chat?v=河湾村&t=城关镇``), so the bot knows the village without asking.

One A4 poster per village, as PNG and PDF; for a township (or the whole county) also one PDF
with every village's poster as a page, for the print shop. The code is drawn by segno, the
page by Pillow with a Chinese font installed on the machine (Debian: fonts-wqy-microhei, which
``make browser`` installs, or fonts-noto-cjk)."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import segno
from PIL import Image, ImageDraw, ImageFont

from classifiers.paths import var_dir
from classifiers.places import Gazetteer, Village, load_gazetteer

DPI = 200
PAGE = (1654, 2339)  # A4 at 200 dpi
RED, BLACK, WHITE = (139, 0, 0), (17, 17, 17), (255, 255, 255)
# What can be reported, and that it stays anonymous: the two lines every poster carries.
WHAT_LINES = (
    "低保、补贴、工程、集体财务不公，都可以反映",
    "可以匿名，村里不会知道是谁反映的",
)
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


class PosterError(Exception):
    """Said to the operator in Chinese; the command exits 2."""


@dataclass(frozen=True)
class Poster:
    village: Village
    url: str
    png: Path
    pdf: Path


def chat_link(base_url: str, village: Village) -> str:
    """The address the code holds: the chat page with the village and its township."""
    query = urlencode({"v": village.name, "t": village.township})
    return f"{base_url.rstrip('/')}/chat?{query}"


def cjk_font_path() -> Path:
    """A font with Chinese glyphs: the usual Debian files, else whatever fontconfig names."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", ":lang=zh"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if found and Path(found).exists() and "dejavu" not in found.lower():
        return Path(found)
    raise PosterError(
        "没有找到中文字体：请安装 fonts-wqy-microhei 或 fonts-noto-cjk（make browser）"
    )


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, font, fill) -> int:
    """Draw one line centred; returns the y below it."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((PAGE[0] - (right - left)) // 2 - left, y - top), text, font=font, fill=fill)
    return y + (bottom - top)


def _fit(text: str, font_path: Path, size: int, width: int) -> ImageFont.FreeTypeFont:
    """The largest font up to ``size`` that fits the line into ``width``."""
    while size > 20:
        font = ImageFont.truetype(str(font_path), size)
        if font.getlength(text) <= width:
            return font
        size -= 4
    return ImageFont.truetype(str(font_path), size)


def render_poster(village: Village, url: str, font_path: Path) -> Image.Image:
    """One A4 page: title, the village, the code, what can be reported and that it is anonymous."""
    page = Image.new("RGB", PAGE, WHITE)
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, PAGE[0], 300), fill=RED)
    margin = 110
    width = PAGE[0] - 2 * margin
    y = _centered(
        draw, 70, "小微权力“监督一点通”", _fit("小微权力“监督一点通”", font_path, 120, width), WHITE
    )
    _centered(draw, y + 40, "扫一扫，有事您说", ImageFont.truetype(str(font_path), 64), WHITE)
    place = f"{village.township} {village.name}"
    y = _centered(draw, 370, place, _fit(place, font_path, 110, width), BLACK)
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=1, border=4)
    code = Image.open(buffer).convert("1")
    side = 1100
    code = code.resize((side, side), Image.Resampling.NEAREST)
    top = y + 70
    page.paste(code, ((PAGE[0] - side) // 2, top))
    y = top + side + 60
    y = _centered(
        draw, y, "微信扫一扫或手机相机扫一扫", ImageFont.truetype(str(font_path), 56), BLACK
    )
    y += 60
    for line in WHAT_LINES:
        y = _centered(draw, y, line, _fit(line, font_path, 84, width), RED) + 50
    small = ImageFont.truetype(str(font_path), 36)
    _centered(draw, PAGE[1] - 120, "不会扫码？打热线，或请网格员帮您反映", small, BLACK)
    return page


def villages_for(gazetteer: Gazetteer, township: str | None, village: str | None) -> list[Village]:
    if village:
        found = [v for v in gazetteer.villages if v.name == village]
        if township:
            found = [v for v in found if v.township == township]
        if not found:
            raise PosterError(f"地名表（config/places.yml）里没有“{township or ''}{village}”")
        if len(found) > 1:
            raise PosterError(f"有几个村都叫“{village}”，请用 --township 说是哪个镇的")
        return found
    if township:
        chosen = gazetteer.township(township)
        if chosen is None:
            raise PosterError(f"地名表（config/places.yml）里没有“{township}”")
        return list(chosen.villages)
    return gazetteer.villages


def make_posters(
    base_url: str, out: Path, villages: list[Village], font_path: Path | None = None
) -> tuple[list[Poster], Path | None]:
    """One PNG and one PDF per village; with several villages also all of them in one PDF."""
    font = font_path or cjk_font_path()
    out.mkdir(parents=True, exist_ok=True)
    posters, pages = [], []
    for village in villages:
        url = chat_link(base_url, village)
        page = render_poster(village, url, font)
        stem = f"{village.township}-{village.name}"
        png, pdf = out / f"{stem}.png", out / f"{stem}.pdf"
        page.save(png, dpi=(DPI, DPI))
        page.save(pdf, resolution=DPI)
        posters.append(Poster(village, url, png, pdf))
        pages.append(page)
    combined = None
    if len(pages) > 1:
        towns = dict.fromkeys(v.township for v in villages)
        combined = out / f"{'-'.join(towns) if len(towns) <= 2 else '全县'}-全部.pdf"
        pages[0].save(combined, resolution=DPI, save_all=True, append_images=pages[1:])
    return posters, combined


def cmd_qr(args: argparse.Namespace) -> int:
    try:
        villages = villages_for(load_gazetteer(), args.township, args.village)
        posters, combined = make_posters(args.url, Path(args.out), villages)
    except PosterError as exc:
        print(exc, file=sys.stderr)
        return 2
    for poster in posters:
        print(f"{poster.png}  {poster.pdf}  {poster.url}")
    if combined:
        print(f"合在一起打印：{combined}（{len(posters)}页）")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("qr", help="printable QR posters (PNG and PDF) opening the chat page")
    p.add_argument("--village", help="one village (a name in config/places.yml)")
    p.add_argument("--township", help="every village of this township (or the village's)")
    p.add_argument(
        "--url",
        default=os.environ.get("HOTLINE_PUBLIC_URL", "http://127.0.0.1:8000"),
        help="the public address residents reach the case service at",
    )
    p.add_argument("--out", default=str(var_dir() / "posters"), help="output folder")
    p.set_defaults(func=cmd_qr)
