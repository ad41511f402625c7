"""Media benchmark: thumbnails per second per process, peak memory, upload latency.

Run with ``python -m bench.media`` (or ``make bench``). Everything runs on this
machine in throwaway folders; nothing touches ``var/``.

1. Photos: 12-megapixel JPEGs (4032x3024, q90, EXIF orientation 6 and GPS), each
   pipeline in its own process so peak RSS is its own:
   - ``meetnow thumbnails``: the worker's image path for the 1024 + 256 copies
     (explicit formats, pixel limit, verify, ``draft``, full decode at that scale,
     ``exif_transpose``, metadata cleared, JPEG q82);
   - ``meetnow worker``: the same plus the re-encoded "original" (long side up to
     MEETNOW_MEDIA_IMAGE_MAX_SIDE), i.e. everything ``media.process`` does to a photo;
   - ``naive``: ``Image.open`` + full ``load`` + ``exif_transpose`` + ``thumbnail``
     1024 and 256 + JPEG q82, the usual recipe.
2. Probing voice and video (container, codecs, claimed duration): PyAV in-process
   (what the worker does) against one ``ffprobe`` subprocess per file (what it did
   before; that row only where an ``ffprobe`` program is installed), per file, plus
   the worker's whole audio/video step (probe, full decode, remux, poster).
3. Upload request: ``POST /api/v1/media`` with a 3 MB photo through Django's test
   client (multipart parsing, sniffing, quota, storage write, row, enqueue on the
   embedded broker), processing off the request path as in production.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

PHOTO_SIZE = (4032, 3024)


def make_photo(size: tuple[int, int] = PHOTO_SIZE, quality: int = 90, seed: int = 0) -> bytes:
    """A photo-like 12 MP JPEG: smooth gradients, shapes, mild sensor noise, EXIF."""
    from PIL import Image, ImageDraw, ImageFilter

    width, height = size
    small = Image.effect_mandelbrot(
        (width // 8, height // 8), (-2.0 + seed / 10, -1.2, 1.0, 1.2), 60
    )
    base = small.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    tint = Image.linear_gradient("L").resize(size)
    base = Image.merge("RGB", (base.getchannel(0), tint, base.getchannel(2)))
    draw = ImageDraw.Draw(base)
    for index in range(40):
        x = (index * 997 + seed * 131) % width
        y = (index * 613 + seed * 71) % height
        draw.ellipse((x, y, x + 300, y + 200), fill=((index * 37) % 255, 120, (index * 91) % 255))
    base = base.filter(ImageFilter.GaussianBlur(1))
    # Sensor noise and fine texture are what make real photos 2-5 MB at q90.
    noise = Image.merge("RGB", [Image.effect_noise(size, 60 + 10 * band) for band in range(3)])
    image = Image.blend(base, noise, 0.12)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "BenchPhone"
    exif[0x8825] = {1: "N", 2: (48, 51, 29), 3: "E", 4: (2, 17, 40)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def pipeline_meetnow_thumbnails(data: bytes) -> None:
    from media.processing import images

    image = images.decode(io.BytesIO(data), max_pixels=40_000_000, max_side=1024)
    images.thumbnails(image)


def pipeline_meetnow_worker(data: bytes) -> None:
    from django.conf import settings

    from media.processing import images

    images.process_image(
        io.BytesIO(data),
        max_pixels=settings.MEETNOW_MEDIA_IMAGE_MAX_PIXELS,
        max_side=settings.MEETNOW_MEDIA_IMAGE_MAX_SIDE,
    )


def pipeline_naive(data: bytes) -> None:
    from PIL import Image, ImageOps

    opened = Image.open(io.BytesIO(data))
    opened.load()
    image = ImageOps.exif_transpose(opened)
    for side in (1024, 256):
        copy = image.copy()
        copy.thumbnail((side, side))
        copy.save(io.BytesIO(), format="JPEG", quality=82)


PIPELINES: dict[str, Callable[[bytes], None]] = {
    "meetnow thumbnails (1024+256)": pipeline_meetnow_thumbnails,
    "meetnow worker (original+1024+256)": pipeline_meetnow_worker,
    "naive Pillow (1024+256)": pipeline_naive,
}


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetnow.settings")
    import django

    django.setup()


def _rss_kb(field: str) -> int:
    """Resident memory from /proc (VmRSS now, VmHWM the peak), in kB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak_rss() -> None:
    """Start the peak (VmHWM) afresh, so it measures the pipeline, not Django's start-up."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def _run_pipeline(name: str, photos: list[bytes], rounds: int, queue: Any) -> None:
    _setup_django()
    func = PIPELINES[name]
    from PIL import Image, ImageOps  # noqa: F401 - loaded before the baseline

    import media.processing.images  # noqa: F401

    func(photos[0])  # warm-up: codec tables
    _reset_peak_rss()
    baseline = _rss_kb("VmRSS")
    cpu: list[float] = []
    wall_start = time.perf_counter()
    for index in range(rounds):
        start = time.process_time()
        func(photos[index % len(photos)])
        cpu.append(time.process_time() - start)
    wall = time.perf_counter() - wall_start
    peak = _rss_kb("VmHWM")
    queue.put(
        {
            "name": name,
            "photos_per_s": 1 / statistics.median(cpu),
            "wall_photos_per_s": rounds / wall,
            "median_ms": statistics.median(cpu) * 1000,
            "peak_rss_mb": peak / 1024,
            "extra_rss_mb": max(0, peak - baseline) / 1024,
        }
    )


def bench_thumbnails(rounds: int) -> list[dict[str, Any]]:
    photos = [make_photo(seed=seed) for seed in range(3)]
    print(
        f"photos: {len(photos)} x {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG q90, "
        f"{statistics.mean(len(p) for p in photos) / 1e6:.1f} MB average, {rounds} per pipeline"
    )
    context = multiprocessing.get_context("spawn")
    results = []
    for name in PIPELINES:
        queue = context.Queue()
        process = context.Process(target=_run_pipeline, args=(name, photos, rounds, queue))
        process.start()
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"pipeline {name!r} failed (exit code {process.exitcode})")
        results.append(queue.get(timeout=5))
    return results


def _ffprobe(path: str, demuxer: str) -> None:
    import json
    import subprocess

    args = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json"]
    args += ["-protocol_whitelist", "file", "-f", demuxer, "-i", path]
    result = subprocess.run(args, capture_output=True, check=True, timeout=30)
    json.loads(result.stdout)


def bench_probe(rounds: int) -> list[dict[str, Any]]:
    """Median wall time per file of each way to probe, and of the worker's whole step."""
    _setup_django()
    from pathlib import Path

    from media.processing import av
    from tests.factories.media import audio_clip, video_clip

    scratch = Path(tempfile.mkdtemp(prefix="meetnow-bench-av-"))
    try:
        clips = {
            "voice M4A 7.3 s": (audio_clip("m4a", 7.3, scratch), "mov", "audio"),
            "voice Ogg Opus 7.3 s": (audio_clip("ogg", 7.3, scratch), "ogg", "audio"),
            "voice MP3 7.3 s": (audio_clip("mp3", 7.3, scratch), "mp3", "audio"),
            "video MP4 320x240 5 s": (video_clip(scratch, fmt="mp4", seconds=5), "mov", "video"),
        }
        rows: list[dict[str, Any]] = []
        for label, (data, demuxer, kind) in clips.items():
            path = scratch / f"clip-{len(rows)}"
            path.write_bytes(data)

            def step(path: Path = path, demuxer: str = demuxer, kind: str = kind) -> None:
                if kind == "audio":
                    av.process_audio(path, demuxer=demuxer, max_seconds=120, timeout=60)
                else:
                    av.process_video(path, demuxer=demuxer, max_seconds=60, timeout=60)

            def pyav_probe(path: Path = path, demuxer: str = demuxer) -> None:
                av.probe(path, demuxer)

            def ffprobe(path: Path = path, demuxer: str = demuxer) -> None:
                _ffprobe(str(path), demuxer)

            ways: dict[str, Callable[[], None]] = {"PyAV probe": pyav_probe}
            if shutil.which("ffprobe"):
                ways["ffprobe subprocess"] = ffprobe
            ways["worker step (PyAV)"] = step
            for way, func in ways.items():
                func()  # warm-up
                timings = []
                for _ in range(rounds):
                    start = time.perf_counter()
                    func()
                    timings.append((time.perf_counter() - start) * 1000)
                rows.append({"file": label, "way": way, "median_ms": statistics.median(timings)})
        return rows
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def bench_upload(requests: int) -> dict[str, float]:
    """p50/p99 of the upload request for a ~3 MB photo (processing happens elsewhere)."""
    _setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient
    from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle

    # Another bench module may have set Django up first (python -m bench): make sure
    # the files land in a throwaway folder and no throttle or quota gets in the way.
    scratch = tempfile.mkdtemp(prefix="meetnow-bench-files-")
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": scratch},
        },
    }
    overrides = override_settings(STORAGES=storages, MEETNOW_MEDIA_QUOTA_BYTES=10**12)
    overrides.enable()
    for throttle in (ScopedRateThrottle, UserRateThrottle):
        throttle.THROTTLE_RATES = dict.fromkeys(throttle.THROTTLE_RATES)
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        photo = make_photo()
        user = get_user_model().objects.create_user(nickname="bench")
        client = APIClient()
        client.force_authenticate(user)
        timings, cpu = [], []
        for index in range(requests + 5):
            upload = SimpleUploadedFile("bench.jpg", photo, content_type="image/jpeg")
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.post(
                "/api/v1/media", {"purpose": "chat", "file": upload}, format="multipart"
            )
            elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
            assert response.status_code == 201, response.content
            if index >= 5:  # warm-up
                timings.append(elapsed * 1000)
                cpu.append(elapsed_cpu * 1000)
        timings.sort()
        cpu.sort()
        return {
            "cpu_p50_ms": cpu[len(cpu) // 2],
            "cpu_p99_ms": cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))],
            "photo_mb": len(photo) / 1e6,
            "requests": len(timings),
            "p50_ms": timings[len(timings) // 2],
            "p99_ms": timings[min(len(timings) - 1, int(len(timings) * 0.99))],
            "max_ms": timings[-1],
            "storage": settings.STORAGES["default"]["BACKEND"].rsplit(".", 1)[-1],
        }
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        overrides.disable()
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.media", description=__doc__)
    parser.add_argument("--rounds", type=int, default=30, help="photos per pipeline")
    parser.add_argument("--requests", type=int, default=100, help="upload requests")
    parser.add_argument("--probes", type=int, default=20, help="runs per file and way to probe")
    args = parser.parse_args(argv)

    scratch = tempfile.mkdtemp(prefix="meetnow-bench-")
    # Throwaway state: SQLite, files and the embedded broker's folders in a temp dir,
    # limits loose enough that the benchmark measures speed, not throttles.
    os.environ["MEETNOW_VAR_DIR"] = scratch
    os.environ["MEDIA_ROOT"] = os.path.join(scratch, "media")
    os.environ.pop("DATABASE_URL", None)
    os.environ["STORAGE_BACKEND"] = "local"
    os.environ["MEETNOW_THROTTLE_MEDIA_UPLOAD"] = "1000000/hour"
    os.environ["MEETNOW_THROTTLE_USER"] = "1000000/min"
    os.environ["MEETNOW_MEDIA_QUOTA_MB"] = "100000"
    os.environ["LOG_LEVEL"] = "WARNING"

    print(f"== media benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cpus) ==")
    results = bench_thumbnails(args.rounds)
    naive = next(r for r in results if r["name"].startswith("naive"))
    for result in results:
        speedup = result["photos_per_s"] / naive["photos_per_s"]
        print(
            f"  {result['name']:<36} {result['photos_per_s']:5.1f} photos/s per core "
            f"(median {result['median_ms']:5.1f} ms CPU; wall {result['wall_photos_per_s']:4.1f}/s)"
            f"  x{speedup:.2f} vs naive  peak memory +{result['extra_rss_mb']:.0f} MB"
        )
    probes = bench_probe(args.probes)
    print(f"voice and video, median wall time per file over {args.probes} runs:")
    if not shutil.which("ffprobe"):
        print("  (no ffprobe program here: PyAV rows only)")
    for row in probes:
        print(f"  {row['file']:<24} {row['way']:<20} {row['median_ms']:8.2f} ms")
    upload = bench_upload(args.requests)
    print(
        f"  upload {upload['photo_mb']:.1f} MB photo x{upload['requests']} "
        f"({upload['storage']}): p50 {upload['p50_ms']:.1f} ms, p99 {upload['p99_ms']:.1f} ms, "
        f"max {upload['max_ms']:.1f} ms (CPU of the request: p50 {upload['cpu_p50_ms']:.1f} ms, "
        f"p99 {upload['cpu_p99_ms']:.1f} ms)"
    )
    print(f"  (load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
