"""Benchmark: the 1:N duplicate search at national scale (issue 16).

For each size (default 1,000,000 and 10,000,000 synthetic 128-d encodings,
generated here, never stored in the repository; spread like
face_recognition's, different people about 1.0 apart): builds the usearch
HNSW index in half precision (kyc.ann, the same parameters as
``manage.py face_index_build``) with every core, saves it, memory-maps the
file as the web and worker processes do, and searches it for --queries true
duplicates (a stored face plus the noise of a new photo, 0.1-0.3 apart).
Beside it, in the same run, today's exact search (kyc.index.BruteForceIndex,
one matrix-vector product) on the same encodings.

Prints build time, index size, query p50/p95 of both, and the recall of true
duplicates (the duplicate first among the approximate index's answers),
aim 0.999 or better. 40 million is stated from the 10 million run when the
machine has not the memory or time for it (--sizes 40000000 to try).

    .venv/bin/python bench/face_index.py
    .venv/bin/python bench/face_index.py --sizes 1000000 --queries 2000
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def run(size: int, queries: int, rng) -> dict:
    from kyc.ann import AnnIndex
    from kyc.index import BruteForceIndex

    vectors = np.empty((size, 128), dtype=np.float32)
    for start in range(0, size, 1_000_000):  # generated in slices: memory is the index's, not a float64 copy
        end = min(size, start + 1_000_000)
        vectors[start:end] = rng.normal(0, 0.09, (end - start, 128)).astype(np.float32)
    keys = np.arange(size, dtype=np.uint64)
    targets = rng.choice(size, queries, replace=False)
    noise = rng.normal(0, 1, (queries, 128)).astype(np.float32)
    noise *= (rng.uniform(0.1, 0.3, queries) / np.linalg.norm(noise, axis=1))[:, None]
    probes = vectors[targets] + noise

    started = time.perf_counter()
    built = AnnIndex.build(keys, vectors, threads=os.cpu_count() or 1)
    build_s = time.perf_counter() - started
    path = Path(tempfile.mkdtemp(prefix="bench-faces-")) / "faces.usearch"
    built.save(path, last_id=size)
    del built
    ann = AnnIndex.open(path)  # memory-mapped, as every process opens it

    exact = BruteForceIndex(capacity=size)
    exact.add(keys.astype(np.int64), vectors)
    del vectors

    ann_times, exact_times, found, exact_found = [], [], 0, 0
    for probe, target in zip(probes, targets, strict=True):
        t = time.perf_counter()
        answer = ann.search(probe, k=5)
        ann_times.append(time.perf_counter() - t)
        found += bool(answer) and answer[0].key == int(target)
        t = time.perf_counter()
        truth = exact.search(probe, k=1)
        exact_times.append(time.perf_counter() - t)
        exact_found += truth[0].key == int(target)
    return {
        "size": size,
        "build_s": build_s,
        "file_mb": path.stat().st_size / 1e6,
        "ann_p50": percentile(ann_times, 50) * 1000,
        "ann_p95": percentile(ann_times, 95) * 1000,
        "exact_p50": statistics.median(exact_times) * 1000,
        "exact_p95": percentile(exact_times, 95) * 1000,
        "recall": found / queries,
        "exact_recall": exact_found / queries,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(16)
    print(f"1:N face search, {os.cpu_count()} cores; usearch HNSW f16 (memory-mapped) beside exact float32")
    print(
        f"{'encodings':>12} {'build':>8} {'file':>9} {'HNSW p50':>9} {'p95':>7} {'exact p50':>10} {'p95':>7}"
        f" {'recall':>7} {'peak RSS':>9}"
    )
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(size, args.queries, rng)
        results.append(r)
        print(
            f"{r['size']:>12,} {r['build_s']:>7.0f}s {r['file_mb']:>7.0f}MB {r['ann_p50']:>7.2f}ms "
            f"{r['ann_p95']:>5.2f}ms {r['exact_p50']:>8.1f}ms {r['exact_p95']:>5.1f}ms {r['recall']:>7.4f}"
            f" {r['rss_mb']:>7.0f}MB  (exact found {r['exact_recall']:.4f})",
            flush=True,
        )
    last = results[-1]
    scale = 40_000_000 / last["size"]
    if last["size"] < 40_000_000:
        print(
            f"  40,000,000 stated from {last['size']:,}: file about {last['file_mb'] * scale / 1000:.1f} GB, build about"
            f" {last['build_s'] * scale / 60:.0f} min on these cores (HNSW build grows a little faster than linear),"
            f" exact search about {last['exact_p50'] * scale:.0f} ms a query"
        )


if __name__ == "__main__":
    main()
