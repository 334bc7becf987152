"""Run an import or a curation and SIGKILL it at a chosen point of its output writing (test helper).

    python tests/reliability/killer.py import POINT OUT INPUT...
    python tests/reliability/killer.py curate POINT OUT INPUT...

POINT:
    replace:N          killed just before the N-th rename of a finished temporary output onto its name
                       (rewrites of a folder's list of what mtsft wrote, OWNER, are bookkeeping between
                       them and not counted, so N keeps naming the same output; `write:` reaches the list)
    write:NAME:BYTES   killed once BYTES bytes of the temporary file for NAME are written (mid-write)
    none               not killed

Both hook the process-wide `os.replace` and `open`, not a module's name for them, so the points stay on
the real write path wherever the writers live (today mtsft.outputs).

Like the OOM killer or a lost node: no cleanup, no exception handler runs. The curation's rounds are
replaced by a pass-through (every record kept) because what is under test is the writing, not the rounds;
`curate_files` itself, which reads, clears, writes and marks the folder, runs unchanged.
"""

from __future__ import annotations

import builtins
import os
import signal
import sys
from pathlib import Path


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillingFile:
    """A file object that SIGKILLs the process once `limit` bytes went through it (flushed first, so the
    partial bytes really are on disk)."""

    def __init__(self, f, limit: int):
        self._f, self._limit, self._n = f, limit, 0

    def write(self, data):
        room = self._limit - self._n
        if len(data) >= room:
            self._f.write(data[:room])
            self._f.flush()
            die()
        self._n += len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


def counts_as_output(dst) -> bool:
    """Whether `replace:N` counts a rename onto `dst`: every output but the folder's list (see POINT)."""
    from mtsft.outputs import OWNER

    return Path(os.fsdecode(dst)).name != OWNER


def install(point: str) -> None:
    from mtsft.outputs import TMP_MARK

    if point == "none":
        return
    kind, _, arg = point.partition(":")
    if kind == "replace":
        target, real, count = int(arg), os.replace, [0]

        def replace(src, dst, *a, **kw):
            if counts_as_output(dst):
                count[0] += 1
                if count[0] == target:
                    die()
            return real(src, dst, *a, **kw)

        os.replace = replace
    elif kind == "write":
        name, _, limit = arg.rpartition(":")
        real_open = builtins.open

        def killing_open(file, mode="r", *a, **kw):
            f = real_open(file, mode, *a, **kw)
            if "w" in mode and isinstance(file, (str, bytes, os.PathLike)) and \
                    f".{name}{TMP_MARK}" in os.fsdecode(file):
                return KillingFile(f, int(limit))
            return f

        builtins.open = killing_open  # every module's bare open(), wherever the atomic writers live
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def passthrough_curate(records, config=None, **_):
    from mtsft.data.curate import CurationResult
    from mtsft.data.validate import Check

    return CurationResult(kept=list(records), rejected=[], review=[], inputs=len(records), rounds=[],
                          checks=[Check("passthrough", True, "rounds stubbed")], targets={}, before={}, after={})


def main(argv: list[str]) -> None:
    stage, point, out, *inputs = argv
    install(point)
    if stage == "import":
        from mtsft.importers import import_to

        import_to(inputs, out)
    elif stage == "curate":
        import mtsft.data.curate as curate_mod
        from mtsft.data.config import CurateConfig

        curate_mod.curate = passthrough_curate
        curate_mod.write_report = fake_report
        curate_mod.curate_files(inputs, CurateConfig(progress=False), out, log=None)
    else:
        raise SystemExit(f"unknown stage {stage!r}")


def fake_report(result, out_dir):
    """Two report files written the plain (non-atomic) way the real report writer uses."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(f"{len(result.kept)} kept\n" * 200, encoding="utf-8")
    (out / "report.html").write_text("<p>report</p>\n" * 200, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
