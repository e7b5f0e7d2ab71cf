"""A small map image of the region for picking a place without JavaScript.

The tip form shows it as ``<input type="image">``: a click submits the form with the pixel
(``map.x``, ``map.y``), which ``pixel_to_lonlat`` turns back into WGS84 degrees. Equirectangular,
drawn once with Pillow from the bundled Natural Earth outline and the corridor towns.
"""

from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw

from bolo.reports.geocode import DATA_DIR

WEST, EAST, SOUTH, NORTH = 124.0, 131.0, 37.6, 43.1
WIDTH = 560
HEIGHT = round(WIDTH * (NORTH - SOUTH) / (EAST - WEST) * 1.3)


def lonlat_to_pixel(lon: float, lat: float) -> tuple[float, float]:
    """Pixel (x, y) of a WGS84 point on the map image."""
    return ((lon - WEST) / (EAST - WEST) * WIDTH, (NORTH - lat) / (NORTH - SOUTH) * HEIGHT)


def pixel_to_lonlat(x: float, y: float) -> tuple[float, float]:
    """WGS84 (lon, lat) of a pixel of the map image; raises ValueError outside the image."""
    if not (0 <= x <= WIDTH and 0 <= y <= HEIGHT):
        raise ValueError(f"map click ({x}, {y}) is outside the {WIDTH}x{HEIGHT} map")
    return WEST + x / WIDTH * (EAST - WEST), NORTH - y / HEIGHT * (NORTH - SOUTH)


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    coordinates: list[Any] = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        return list(coordinates)
    return [ring for polygon in coordinates for ring in polygon]


@lru_cache(maxsize=1)
def map_png() -> bytes:
    """The map as PNG bytes (drawn on first use, then cached)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (214, 230, 245))
    draw = ImageDraw.Draw(image)
    country = json.loads((DATA_DIR / "ne50m_prk_country.geojson").read_text(encoding="utf-8"))
    for feature in country["features"]:
        for ring in _rings(feature["geometry"]):
            draw.polygon(
                [lonlat_to_pixel(x, y) for x, y in ring], fill=(246, 243, 232), outline=(90, 90, 90)
            )
    with (DATA_DIR / "nodes.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] != "city":
                continue
            x, y = lonlat_to_pixel(float(row["lon"]), float(row["lat"]))
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(160, 30, 30))
            draw.text((x + 5, y - 6), row["id"].title(), fill=(30, 30, 30))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
