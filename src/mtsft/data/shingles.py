"""Character shingles, MinHash signatures and LSH clusters for a whole batch at once.

Characters, not words: Chinese has no spaces, and short instructions need short shingles or their
near-duplicates slip through. Shingle hashes are computed for the whole batch in numpy (one rolling
polynomial hash over the concatenated code points) instead of a Python loop per record; signatures come
from `rensa` (Rust) with `datasketch` as the fallback. Clustering is a group-by on LSH band keys plus
connected components, so the cost grows linearly with the number of records, never with its square.
"""

from __future__ import annotations

import hashlib
import re

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


# ---- scikit-learn's hashed char_wb n-grams, for a whole batch at once ------------------------------------
# The task classifier's features are scikit-learn `HashingVectorizer(analyzer="char_wb")` counts. Its
# analyzer builds every n-gram as a Python string and hashes them one by one, which was most of the
# classify round's time. The same counts come from numpy here: the n-grams' UTF-8 bytes are hashed with
# MurmurHash3 (x86, 32 bits, seed 0, as `sklearn.utils.murmurhash3_32`) over the whole batch. scikit-learn
# has no vectorised form of its hasher, hence this; a test checks the matrices are equal on real text.

_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def murmur3_32(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Signed MurmurHash3_x86_32 (seed 0) of the byte strings buf[starts[i] : starts[i] + lengths[i]];
    `buf` is uint8 with at least 3 spare bytes after the last string. Each 4-byte step works on the strings
    still that long only, so the cost is the bytes hashed, whatever the longest string."""
    h = np.zeros(len(starts), dtype=np.uint32)
    lengths = lengths.astype(np.int64)
    # every position's next 4 bytes as one little-endian word (an unaligned strided view, nothing copied)
    words = np.ndarray((max(len(buf) - 3, 0),), dtype="<u4", buffer=buf, strides=(1,))
    blocks = lengths // 4
    with np.errstate(over="ignore"):
        for block in range(int(blocks.max(initial=0))):
            rows = np.flatnonzero(blocks > block)
            k = _rotl(words[starts[rows] + 4 * block] * _C1, 15) * _C2
            h[rows] = _rotl(h[rows] ^ k, 13) * np.uint32(5) + np.uint32(0xE6546B64)
        rows = np.flatnonzero(lengths & 3)
        tail = lengths[rows] & 3  # the tail's own bytes only
        k = words[starts[rows] + 4 * blocks[rows]] & ((np.uint64(1) << (8 * tail).astype(np.uint64)) - np.uint64(1)).astype(np.uint32)
        h[rows] ^= _rotl(k * _C1, 15) * _C2
        h ^= lengths.astype(np.uint32)
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    return h.view(np.int32)


def hashed_buckets(h: np.ndarray, n_features: int) -> np.ndarray:
    """scikit-learn's FeatureHasher index of a signed 32-bit hash: abs(h) % n (abs(-2**31) defined apart)."""
    h = h.astype(np.int64)
    return np.where(h == -2**31, (2**31 - 1 - (n_features - 1)) % n_features, np.abs(h) % n_features)


_SPACES = re.compile(r"\s\s+")


def char_wb_counts(docs: list[str], n_features: int, max_n: int = 3):
    """`HashingVectorizer(analyzer="char_wb", ngram_range=(1, max_n), n_features=n_features,
    alternate_sign=False, norm=None, lowercase=True).transform(docs)`, the same matrix: each document
    lowercased, its whitespace runs joined, each word padded with a space, every n-gram of 1..max_n
    characters of each padded word counted (max_n <= 3: a padded word has at least 3 characters, so
    scikit-learn's short-word rule never applies)."""
    assert 1 <= max_n <= 3
    words = [_SPACES.sub(" ", d.lower()).split() for d in docs]
    padded = [" " + "  ".join(w) + " " if w else "" for w in words]  # spaces appear only as padding
    text, cps, buf, offset = _utf8("".join(padded))
    space = cps == 32
    leading = space & ((np.cumsum(space) - 1) % 2 == 0)  # spaces alternate: a word's leading, then its trailing
    word = np.cumsum(leading) - 1
    doc = np.repeat(np.arange(len(docs)), [len(p) for p in padded])
    rows, cols = [], []
    for n in range(1, max_n + 1):
        start = np.arange(max(len(cps) - n + 1, 0))
        start = start[word[start] == word[start + n - 1]]  # the n-gram stays within its padded word
        cols.append(hashed_buckets(murmur3_32(buf, offset[start], offset[start + n] - offset[start]), n_features))
        rows.append(doc[start])
    return _count_matrix(np.concatenate(rows), np.concatenate(cols), len(docs), n_features)


def word_ngram_counts(docs: list[str], n_features: int, token_pattern: str, max_n: int = 2):
    """`HashingVectorizer(analyzer="word", ngram_range=(1, max_n), token_pattern=token_pattern,
    n_features=n_features, alternate_sign=False, norm=None, lowercase=True).transform(docs)`, the same
    matrix (max_n <= 2): each document's tokens joined by one space, so a bigram "a b" is a span of that
    text like its words, and every span is hashed in one batch."""
    assert 1 <= max_n <= 2
    find = re.compile(token_pattern).findall
    tokens = [find(d.lower()) for d in docs]
    text, cps, buf, offset = _utf8("\n".join(" ".join(t) for t in tokens))  # tokens hold no whitespace
    cut = np.flatnonzero((cps == 32) | (cps == 10))
    begin = np.concatenate([[0], cut + 1])
    end = np.concatenate([cut, [len(cps)]])
    doc = np.concatenate([[0], np.cumsum(cps[cut] == 10)])  # the document of the token after each cut
    real = end > begin  # an empty document leaves an empty span between its two newlines
    begin, end, doc = begin[real], end[real], doc[real]
    starts, stops, rows = [begin], [end], [doc]
    if max_n == 2:
        pair = doc[1:] == doc[:-1]
        starts.append(begin[:-1][pair])
        stops.append(end[1:][pair])
        rows.append(doc[:-1][pair])
    starts, stops = np.concatenate(starts), np.concatenate(stops)
    cols = hashed_buckets(murmur3_32(buf, offset[starts], offset[stops] - offset[starts]), n_features)
    return _count_matrix(np.concatenate(rows), cols, len(docs), n_features)


def _utf8(text: str):
    """(text, its code points, its UTF-8 bytes with 4 spare zero bytes, each character's byte offset)."""
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    buf = np.frombuffer(text.encode("utf-8") + b"\0\0\0\0", dtype=np.uint8)  # strict: a lone surrogate raises, as in scikit-learn
    nbytes = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)
    return text, cps, buf, np.concatenate([[0], np.cumsum(nbytes)]).astype(np.int64)


def _count_matrix(rows: np.ndarray, cols: np.ndarray, n_docs: int, n_features: int):
    """FeatureHasher's matrix: float64 counts per (document, bucket), duplicates summed, indices sorted."""
    import scipy.sparse as sp

    counts = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_docs, n_features), dtype=np.float64)
    counts.sum_duplicates()
    return counts
