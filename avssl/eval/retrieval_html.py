"""`report.html` of a retrieval evaluation: see and hear what the model retrieves for each query.

One self-contained file (no network, no server, no script): for each sampled query, a strip of the
query clip's frames and an audio player, then its top-k retrievals, each framed green (same class)
or red (another class) with its class, similarity and its own frames and sound. Frames are inlined
as base64 JPEG, sound as base64 16-bit WAV at 16 kHz (peak-normalised so quiet clips are audible).
Size: ~100 kB per clip shown, so 8 queries × 5 retrievals come to ~5 MB.
"""

from __future__ import annotations

import base64
import html
import io
import wave
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio.functional as AF
from PIL import Image

from avssl.atomic_io import write_text_atomic
from avssl.eval.clip_media import ClipMedia

WAV_RATE = 16000
STRIP_FRAMES = 3  # first, middle, last: enough to see motion, large enough to see content
FRAME_HEIGHT = 96  # pixels per frame in the strip (small demo frames are enlarged, nearest-neighbour)
HITS_PER_LINE = 5  # retrievals per line; the page scales the strips to fit the window


@dataclass
class ShownClip:
    """One clip on the page: `caption` (e.g. its file), `label`, `media`, and for retrievals the
    similarity `score` and whether its class matches the query's."""

    caption: str
    label: str
    media: ClipMedia
    score: float | None = None
    correct: bool | None = None


@dataclass
class ShownQuery:
    query: ShownClip
    retrievals: Sequence[ShownClip]


def frame_strip_jpeg(frames: np.ndarray | None, count: int = STRIP_FRAMES, height: int = FRAME_HEIGHT) -> str | None:
    """Base64 JPEG of `count` evenly spaced frames of (T, H, W, 3) uint8 side by side."""
    if frames is None or len(frames) == 0:
        return None
    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
    strip = np.concatenate([frames[i] for i in picks], axis=1)
    image = Image.fromarray(np.ascontiguousarray(strip))
    scale = height / image.height
    image = image.resize((max(1, round(image.width * scale)), height),
                         Image.NEAREST if scale > 1 else Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def wav_base64(audio: np.ndarray | None, rate: int, out_rate: int = WAV_RATE) -> str | None:
    """Base64 mono 16-bit PCM WAV of `audio` (S,) float at `rate`, resampled to `out_rate`."""
    if audio is None or audio.size == 0:
        return None
    x = torch.from_numpy(np.asarray(audio, dtype=np.float32).reshape(-1))
    if rate != out_rate:
        x = AF.resample(x, rate, out_rate)
    peak = float(x.abs().max())
    if peak > 0:
        x = x * (0.9 / peak)
    pcm = (x.clamp(-1, 1) * 32767).round().to(torch.int16).numpy()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(out_rate)
        handle.writeframes(pcm.tobytes())
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px} p.meta{color:#555;margin:2px 0 14px}
table.metrics{border-collapse:collapse;margin:10px 0 18px;font-size:13px}
table.metrics td,table.metrics th{border:1px solid #ccc;padding:3px 8px;text-align:right}
table.metrics th:first-child,table.metrics td:first-child{text-align:left}
.row{display:grid;gap:10px;align-items:start;padding:10px;margin:8px 0;background:#fff;border:1px solid #ddd;
border-radius:6px} .hits{display:grid;gap:10px}
.clip{border:4px solid #3c3c3c;border-radius:5px;padding:4px;background:#fff;font-size:12px;min-width:0}
.clip.ok{border-color:#00aa00} .clip.bad{border-color:#dc0000}
.clip img{display:block;width:100%;height:auto;image-rendering:pixelated}
.clip audio{display:block;width:100%;height:28px;margin-top:4px}
.cap{margin-top:3px;overflow-wrap:anywhere} .file{color:#555;font-size:11px;margin-top:1px} .lab{font-weight:600} .mark.ok{color:#00aa00}
.mark.bad{color:#dc0000} .arrow{margin-top:30px;font-size:28px;color:#888} .none{color:#888;font-style:italic}
"""


def _clip_html(clip: ShownClip, rank: int | None) -> str:
    state = "" if clip.correct is None else (" ok" if clip.correct else " bad")
    parts = [f'<div class="clip{state}">']
    image = frame_strip_jpeg(clip.media.frames)
    parts.append(f'<img alt="frames" src="data:image/jpeg;base64,{image}">' if image else
                 '<div class="none">no video</div>')
    sound = wav_base64(clip.media.audio, clip.media.rate)
    parts.append(f'<audio controls preload="metadata" src="data:audio/wav;base64,{sound}"></audio>' if sound else
                 '<div class="none">no audio</div>')
    head = "query" if rank is None else f"#{rank}"
    mark = "" if clip.correct is None else ('<br><span class="mark ok">✓ same class</span>' if clip.correct else
                                            '<br><span class="mark bad">✗ other class</span>')
    score = "" if clip.score is None else f" · cos {clip.score:.3f}"
    # Long file names break after "/" and "_" rather than inside a word or the extension.
    caption = html.escape(clip.caption).replace("/", "/<wbr>").replace("_", "_<wbr>")
    parts.append(f'<div class="cap">{head}: <span class="lab">{html.escape(clip.label)}</span>{score}{mark}'
                 f'<div class="file" title="{html.escape(clip.caption)}">{caption}</div></div></div>')
    return "".join(parts)


def write_retrieval_html(path, title: str, description: str, metrics_table: tuple[list[str], list[list[str]]],
                         sections: Sequence[tuple[str, Sequence[ShownQuery]]]) -> None:
    """Write the page: a title, a description line, a metrics table (header, rows), then one section
    per (heading, queries), e.g. one per retrieval direction."""
    header, rows = metrics_table
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{html.escape(description)}</p>',
           '<table class="metrics"><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows]
    out.append("</table>")
    for heading, queries in sections:
        out.append(f"<h2>{html.escape(heading)}</h2>")
        for shown in queries:
            # Query | arrow | retrievals in rank order, HITS_PER_LINE to a line (a fixed grid keeps the
            # ranks of every query in the same columns); the query column is a little wider.
            per_line = max(1, min(HITS_PER_LINE, len(shown.retrievals)))
            out.append(f'<div class="row" style="grid-template-columns:minmax(0,1.3fr) auto minmax(0,{per_line}fr)">'
                       + _clip_html(shown.query, None) + '<div class="arrow">→</div>'
                       + f'<div class="hits" style="grid-template-columns:repeat({per_line},minmax(0,1fr))">'
                       + "".join(_clip_html(c, i + 1) for i, c in enumerate(shown.retrievals)) + "</div></div>")
    out.append("</body></html>")
    write_text_atomic(path, "\n".join(out) + "\n")
