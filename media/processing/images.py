"""Photos: decode fully, strip every piece of metadata but the colour profile, re-encode.

The recipe and its pitfalls are measured in research/media.md:
- ``Image.open(formats=...)`` with an explicit list, so TIFF or HTML never reach a decoder;
- the pixel limit raises (Pillow only *warns* up to twice its limit by default);
- ``verify()`` does not decode a JPEG, so the image is reopened and loaded for real;
- ``draft()`` before ``exif_transpose()`` (which decodes): a 12 MP JPEG decodes at
  the scale it is needed, 2-3x faster and in a third of the memory;
- ``info = {}`` before saving, because Pillow writes back XMP, comments and EXIF it
  finds there; the ICC profile is passed explicitly to keep colours right.
"""

from __future__ import annotations

import io
import warnings
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from media.processing import Output, Processed, Rejected

FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "AVIF", "HEIF")

register_heif_opener()  # adds Pillow's "HEIF" format; only used when listed explicitly
THUMBNAIL_SIDES = {"1024": 1024, "256": 256}
JPEG_QUALITY = 82


def _open(source: IO[bytes], max_pixels: int, formats: tuple[str, ...]) -> Image.Image:
    source.seek(0)
    Image.MAX_IMAGE_PIXELS = max_pixels  # open() refuses more than this (error, see below)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source, formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected("too_many_pixels") from exc
    except UnidentifiedImageError as exc:
        raise Rejected("undecodable", "not an allowed image format") from exc
    except Exception as exc:  # OSError, SyntaxError, struct.error... from a hostile header
        raise Rejected("undecodable", type(exc).__name__) from exc
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise Rejected("too_many_pixels")
    return image


def _draft_box(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size to ask ``draft()`` for so a JPEG decodes at a cheap DCT scale.

    ``draft()`` picks the largest reduction (1/2, 1/4, 1/8) that keeps *both* sides at
    least the requested ones. Asking for three quarters of ``max_side`` (same aspect)
    lets a 4032 px phone photo decode at 1/2 (2016 px, kept as is) instead of in
    full followed by a resize: twice as fast for a slightly smaller copy.
    """
    width, height = size
    long_side = max(1, max_side * 3 // 4)
    if width >= height:
        return long_side, max(1, long_side * height // width)
    return max(1, long_side * width // height), long_side


def decode(
    source: IO[bytes], *, max_pixels: int, max_side: int, formats: tuple[str, ...] = FORMATS
) -> Image.Image:
    """Open, check, fully decode (at the scale needed) and orient an untrusted image.

    The result is RGB, RGBA or L, upright, at most ``max_side`` on its long side
    after drafting, with no metadata in ``info`` except ``icc_profile`` when the
    profile still matches the pixels.
    """
    try:
        _open(source, max_pixels, formats).verify()  # structure, checksums (PNG CRCs); cheap
    except Rejected:
        raise
    except Exception as exc:  # verify() raises SyntaxError, OSError, struct.error...
        raise Rejected("undecodable", type(exc).__name__) from exc
    image = _open(source, max_pixels, formats)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # broken EXIF: Pillow copes
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.draft("RGB", _draft_box(image.size, max_side))  # JPEG: 1/2, 1/4, 1/8
            image.load()  # the real decode: a truncated or corrupt file fails here
            ImageOps.exif_transpose(image, in_place=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected("too_many_pixels") from exc
    except Exception as exc:  # a hostile file can make any decoder raise anything
        raise Rejected("undecodable", type(exc).__name__) from exc

    icc = image.info.get("icc_profile") if image.mode in {"RGB", "RGBA"} else None
    has_alpha = image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        converted = image if image.mode == "RGBA" else image.convert("RGBA")
    elif image.mode in {"RGB", "L"}:
        converted = image
    else:
        converted = image.convert("RGB")  # CMYK, YCbCr, P, I;16... (their profile dropped)
    converted.info = {}  # no EXIF, XMP, comment, text chunks, DPI: nothing
    converted = shrink(converted, max_side)
    converted.info = {}
    if icc:
        converted.info["icc_profile"] = icc
    return converted


def encode(image: Image.Image) -> Output:
    """Re-encode a decoded image: JPEG, or PNG when it has transparency."""
    buffer = io.BytesIO()
    icc = image.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    # decode() left nothing but the ICC profile in ``info`` (Pillow writes XMP and
    # comments back from there); make sure of it without copying pixels.
    image.info = {"icc_profile": icc} if icc else {}
    if image.mode == "RGBA":
        image.save(buffer, format="PNG", compress_level=6, **extra)
        return Output(buffer.getvalue(), "image/png", "png")
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, **extra)
    return Output(buffer.getvalue(), "image/jpeg", "jpg")


def shrink(image: Image.Image, side: int) -> Image.Image:
    """``image`` with its long side at most ``side`` (and at least 95% of it).

    An integer box reduction (``reduce``, 5 ms for 3 MP) gets within 5% of the
    target whenever it can; a bicubic resize (45 ms for the same 3 MP) only covers
    what is left, on a small image. A 4032 px photo becomes 1008 px, not 1024.
    """
    long_side = max(image.size)
    if long_side <= side:
        return image
    factor = int(long_side // (side * 0.95))
    if factor >= 2:
        image = image.reduce(factor)
    if max(image.size) > side:
        width, height = image.size
        scale = side / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.BICUBIC)
    return image


def thumbnails(image: Image.Image) -> dict[str, Output]:
    """The 1024 px and 256 px copies, the smaller made from the larger."""
    out: dict[str, Output] = {}
    icc = image.info.get("icc_profile")
    current = image
    for name, side in sorted(THUMBNAIL_SIDES.items(), key=lambda item: -item[1]):
        current = shrink(current, side)
        current.info = {"icc_profile": icc} if icc else {}
        out[name] = encode(current)
    return out


def process_image(
    source: IO[bytes], *, max_pixels: int, max_side: int, formats: tuple[str, ...] = FORMATS
) -> Processed:
    """Only the format the sniffer saw is tried (an MPO opens through "JPEG")."""
    image = decode(source, max_pixels=max_pixels, max_side=max_side, formats=formats)
    result = Processed(kind="image", width=image.width, height=image.height)
    result.variants["original"] = encode(image)
    result.variants.update(thumbnails(image))
    return result


def process_poster(data: bytes, *, max_pixels: int, max_side: int) -> dict[str, Output]:
    """Thumbnails of a video's poster frame (a PNG of a frame PyAV decoded)."""
    image = decode(io.BytesIO(data), max_pixels=max_pixels, max_side=max_side, formats=("PNG",))
    return thumbnails(image)
