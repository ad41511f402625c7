"""Raw AMR (``#!AMR`` / ``#!AMR-WB``): exact duration by counting frames.

ffprobe only estimates a raw AMR file's duration from its size (7.54 s for a 7.30 s
clip, research/media.md). Every AMR frame is 20 ms and its size follows from the
frame type in its one-byte header, so walking the frames gives the exact duration,
proves the structure, and lets the worker rebuild the file from valid frames only.
"""

from __future__ import annotations

from media.processing import Output, Processed, Rejected

FRAME_MS = 20
NB_MAGIC, WB_MAGIC = b"#!AMR\n", b"#!AMR-WB\n"
# Bytes per frame including its header byte, by frame type (0 = invalid/reserved);
# the same tables as ffmpeg's libavformat/amr.c, reserved types refused.
NB_SIZES = (13, 14, 16, 18, 20, 21, 27, 32, 6, 0, 0, 0, 0, 0, 0, 1)
WB_SIZES = (18, 24, 33, 37, 41, 47, 51, 59, 61, 6, 0, 0, 0, 0, 1, 1)


def count_frames(data: bytes) -> tuple[bytes, int, bool]:
    """(header, frame count, wideband) of a raw AMR file; raises Rejected if malformed.

    A cut-off last frame (a recording interrupted mid-write) is dropped; anything
    else that is not a frame is refused.
    """
    if data.startswith(WB_MAGIC):
        magic, sizes, wideband = WB_MAGIC, WB_SIZES, True
    elif data.startswith(NB_MAGIC):
        magic, sizes, wideband = NB_MAGIC, NB_SIZES, False
    else:
        raise Rejected("undecodable", "no AMR header")
    pos, frames, end = len(magic), 0, len(data)
    while pos < end:
        size = sizes[(data[pos] >> 3) & 0x0F]
        if size == 0 or data[pos] & 0x80:
            raise Rejected("undecodable", "bad AMR frame header")
        if pos + size > end:
            break  # truncated final frame
        pos += size
        frames += 1
    if frames == 0:
        raise Rejected("no_stream", "no AMR frames")
    return magic, frames, wideband


def process_amr(data: bytes) -> Processed:
    magic, frames, wideband = count_frames(data)
    body_end = len(magic)
    sizes = WB_SIZES if wideband else NB_SIZES
    for _ in range(frames):
        body_end += sizes[(data[body_end] >> 3) & 0x0F]
    result = Processed(kind="audio", duration_ms=frames * FRAME_MS)
    content_type = "audio/amr-wb" if wideband else "audio/amr"
    result.variants["original"] = Output(
        data[:body_end], content_type, "awb" if wideband else "amr"
    )
    return result
