"""Voice messages and short videos: probe, a real decode, a metadata-free remux, a poster.

All in-process with PyAV (``av``), whose wheels carry FFmpeg's libraries: nothing
needs a system ffmpeg and no upload costs a subprocess. Every file is opened with
the demuxer chosen by the sniffer (so it can never be read as a playlist or an image
sequence), through a Python file object (FFmpeg opens no path or URL itself), and
under a wall-clock deadline checked between packets. Durations come from decoding
(the end of the last decoded frame), never from the container's claim.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import av.stream

from media.processing import Output, Processed, Rejected

AUDIO_CODECS = {"aac", "amr_nb", "amr_wb", "opus", "mp3", "vorbis"}
VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"}
MAX_VIDEO_PIXELS = 4096 * 2304


class _Deadline:
    def __init__(self, timeout: float) -> None:
        self.at = time.monotonic() + timeout

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise Rejected("processing_timeout", "decoding took too long")


@contextmanager
def _open(path: Path, demuxer: str) -> Iterator[av.container.InputContainer]:
    """The file opened with exactly ``demuxer``; any FFmpeg error is a refusal."""
    with path.open("rb") as handle:
        try:
            container = av.open(handle, mode="r", format=demuxer)
        except (av.FFmpegError, ValueError, OSError) as exc:
            raise Rejected("undecodable", "the demuxer refused the file") from exc
        try:
            yield container
        except (av.FFmpegError, ValueError, OSError) as exc:
            raise Rejected("undecodable", type(exc).__name__) from exc
        finally:
            container.close()


def codec_name(stream: av.stream.Stream) -> str:
    """FFmpeg's codec id name (``amr_nb``, not the decoder's ``amrnb``), as ffprobe shows."""
    context = stream.codec_context
    return context.codec.canonical_name if context is not None else ""


def _first(container: av.container.InputContainer, kind: str) -> Any:
    streams = container.streams.audio if kind == "audio" else container.streams.video
    return streams[0] if streams else None


def _attached_picture(stream: Any) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def claimed_seconds(container: av.container.InputContainer) -> float | None:
    """What the container says (may lie; only used to give up early)."""
    return container.duration / av.time_base if container.duration else None


def probe(path: Path, demuxer: str) -> dict[str, Any]:
    """Container, streams and claimed duration (what ``bench/media.py`` times)."""
    with _open(path, demuxer) as container:
        return {
            "format": container.format.name,
            "duration": claimed_seconds(container),
            "streams": [
                {
                    "type": stream.type,
                    "codec": codec_name(stream),
                    "width": getattr(stream.codec_context, "width", None),
                    "height": getattr(stream.codec_context, "height", None),
                }
                for stream in container.streams
            ],
        }


def _end(frame: Any) -> Fraction | None:
    """The time at which a decoded frame ends."""
    if frame.pts is None or frame.time_base is None:
        return None
    start = Fraction(frame.pts * frame.time_base)
    if isinstance(frame, av.AudioFrame):
        return start + Fraction(frame.samples, frame.sample_rate)
    return start + Fraction((frame.duration or 0) * frame.time_base)


def _decode(
    container: av.container.InputContainer,
    streams: list[Any],
    deadline: _Deadline,
    *,
    poster_at: float | None = None,
) -> tuple[float, Any]:
    """Decode ``streams`` completely: (seconds from first frame to last end, poster frame).

    The poster is the first video frame at or after ``poster_at`` (else the last one).
    """
    first: Fraction | None = None
    last: Fraction | None = None
    poster = None
    for packet in container.demux(streams):
        deadline.check()
        frames: Any = packet.decode()
        for frame in frames:
            if frame.pts is None:
                continue
            start = frame.pts * frame.time_base
            end = _end(frame)
            first = start if first is None else min(first, start)
            last = end if last is None or (end is not None and end > last) else last
            wanted = poster_at is not None and isinstance(frame, av.VideoFrame)
            if wanted and (poster is None or poster.time < poster_at):
                poster = frame
    if first is None or last is None or last <= first:
        raise Rejected("no_stream", "nothing decoded")
    return float(last - first), poster


def remux(path: Path, demuxer: str, kinds: list[str], muxer: str, deadline: _Deadline) -> bytes:
    """Copy the first audio/video streams into a fresh container with no metadata at all.

    Only the copied streams survive (no data, subtitle or attachment streams), none of
    the global or per-stream tags (QuickTime location ``©xyz``, titles, encoder and
    device names) and no chapters: the output container starts empty and only codec
    parameters are copied over.
    """
    options = {"fflags": "+bitexact"}
    if muxer in {"mp4", "ipod", "3gp", "mov"}:
        options["movflags"] = "+faststart"
    if muxer == "mp3":
        options.update({"id3v2_version": "0", "write_id3v1": "0"})
    with tempfile.TemporaryDirectory(prefix="meetnow-remux-") as tmp:
        out_path = Path(tmp) / "out"
        with _open(path, demuxer) as source:
            inputs = [s for s in (_first(source, kind) for kind in kinds) if s is not None]
            try:
                with av.open(str(out_path), mode="w", format=muxer, options=options) as out:
                    mapping = {s.index: out.add_stream_from_template(s) for s in inputs}
                    for stream in mapping.values():
                        stream.metadata.clear()
                    for packet in source.demux(inputs):
                        deadline.check()
                        if packet.dts is None:
                            continue  # the flush packet demux() ends each stream with
                        packet.stream = mapping[packet.stream.index]
                        out.mux(packet)
            except (av.FFmpegError, ValueError) as exc:
                raise Rejected("undecodable", "remux failed") from exc
        if not out_path.exists() or out_path.stat().st_size == 0:
            raise Rejected("undecodable", "remux failed")
        return out_path.read_bytes()


def _png(frame: Any) -> bytes:
    buffer = io.BytesIO()
    frame.to_image().save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _audio_output(codec: str, demuxer: str) -> tuple[str, str, str]:
    """(FFmpeg muxer, content type, extension) for a copied audio stream."""
    if codec == "aac":
        return ("adts", "audio/aac", "aac") if demuxer == "aac" else ("ipod", "audio/mp4", "m4a")
    if codec in {"amr_nb", "amr_wb"}:
        return "3gp", "audio/3gpp", "3gp"
    if codec == "mp3":
        return "mp3", "audio/mpeg", "mp3"
    if demuxer == "matroska":
        return "webm", "audio/webm", "webm"
    return "ogg", "audio/ogg", "ogg"


def process_audio(path: Path, *, demuxer: str, max_seconds: int, timeout: float) -> Processed:
    deadline = _Deadline(timeout)
    with _open(path, demuxer) as container:
        stream = _first(container, "audio")
        if stream is None:
            raise Rejected("no_stream", "no audio stream")
        codec = codec_name(stream)
        if codec not in AUDIO_CODECS:
            raise Rejected("unsupported_codec", codec)
        claimed = claimed_seconds(container)
        if claimed is not None and claimed > max_seconds + 1:
            raise Rejected("too_long")  # early out; the decode below is the real measure
        seconds, _ = _decode(container, [stream], deadline)
    if seconds > max_seconds + 0.05:
        raise Rejected("too_long")
    muxer, content_type, extension = _audio_output(codec, demuxer)
    data = remux(path, demuxer, ["audio"], muxer, deadline)
    result = Processed(kind="audio", duration_ms=round(seconds * 1000))
    result.variants["original"] = Output(data, content_type, extension)
    return result


def process_video(
    path: Path,
    *,
    demuxer: str,
    max_seconds: int,
    timeout: float,
) -> tuple[Processed, bytes] | None:
    """(result, poster PNG) for a video; None when the file holds no video stream."""
    deadline = _Deadline(timeout)
    with _open(path, demuxer) as container:
        video = _first(container, "video")
        if video is None or _attached_picture(video):
            return None
        audio = _first(container, "audio")
        codec = codec_name(video)
        audio_codec = codec_name(audio) if audio is not None else None
        if codec not in VIDEO_CODECS:
            raise Rejected("unsupported_codec", codec)
        if audio_codec is not None and audio_codec not in AUDIO_CODECS:
            raise Rejected("unsupported_codec", audio_codec)
        width, height = video.codec_context.width or 0, video.codec_context.height or 0
        if width < 1 or height < 1:
            raise Rejected("undecodable", "no frame size")
        if width * height > MAX_VIDEO_PIXELS:
            raise Rejected("too_many_pixels")
        claimed = claimed_seconds(container)
        if claimed is not None and claimed > max_seconds + 1:
            raise Rejected("too_long")
        poster_at = min(1.0, (claimed or 0) / 2)
        streams = [video] + ([audio] if audio is not None else [])
        seconds, poster = _decode(container, streams, deadline, poster_at=poster_at)
        if poster is None:
            raise Rejected("undecodable", "no video frame")
        poster_png = _png(poster)
    if seconds > max_seconds + 0.05:
        raise Rejected("too_long")
    if demuxer == "matroska":
        muxer, content_type, extension = "webm", "video/webm", "webm"
    elif audio_codec in {"amr_nb", "amr_wb"}:
        muxer, content_type, extension = "3gp", "video/3gpp", "3gp"
    else:
        muxer, content_type, extension = "mp4", "video/mp4", "mp4"
    kinds = ["video"] + (["audio"] if audio_codec is not None else [])
    data = remux(path, demuxer, kinds, muxer, deadline)
    result = Processed(kind="video", width=width, height=height, duration_ms=round(seconds * 1000))
    result.variants["original"] = Output(data, content_type, extension)
    return result, poster_png
