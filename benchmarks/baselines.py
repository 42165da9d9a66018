"""What both dedup benchmarks score against: the naive MinHash LSH baseline and pair sets."""
from __future__ import annotations

import re
from collections import defaultdict
from itertools import combinations

from datasketch import MinHash, MinHashLSH

from tasks.dedup import connected_components


def pairs_of(clusters: dict[str, str]) -> set[tuple[str, str]]:
    """Every pair of items in one cluster: what pairwise precision and recall count."""
    groups: dict[str, list[str]] = defaultdict(list)
    for item, cluster in clusters.items():
        groups[cluster].append(item)
    return {p for members in groups.values() for p in combinations(sorted(members), 2)}


def minhash_lsh(texts: dict[str, str]) -> dict[str, str]:
    """datasketch MinHash LSH (128 permutations) at Jaccard 0.5 on lowercased word 5-shingles of the
    raw text; candidates kept when their estimated Jaccard is 0.5+, clusters are the components."""
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    sigs = {}
    for key, text in texts.items():
        words = re.findall(r"\w+", text.lower())
        m = MinHash(num_perm=128)
        m.update_batch([" ".join(words[i:i + 5]).encode() for i in range(max(len(words) - 4, 1))])
        sigs[key] = m
        lsh.insert(key, m)
    links = [(i, j) for i, m in sigs.items() for j in lsh.query(m) if i < j and m.jaccard(sigs[j]) >= 0.5]
    return connected_components(sigs, links)
