"""Score wirecopy's extraction against hand-checked article bodies, beside plain trafilatura.

Usage: python benchmarks/extraction.py CORPUS   (e.g. ../shared/corpus/fundus-en-dev)

CORPUS holds truth.jsonl and the gzipped pages it names. The score is bag-of-words precision,
recall and F1 (tokens \\w+, lowercased, multiset intersection) of the extracted text against the
true body (paragraphs and headings joined). Also prints time per page for both extractors and
how often wirecopy's published_at equals the true publication time. Times are the best of two
runs of each extractor on each page.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from statistics import mean, median

import trafilatura

from tasks.extract import ExtractionError, extract_article

_TOKEN = re.compile(r"\w+")
_REGRESSION = 0.05  # F1 below plain trafilatura by more than this counts as a regression


def bag_of_words(predicted: str, truth: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of the predicted tokens against the true ones (multisets)."""
    pred, gold = Counter(_TOKEN.findall(predicted.lower())), Counter(_TOKEN.findall(truth.lower()))
    common = sum((pred & gold).values())
    precision = common / sum(pred.values()) if pred else 0.0
    recall = common / sum(gold.values()) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _timed(func, *args, **kwargs):
    """Result and best wall time of two runs in milliseconds (no one-time loading, less noise)."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        times.append((time.perf_counter() - start) * 1000)
    return result, min(times)


def _wirecopy(html: bytes, url: str):
    """wirecopy's article, or None where it finds no article text."""
    try:
        return extract_article(html, url)
    except ExtractionError:
        return None


def _same_time(found: datetime | None, truth: str | None) -> bool:
    """True when the extracted time is the true one (a true time without zone is read as UTC)."""
    if found is None or not truth:
        return False
    expected = datetime.fromisoformat(truth)
    expected = expected if expected.tzinfo else expected.replace(tzinfo=timezone.utc)
    return abs((found - expected).total_seconds()) < 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="folder with truth.jsonl and pages/")
    corpus = parser.parse_args().corpus
    rows = [json.loads(line) for line in (corpus / "truth.jsonl").read_text().splitlines() if line.strip()]
    pages = [(row, gzip.decompress((corpus / row["file"]).read_bytes())) for row in rows]

    ours, plain, ms_ours, ms_plain, dates = [], [], [], [], 0
    print(f"{'page':45s} {'wirecopy P/R/F1':>20s} {'trafilatura P/R/F1':>20s} {'ms':>11s}  wire")
    for row, html in pages:
        truth = "\n".join(block["text"] for block in row["body"])
        article, ms_a = _timed(_wirecopy, html, row["url"])
        baseline, ms_b = _timed(trafilatura.extract, html, url=row["url"])
        ours.append(bag_of_words(article.text if article else "", truth))
        plain.append(bag_of_words(baseline or "", truth))
        ms_ours.append(ms_a)
        ms_plain.append(ms_b)
        dates += _same_time(article.published_at if article else None, row.get("published"))
        flag = "  <-- below trafilatura" if ours[-1][2] < plain[-1][2] - _REGRESSION else ""
        print(
            f"{Path(row['file']).name.removesuffix('.html.gz'):45s} "
            f"{'%.3f %.3f %.3f' % ours[-1]:>20s} {'%.3f %.3f %.3f' % plain[-1]:>20s} "
            f"{ms_a:5.0f} {ms_b:5.0f}  {article.wire_service if article else 'ERROR'}{flag}"
        )

    def summary(scores: list[tuple[float, float, float]]) -> str:
        return "P %.3f  R %.3f  F1 %.3f" % tuple(mean(s[i] for s in scores) for i in range(3))

    below = sum(o[2] < p[2] - _REGRESSION for o, p in zip(ours, plain))
    print()
    print(f"pages: {len(pages)}")
    print(f"wirecopy    mean {summary(ours)}   time mean {mean(ms_ours):.1f} ms/page, median {median(ms_ours):.1f}")
    print(f"trafilatura mean {summary(plain)}   time mean {mean(ms_plain):.1f} ms/page, median {median(ms_plain):.1f}")
    print(f"time ratio wirecopy/trafilatura: mean {mean(ms_ours) / mean(ms_plain):.2f}x, "
          f"median {median(ms_ours) / median(ms_plain):.2f}x")
    print(f"pages where wirecopy F1 < trafilatura F1 - {_REGRESSION}: {below}")
    print(f"published_at equal to the true time (within a minute): {dates}/{len(pages)}")


if __name__ == "__main__":
    main()
