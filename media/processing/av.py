"""Voice messages and short videos: ffprobe, a real decode, a metadata-free remux.

Every ffmpeg call forces the demuxer chosen by the sniffer (so a file can never be
read as a playlist or an image sequence), allows only the ``file`` protocol, reads
no stdin and has a timeout. Durations come from decoding (the timestamp of the last
decoded frame), never from the container's claim.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from media.processing import Output, Processed, Rejected

AUDIO_CODECS = {"aac", "amr_nb", "amr_wb", "opus", "mp3", "vorbis"}
VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"}
MAX_VIDEO_PIXELS = 4096 * 2304


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(  # noqa: S603 - fixed program, no shell, our own arguments
            args, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise Rejected("processing_timeout", args[0]) from exc
    except FileNotFoundError as exc:
        raise Rejected("processing_failed", "ffmpeg is not installed") from exc


def _input(path: Path, demuxer: str) -> list[str]:
    return ["-protocol_whitelist", "file", "-f", demuxer, "-i", str(path)]


def probe(path: Path, demuxer: str, *, timeout: float) -> dict[str, Any]:
    args = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json"]
    result = _run([*args, *_input(path, demuxer)], timeout=timeout)
    if result.returncode != 0:
        raise Rejected("undecodable", "ffprobe refused the file")
    try:
        info: dict[str, Any] = json.loads(result.stdout)
    except ValueError as exc:
        raise Rejected("undecodable", "ffprobe output") from exc
    return info


def _first(info: dict[str, Any], codec_type: str) -> dict[str, Any] | None:
    for stream in info.get("streams", []):
        if stream.get("codec_type") == codec_type:
            return dict(stream)
    return None


def decoded_seconds(path: Path, demuxer: str, maps: list[str], *, timeout: float) -> float:
    """Decode the mapped streams completely; the end time of what was decoded."""
    args = ["ffmpeg", "-nostdin", "-v", "error", "-xerror", *_input(path, demuxer)]
    for stream in maps:
        args += ["-map", stream]
    args += ["-f", "null", "-progress", "pipe:1", "-nostats", "-"]
    result = _run(args, timeout=timeout)
    if result.returncode != 0:
        raise Rejected("undecodable", "decoding failed")
    out_us = None
    for line in result.stdout.decode("ascii", "replace").splitlines():
        key, _, value = line.partition("=")
        if key == "out_time_us" and value.strip().lstrip("-").isdigit():
            out_us = int(value)
    if not out_us or out_us <= 0:
        raise Rejected("no_stream", "nothing decoded")
    return out_us / 1_000_000


def remux(path: Path, demuxer: str, maps: list[str], muxer: str, *, timeout: float) -> bytes:
    """Copy the mapped streams into a fresh container with no metadata at all.

    ``-map_metadata -1`` drops global and per-stream tags (QuickTime location
    ``©xyz``, titles, encoder and device names), ``-map_chapters -1`` the chapters;
    only the mapped streams survive (no data, subtitle or attachment streams).
    """
    with tempfile.TemporaryDirectory(prefix="meetnow-remux-") as tmp:
        out = Path(tmp) / "out"
        args = ["ffmpeg", "-nostdin", "-v", "error", *_input(path, demuxer)]
        for stream in maps:
            args += ["-map", stream]
        args += ["-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1"]
        args += ["-fflags", "+bitexact"]
        if muxer in {"mp4", "ipod", "3gp", "mov"}:
            args += ["-movflags", "+faststart"]
        if muxer == "mp3":
            args += ["-id3v2_version", "0", "-write_id3v1", "0"]
        args += ["-f", muxer, str(out)]
        result = _run(args, timeout=timeout)
        if result.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            raise Rejected("undecodable", "remux failed")
        return out.read_bytes()


def poster_frame(path: Path, demuxer: str, at: float, *, timeout: float) -> bytes:
    """One decoded video frame as PNG bytes (the poster)."""
    for seek in (at, 0.0):
        args = ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{seek:.3f}"]
        args += [*_input(path, demuxer), "-map", "0:v:0", "-frames:v", "1"]
        args += ["-f", "image2pipe", "-c:v", "png", "-"]
        result = _run(args, timeout=timeout)
        if result.returncode == 0 and result.stdout:
            return result.stdout
    raise Rejected("undecodable", "no video frame")


def _audio_output(codec: str, demuxer: str) -> tuple[str, str, str]:
    """(ffmpeg muxer, content type, extension) for a copied audio stream."""
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
    info = probe(path, demuxer, timeout=timeout)
    stream = _first(info, "audio")
    if stream is None:
        raise Rejected("no_stream", "no audio stream")
    codec = str(stream.get("codec_name", ""))
    if codec not in AUDIO_CODECS:
        raise Rejected("unsupported_codec", codec)
    claimed = _float(info.get("format", {}).get("duration"))
    if claimed is not None and claimed > max_seconds + 1:
        raise Rejected("too_long")  # early out; the decode below is the real measure
    seconds = decoded_seconds(path, demuxer, ["0:a:0"], timeout=timeout)
    if seconds > max_seconds + 0.05:
        raise Rejected("too_long")
    muxer, content_type, extension = _audio_output(codec, demuxer)
    data = remux(path, demuxer, ["0:a:0"], muxer, timeout=timeout)
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
    info = probe(path, demuxer, timeout=timeout)
    video = _first(info, "video")
    if video is None or video.get("disposition", {}).get("attached_pic"):
        return None
    audio = _first(info, "audio")
    codec = str(video.get("codec_name", ""))
    if codec not in VIDEO_CODECS:
        raise Rejected("unsupported_codec", codec)
    if audio is not None and audio.get("codec_name") not in AUDIO_CODECS:
        raise Rejected("unsupported_codec", str(audio.get("codec_name")))
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width < 1 or height < 1:
        raise Rejected("undecodable", "no frame size")
    if width * height > MAX_VIDEO_PIXELS:
        raise Rejected("too_many_pixels")
    claimed = _float(info.get("format", {}).get("duration"))
    if claimed is not None and claimed > max_seconds + 1:
        raise Rejected("too_long")
    maps = ["0:v:0"] + (["0:a:0"] if audio is not None else [])
    seconds = decoded_seconds(path, demuxer, maps, timeout=timeout)
    if seconds > max_seconds + 0.05:
        raise Rejected("too_long")
    if demuxer == "matroska":
        muxer, content_type, extension = "webm", "video/webm", "webm"
    elif audio is not None and audio.get("codec_name") in {"amr_nb", "amr_wb"}:
        muxer, content_type, extension = "3gp", "video/3gpp", "3gp"
    else:
        muxer, content_type, extension = "mp4", "video/mp4", "mp4"
    data = remux(path, demuxer, maps, muxer, timeout=timeout)
    poster = poster_frame(path, demuxer, min(1.0, seconds / 2), timeout=timeout)
    result = Processed(kind="video", width=width, height=height, duration_ms=round(seconds * 1000))
    result.variants["original"] = Output(data, content_type, extension)
    return result, poster


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
