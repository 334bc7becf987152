"""Character shingles, MinHash signatures and LSH clusters for a whole batch at once.

Characters, not words: Chinese has no spaces, and short instructions need short shingles or their
near-duplicates slip through. Shingle hashes are computed for the whole batch in numpy (one rolling
polynomial hash over the concatenated code points) instead of a Python loop per record; signatures come
from `rensa` (Rust) with `datasketch` as the fallback. Clustering is a group-by on LSH band keys plus
connected components, so the cost grows linearly with the number of records, never with its square.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

_MULT = np.uint64(0x100000001B3)      # FNV-style odd multiplier for the rolling hash
_MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio mixer, spreads the low bits before MinHash


def _codepoints(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    return cps, lengths


def _kgram_hashes(cps: np.ndarray, k: int) -> np.ndarray:
    """Hash of every k-gram starting at each position (positions near the end hash a shorter tail)."""
    h = np.zeros(len(cps), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h[: len(cps) - j] = h[: len(cps) - j] * _MULT + cps[j:].astype(np.uint64) + np.uint64(1)
        return (h ^ (h >> np.uint64(29))) * _MIX


def shingle_hashes(texts: list[str], k: int, short_k: int | None = None, short_chars: int = 0):
    """Flat uint64 shingle hashes and row offsets (len(texts) + 1) for `texts`.

    Texts shorter than `short_chars` use `short_k`; a text shorter than its k is one shingle (itself).
    """
    cps, lengths = _codepoints(texts)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    ks = np.full(len(texts), k, dtype=np.int64)
    if short_k:
        ks[lengths < short_chars] = short_k
    counts = np.maximum(lengths - ks + 1, 1)
    counts[lengths == 0] = 1
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.uint64)
    row = np.repeat(np.arange(len(texts)), counts)
    pos = np.repeat(starts, counts) + (np.arange(int(offsets[-1])) - np.repeat(offsets[:-1].astype(np.int64), counts))
    out = np.empty(len(pos), dtype=np.uint64)
    for kk in np.unique(ks):
        mask = ks[row] == kk
        if len(cps):
            out[mask] = _kgram_hashes(cps, int(min(kk, len(cps))))[np.minimum(pos[mask], len(cps) - 1)]
        else:
            out[mask] = 0
    # A text shorter than its k keeps the tail hash, which covers exactly the whole text: the right shingle.
    return out, offsets


def minhash_signatures(texts: list[str], num_perm: int, k: int, short_k: int, short_chars: int,
                       seed: int = 0, batch: int = 10_000) -> np.ndarray:
    """(len(texts), num_perm) uint32 MinHash signatures of the texts' character shingles.

    Batches bound the memory of the shingle arrays (~40 bytes per character in flight): only the
    signatures (4 * num_perm bytes per text) are kept for the whole input.
    """
    out = np.empty((len(texts), num_perm), dtype=np.uint32)
    for start in range(0, len(texts), batch):
        chunk = texts[start:start + batch]
        hashes, offsets = shingle_hashes(chunk, k, short_k, short_chars)
        out[start:start + len(chunk)] = _signatures_of(hashes, offsets, num_perm, seed)
    return out


def _signatures_of(hashes: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    try:
        import rensa
    except ImportError:  # documented fallback: datasketch, ~30x slower but pure Python + numpy
        return _datasketch_signatures(hashes, offsets, num_perm, seed)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, num_perm, seed)
    return np.asarray(matrix.to_rows(), dtype=np.uint32).reshape(len(offsets) - 1, num_perm)


def _datasketch_signatures(hashes, offsets, num_perm, seed) -> np.ndarray:
    from datasketch import MinHash

    out = np.empty((len(offsets) - 1, num_perm), dtype=np.uint32)
    for i in range(len(offsets) - 1):
        m = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda x: int(x) & 0xFFFFFFFF)
        m.update_batch(hashes[int(offsets[i]):int(offsets[i + 1])].tolist())
        out[i] = m.hashvalues.astype(np.uint32)
    return out


def _band_keys(sigs: np.ndarray, bands: int) -> np.ndarray:
    rows = sigs.shape[1] // bands
    keys = np.zeros((len(sigs), bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(rows):
            keys = keys * _MULT + sigs[:, j::rows][:, :bands].astype(np.uint64) + np.uint64(1)
    return keys


def _similarity(sigs: np.ndarray, pairs: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    sim = np.empty(len(pairs))
    for s in range(0, len(pairs), chunk):
        p = pairs[s:s + chunk]
        sim[s:s + chunk] = (sigs[p[:, 0]] == sigs[p[:, 1]]).mean(axis=1)
    return sim


def _candidates_local(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, bands = keys.shape
    src, dst = [], []
    for b in range(bands):
        order = np.argsort(keys[:, b], kind="stable")
        k = keys[order, b]
        new_group = np.concatenate([[True], k[1:] != k[:-1]])
        leader = order[np.maximum.accumulate(np.where(new_group, np.arange(n), 0))]
        members = ~new_group
        src.append(order[members])
        dst.append(leader[members])
    return np.concatenate(src), np.concatenate(dst)


def _candidates_grouped(keys: np.ndarray, groups_of) -> tuple[np.ndarray, np.ndarray]:
    """The same pairs from a group-by on (band, band key) rows: each member with its group's first row."""
    n, bands = keys.shape
    compound = np.stack([np.repeat(np.arange(bands, dtype=np.uint64), n), keys.T.reshape(-1)], axis=1)
    src, dst = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for members in groups_of(compound, 2):
        rows = members % n  # the compound row b * n + i is record i
        src.append(rows[1:])
        dst.append(np.full(len(rows) - 1, rows[0]))
    return np.concatenate(src), np.concatenate(dst)


def lsh_components(sigs: np.ndarray, bands: int, threshold: float, confirm: np.ndarray | None = None,
                   confirm_threshold: float = 0.0, groups_of=None):
    """Cluster label per row and, per row, the estimated Jaccard to the member it was linked to.

    Rows sharing a band key are candidates; each candidate is checked against the first row of its bucket
    (estimated Jaccard >= threshold, and >= confirm_threshold on the `confirm` signatures when given),
    and linked rows form clusters (connected components). The buckets are a group-by on (band, key):
    numpy sorts here, or `groups_of` (`parallel.groups_of` under another engine: Ray Data's `groupby`
    across a cluster) gives them; the candidate pairs are few, so the rest runs here either way.
    """
    n = len(sigs)
    keys = _band_keys(sigs, bands)
    src, dst = _candidates_grouped(keys, groups_of) if groups_of and n else _candidates_local(keys)
    del keys
    pairs = np.unique(np.stack([src, dst], axis=1), axis=0) if len(src) else np.zeros((0, 2), dtype=np.int64)
    sim = _similarity(sigs, pairs)
    ok = sim >= threshold
    if confirm is not None and len(pairs):
        ok &= _similarity(confirm, pairs) >= confirm_threshold
    good = pairs[ok]
    graph = coo_matrix((np.ones(len(good)), (good[:, 0], good[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    best_sim = np.zeros(n)
    if len(good):
        np.maximum.at(best_sim, good[:, 0], sim[ok])
        np.maximum.at(best_sim, good[:, 1], sim[ok])
    return labels, best_sim


def stable_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
