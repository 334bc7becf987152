"""`mtsft data curate --engine ray`: the same rounds, their per-record work and their group-bys on Ray Data.

Every per-record part of a round is a batch function (`classify_batch`, `record_checks`,
`instruction_facts`, `dedup_facts`) that the local pool calls on fixed chunks; here the same chunks become
the rows of a Ray Dataset and the same functions run in `map_batches`, on whatever cluster `ray.init`
joined (a local instance, or `--address` of a running one); code-running verifiers run in place in the
Ray workers. Every global step is a group-by on per-record keys (`parallel.groups_of`): the LSH buckets
of near-dedup and of the conflict groups (rows keyed by (band, band key)), the exact-duplicate hashes,
the near-duplicate cluster labels, the conflict keys and balancing's tasks; here each is a Ray Data
`groupby(...).map_groups` shuffle across the cluster that sends back only the groups of two or more (for
balancing, every task's members). The driver then does what is small: connected components over the
candidate pairs, the keep-best choice within each duplicate group, the verdict on each conflict group,
the per-task down-sampling and up-sampled copies. Reading the input (its per-line rejection of unreadable
lines and imports) and the report also stay in the driver. The kept and rejected records are the local
engine's, record for record (tests/test_curate_ray.py).

Outputs: the local engine's files (kept/rejected/review.jsonl, report, manifest with `"engine": "ray"`)
plus `kept/`, the kept records as shards written by Ray Data (JSONL or Parquet; one `record` column
holding each record as JSON, since records' `reference` and `meta` differ in shape from task to task).

Ray is an optional extra (`pip install mtsft[ray]`); importing this module does not import it.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from mtsft.data.config import CurateConfig
from mtsft.data.curate import CurationResult, curate_files
from mtsft.data.parallel import use_engine
from mtsft.outputs import check_folder


SHARD_RECORDS = 50_000  # kept records per output shard


class RayMissing(ValueError):  # a user error: the CLI prints it plainly
    pass


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401  (the Data library is the `data` extra)
    except ImportError:
        raise RayMissing("the Ray engine needs Ray Data: pip install 'mtsft[ray]'") from None
    return ray


def ray_map_parts(fn, records: list, args: tuple, chunk: int) -> list:
    """`[fn(records[i:j], *args) for each chunk]` as a Ray Data `map_batches` over the chunks, in order."""
    ray = _ray()
    parts = [pickle.dumps(records[s:s + chunk], protocol=5) for s in range(0, len(records), chunk)]
    ds = ray.data.from_items([{"part": k, "records": blob} for k, blob in enumerate(parts)],
                             override_num_blocks=len(parts))

    def run(batch):  # one chunk per call: the same function the local pool runs on it
        results = [pickle.dumps(fn(pickle.loads(blob), *args), protocol=5) for blob in batch["records"]]
        return {"part": batch["part"], "result": results}

    rows = ds.map_batches(run, batch_size=1, batch_format="numpy").take_all()
    return [pickle.loads(r["result"]) for r in sorted(rows, key=lambda r: int(r["part"]))]


GROUP_BLOCKS = 16  # blocks a group-by's input is cut into (Ray spreads them over the cluster's CPUs)


def _key_columns(keys) -> dict:
    """Keys as Arrow-friendly columns: integer arrays as int64 (uint64 band keys reinterpreted: grouping
    needs equality only), a 2-D array one column per key part, anything else its text (`repr` for tuples)."""
    import numpy as np

    if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
        cols = keys.reshape(len(keys), -1)
        return {f"k{j}": np.ascontiguousarray(cols[:, j]).view(np.int64) if cols.dtype.itemsize == 8
                else cols[:, j].astype(np.int64) for j in range(cols.shape[1])}
    return {"k0": np.array([k if isinstance(k, str) else repr(k) for k in keys], dtype=object)}


def ray_groups_of(keys, min_size: int) -> list:
    """`parallel.groups_of` as a Ray Data `groupby(...).map_groups`: rows (row, key columns) are shuffled
    across the cluster by key; each group of `min_size` or more sends back (first member, member) pairs,
    and the driver orders them as `groups_of` does."""
    import numpy as np
    import pandas as pd

    from mtsft.data.parallel import groups_from_pairs

    ray = _ray()
    cols = _key_columns(keys)
    frame = pd.DataFrame({"row": np.arange(len(keys), dtype=np.int64), **cols})
    blocks = max(1, min(GROUP_BLOCKS, len(frame) // 1000))
    ds = ray.data.from_pandas([frame.iloc[s::blocks] for s in range(blocks)])

    def members(batch):
        rows = np.sort(batch["row"])
        if len(rows) < min_size:
            rows = rows[:0]
        return {"first": np.full(len(rows), rows[0] if len(rows) else 0, dtype=np.int64), "row": rows}

    # Ray's default is 200 shuffle partitions whatever the cluster: on a 2-CPU instance those reduce tasks
    # cost minutes of scheduling. Two per CPU keeps every CPU busy without the overhead.
    partitions = max(1, min(200, 2 * int(ray.cluster_resources().get("CPU", 1))))
    out = ds.groupby(list(cols), num_partitions=partitions).map_groups(members, batch_format="numpy").to_pandas()
    if not len(out):
        return []
    return groups_from_pairs(out["first"].to_numpy(np.int64), out["row"].to_numpy(np.int64), min_size)


def write_shards(records: list[dict], folder: Path, fmt: str) -> dict:
    """The kept records as Ray Data shards under `folder` (JSONL or Parquet)."""
    from mtsft.outputs import own, remove_owned

    ray = _ray()
    remove_owned(folder.parent, folder.name)  # shards of an earlier run would read as this run's
    own(folder.parent, folder.name)
    lines = [{"id": r.get("id"), "task": r.get("task"), "record": json.dumps(r, ensure_ascii=False)} for r in records]
    ds = ray.data.from_items(lines, override_num_blocks=max(1, -(-len(lines) // SHARD_RECORDS)))
    if fmt == "parquet":
        ds.write_parquet(str(folder))
    else:
        ds.write_json(str(folder), force_ascii=False)
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    return {"format": fmt, "files": len(files), "records": len(records)}


def curate_ray(inputs: list[str], config: CurateConfig | None = None, out_dir: str | Path = "curated", *,
               eval_files: list[str] | None = None, address: str | None = None, num_cpus: int | None = None,
               shards: str = "jsonl", log=print) -> CurationResult:
    """`curate_files` with its per-record work on Ray Data; joins the cluster at `address` (or starts a
    local instance with `num_cpus` CPUs) unless Ray is already initialised."""
    if shards not in ("jsonl", "parquet"):
        raise ValueError(f"--shards {shards!r}: jsonl or parquet")
    check_folder(out_dir, [*inputs, *(eval_files or [])])  # the output rule, before Ray starts
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        out = Path(out_dir)

        def extra(result):
            return {"engine": "ray", "ray": {"address": address or "local",
                                             "cpus": ray.cluster_resources().get("CPU"),
                                             "kept_shards": write_shards(result.kept, out / "kept", shards)}}

        with use_engine(ray_map_parts, ray_groups_of):
            return curate_files(inputs, config, out, eval_files=eval_files, log=log, manifest_extra=extra)
    finally:
        if started:
            ray.shutdown()
