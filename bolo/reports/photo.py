"""Tip photos: limit size and type, read the GPS position from EXIF, then strip all metadata.

The stored image is re-encoded from its pixels only (after applying the EXIF orientation), so no
EXIF, XMP, ICC, comments or text chunks survive: a tipster's camera, phone serial or home position
is not kept beyond the coordinates the tip needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from bolo.i18n import N_

MAX_PHOTO_BYTES = 5 * 1024 * 1024
# Checked from the header, before any pixel is decoded: decoding costs 4 bytes per pixel and
# more (a 6320x6320 PNG of 200 KB took ~370 MB). Phones take 12 MP photos.
MAX_PIXELS = 12_600_000
MAX_SIDE = 2048
# Photos decode in their own small pool: at most DECODE_WORKERS at once (each bounded by
# MAX_PIXELS), DECODE_WAITING more wait; beyond that an upload is refused (429), so a burst of
# photos can neither exhaust memory nor take the threads every other request runs on.
DECODE_WORKERS = 2
DECODE_WAITING = 16
_decoder = ThreadPoolExecutor(max_workers=DECODE_WORKERS, thread_name_prefix="bolo-photo")
_slots = threading.BoundedSemaphore(DECODE_WORKERS + DECODE_WAITING)
_GPS_IFD = 0x8825


class PhotoError(ValueError):
    """The upload is not an acceptable photo; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class PhotoType(StrEnum):
    """The image formats accepted from tipsters."""

    JPEG = "JPEG"
    PNG = "PNG"
    WEBP = "WEBP"


@dataclass(frozen=True)
class CleanPhoto:
    """A re-encoded photo without metadata, with the GPS position its EXIF held (if any)."""

    data: bytes
    sha256: str
    extension: str
    lat: float | None
    lon: float | None


def _rational(value: Any) -> float:
    if isinstance(value, tuple):
        numerator, denominator = value
        return float(numerator) / float(denominator) if denominator else 0.0
    return float(value)


def _dms(values: Any, ref: Any, negative: str) -> float | None:
    try:
        degrees, minutes, seconds = (_rational(v) for v in values)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    decimal = degrees + minutes / 60.0 + seconds / 3600.0
    return -decimal if str(ref).strip().upper().startswith(negative) else decimal


def exif_position(image: Image.Image) -> tuple[float, float] | None:
    """The WGS84 (lat, lon) in degrees from the image's EXIF GPS tags, or None (absent/invalid)."""
    gps = image.getexif().get_ifd(_GPS_IFD)
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _dms(gps[2], gps.get(1, "N"), "S")
    lon = _dms(gps[4], gps.get(3, "E"), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0.0 and lon == 0.0:
        return None
    return lat, lon


def clean_photo(raw: bytes) -> CleanPhoto:
    """Check an uploaded photo (size, type, pixel count), read its EXIF GPS position and return it
    re-encoded without any metadata. Raises PhotoError (413 too big, 415 wrong type, 422 broken)."""
    if len(raw) > MAX_PHOTO_BYTES:
        raise PhotoError(f"photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MiB", 413)
    if not raw:
        raise PhotoError(N_("photo is empty"))
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind = probe.format or ""
            if kind not in PhotoType.__members__:
                raise PhotoError(N_("photo must be JPEG, PNG or WebP"), 415)
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoError(
                    f"photo has more than {MAX_PIXELS / 1e6:.1f} million pixels "
                    f"({probe.width}x{probe.height})",
                    413,
                )
            position = exif_position(probe)
            # Shrunk before anything else copies it: JPEG decodes at a reduced scale (draft),
            # the others are resized in place, so only one full-size image ever exists.
            probe.thumbnail((MAX_SIDE, MAX_SIDE))
            upright = ImageOps.exif_transpose(probe)
    except UnidentifiedImageError as exc:
        raise PhotoError(N_("photo must be JPEG, PNG or WebP"), 415) from exc
    except (OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise PhotoError(f"photo cannot be read: {exc}") from exc
    # Copy pixels into a fresh image so no info dict (EXIF, ICC, XMP, text) is carried over.
    mode = "RGBA" if kind == "PNG" and upright.mode in ("RGBA", "LA", "P") else "RGB"
    pixels = upright.convert(mode)
    bare = Image.new(mode, pixels.size)
    bare.paste(pixels)
    out = io.BytesIO()
    if mode == "RGBA":
        bare.save(out, format="PNG", optimize=False)
        extension = "png"
    else:
        bare.save(out, format="JPEG", quality=85)
        extension = "jpg"
    data = out.getvalue()
    lat, lon = position if position else (None, None)
    return CleanPhoto(data, hashlib.sha256(data).hexdigest(), extension, lat, lon)


async def clean_photo_bounded(raw: bytes) -> CleanPhoto:
    """``clean_photo`` in the photo pool (see DECODE_WORKERS): PhotoError 429 when
    DECODE_WAITING photos are already waiting, else as ``clean_photo``."""
    if not _slots.acquire(blocking=False):
        raise PhotoError(N_("too many photos are being processed: try again in a minute"), 429)
    try:
        return await asyncio.wrap_future(_decoder.submit(clean_photo, raw))
    finally:
        _slots.release()
