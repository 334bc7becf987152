"""The output rule: mtsft writes only regular files it creates, and never destroys what it did not write.

    - Before any work, a command refuses (one line, exit 2) an output that is one of its inputs (same
      path or same inode), that holds an input, or that lies inside an input folder (a rerun would read
      it back); an output that is a FIFO, socket or device (symlinks followed); and an output folder
      holding anything mtsft did not write.
    - A folder mtsft writes carries OWNER (`.mtsft-outputs.json`), the list of the entries it wrote
      there. A rerun into it, and `--overwrite`, delete only those entries; a folder without the list is
      never emptied, and a non-empty one is refused.
    - Every file is written under a temporary name in the same folder and renamed over the target when
      complete (`atomic_writer`), so a reader sees the old file or the new one, never a part; in an
      mtsft folder the name joins the folder's list just before the rename.

Written by hand: no library keeps "which files did this tool write" for a folder it shares with a user.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

OWNER = ".mtsft-outputs.json"   # the list of what mtsft wrote in a folder (see the module docstring)
TMP_MARK = ".tmp-"


class OutputRefused(ValueError):
    """An output the rule forbids; the message is one line naming the path (the CLI prints it, exit 2)."""


# ---- the checks (before any work) ---------------------------------------------------------------------

def special_kind(path: str | Path) -> str | None:
    """'a FIFO', 'a socket', 'a device' or 'a folder' for what `path` names (symlinks followed), None for a
    regular file or nothing."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    return ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)      # a hard link, a bind mount: one inode under two names
    except OSError:
        return False


def _paths(inputs: Iterable[Any]) -> list[Path]:
    """The local paths among `inputs` (hub specs such as hf:NAME and suite names are not files)."""
    return [Path(p) for p in inputs if p not in (None, "") and not str(p).startswith("hf:")]


def refuse_inputs(out: str | Path, inputs: Iterable[Any], *, folder: bool, flag: str = "--out",
                  selective: Iterable[Any] = ()) -> None:
    """Refuse an output that is an input, lies inside an input folder, or (a folder output) holds an input.

    `selective`: input folders the command reads only known files of (a training run, an eval folder): an
    output may lie inside one, but may not be it or hold it."""
    out = Path(out)
    resolved = out.resolve()
    nested_ok = {p.resolve() for p in _paths(selective)}
    for given in _paths([*inputs, *selective]):
        where = given.resolve()
        if _same(out, given):
            raise OutputRefused(f"{out}: {flag} is one of the command's inputs ({given}); choose another path")
        if given.is_dir() and where in resolved.parents and where not in nested_ok:
            raise OutputRefused(f"{out}: {flag} lies inside the input folder {given}, so a rerun would read it "
                                "back; choose a path outside it")
        if folder and resolved in where.parents:
            raise OutputRefused(f"{out}: {flag} holds the input {given}; choose another folder")


def check_file(out: str | Path, inputs: Iterable[Any] = (), *, flag: str = "--out",
               selective: Iterable[Any] = ()) -> Path:
    """Refuse (before any work) a file output that is a folder, a special file, or one of the inputs."""
    out = Path(out)
    kind = special_kind(out)
    if kind == "a folder":
        raise OutputRefused(f"{out}: is a folder; {flag} names the file to write")
    if kind:
        raise OutputRefused(f"{out}: is {kind}; {flag} writes only regular files that mtsft creates")
    refuse_inputs(out, inputs, folder=False, flag=flag, selective=selective)
    return out


def check_folder(out: str | Path, inputs: Iterable[Any] = (), *, flag: str = "--out",
                 selective: Iterable[Any] = ()) -> Path:
    """Refuse (before any work) a folder output that is a file or special file, is or holds an input, lies
    in an input folder, or holds anything mtsft did not write."""
    out = Path(out)
    kind = special_kind(out)
    if kind != "a folder" and (kind or out.exists()):
        raise OutputRefused(f"{out}: is {kind or 'a file'}; {flag} names the folder to write into")
    refuse_inputs(out, inputs, folder=True, flag=flag, selective=selective)
    foreign = foreign_entries(out)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OutputRefused(f"{out}: holds files mtsft did not write ({shown}; no {OWNER} lists them); "
                            f"choose a new or empty {flag} folder")
    return out


# ---- the list of what mtsft wrote in a folder ----------------------------------------------------------

def owned(folder: str | Path) -> set[str] | None:
    """The entries mtsft wrote in `folder`, or None when the folder is not mtsft's (no readable OWNER)."""
    path = Path(folder) / OWNER
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(n, str) for n in files):
        return None
    return set(files)


def _is_tmp(name: str) -> bool:
    return name.startswith(".") and TMP_MARK in name


def foreign_entries(folder: str | Path) -> list[str]:
    """Names in `folder` that mtsft did not write (all of them in a folder without OWNER)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    names = sorted(p.name for p in folder.iterdir())
    listed = owned(folder)
    if listed is None:
        return names
    return [n for n in names if n != OWNER and n not in listed and not _is_tmp(n)]


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One writer of a folder's list at a time (ranks, a pipeline and its child process)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_owner(folder: Path, names: set[str]) -> None:
    body = {"written_by": "mtsft", "files": sorted(names),
            "note": "mtsft overwrites or deletes only the entries listed here (SECURITY.md, the output rule)"}
    _replace_with(folder / OWNER, json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"))


def own(folder: str | Path, *names: str) -> None:
    """Add `names` to the list of an mtsft folder (a folder that is not mtsft's is left alone)."""
    folder = Path(folder)
    if not (folder / OWNER).exists():
        return
    with _locked(folder):
        listed = owned(folder)
        if listed is not None and not set(names) <= listed:
            _write_owner(folder, listed | set(names))


def _disown(folder: Path, names: Iterable[str]) -> None:
    with _locked(folder):
        listed = owned(folder)
        if listed is not None:
            _write_owner(folder, listed - set(names))


def claim_folder(out: str | Path, inputs: Iterable[Any] = (), *, overwrite: bool = False,
                 flag: str = "--out", selective: Iterable[Any] = ()) -> Path:
    """Make `out` an mtsft output folder: refuse it as `check_folder` does, create it with its OWNER list,
    add it to its parent's list when the parent is mtsft's, clear temporary files a killed run left, and
    with `overwrite` delete what the list names (and nothing else)."""
    out = check_folder(out, inputs, flag=flag, selective=selective)
    own(out.parent, out.name)           # listed before it exists: a kill in between leaves nothing unlisted
    out.mkdir(parents=True, exist_ok=True)
    if owned(out) is None:              # new, or empty (check_folder refused a non-empty foreign one)
        with _locked(out):
            _write_owner(out, set())
    clear_stale_tmp(out)
    if overwrite:
        clear_owned(out)
    return out


def remove_owned(folder: str | Path, name: str) -> None:
    """Delete `folder/name` if mtsft's list names it; refuse it when something else sits there."""
    folder = Path(folder)
    target = folder / name
    if not os.path.lexists(target):
        if (folder / OWNER).exists():
            _disown(folder, [name])
        return
    listed = owned(folder)
    if listed is None or name not in listed:
        raise OutputRefused(f"{target}: not written by mtsft (not in {folder / OWNER}); move it away first")
    if target.is_dir() and not target.is_symlink():
        if owned(target) is not None:       # a folder with its own list: only what that list names goes
            clear_owned(target)
            with contextlib.suppress(OSError):
                (target / OWNER).unlink()
                target.rmdir()
        else:                                # a folder mtsft made whole (checkpoints, a model): all of it
            shutil.rmtree(target)
    else:
        target.unlink()
    if not os.path.lexists(target):
        _disown(folder, [name])


def clear_owned(folder: str | Path) -> None:
    """Delete every entry the folder's list names; anything else in it stays."""
    folder = Path(folder)
    for name in sorted(owned(folder) or ()):
        remove_owned(folder, name)


# ---- atomic writes ---------------------------------------------------------------------------------------
# Every output goes to a temporary name in the same folder and is renamed over the target when complete,
# so a reader sees the old file or the new one, never a part.

def tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clear_stale_tmp(folder: str | Path, names: Iterable[str] | None = None) -> None:
    """Remove temporary files (and folders) that a killed writer left in `folder`: those of `names` only
    when given, and never one whose writing process is still alive."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    prefixes = tuple(f".{n}{TMP_MARK}" for n in names) if names is not None else None
    for p in folder.iterdir():
        if not _is_tmp(p.name):
            continue
        if prefixes is not None and not p.name.startswith(prefixes):
            continue
        pid = p.name.rsplit(TMP_MARK, 1)[1]
        if not pid.isdigit() or (int(pid) != os.getpid() and _alive(int(pid))):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.unlink()


def _replace_with(path: Path, data: bytes) -> None:
    tmp = tmp_name(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextmanager
def atomic_writer(path: str | Path, mode: str = "wb", encoding: str | None = None):
    """A file object for `path` that appears under that name only when the block ends without error.

    The target must not be a special file or a folder (refused, never replaced); in an mtsft folder the
    name joins the folder's list."""
    path = Path(path)
    kind = special_kind(path)
    if kind:
        raise OutputRefused(f"{path}: is {kind}; mtsft writes only regular files that it creates")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path)
    try:
        with open(tmp, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        own(path.parent, path.name)     # listed before the rename: a kill in between leaves nothing unlisted
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_writer(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_json_atomic(path: str | Path, obj: Any, *, indent: int | None = 2, **dump_kwargs) -> None:
    write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=indent, **dump_kwargs))


def json_line(row: Any) -> bytes:
    """One JSONL line as UTF-8; text that UTF-8 cannot hold (a lone surrogate) is written as a JSON escape."""
    text = json.dumps(row, ensure_ascii=False)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(row, ensure_ascii=True) + "\n").encode("ascii")


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    """Write rows as UTF-8 JSONL (keys in schema order for records), atomically; returns how many."""
    n = 0
    with atomic_writer(path) as f:
        for row in rows:
            f.write(json_line(row))
            n += 1
    return n


def write_lines(path: str | Path, lines: Iterable[bytes]) -> int:
    """Write already-encoded JSONL lines atomically (streaming writers); returns how many."""
    n = 0
    with atomic_writer(path) as f:
        for line in lines:
            f.write(line)
            n += 1
    return n


@contextmanager
def staged_into(folder: str | Path) -> Iterator[Path]:
    """A temporary folder inside the mtsft folder `folder` for writers that make several files at once
    (save_pretrained, report pages): when the block ends without error each entry is renamed into
    `folder` (an earlier entry of mtsft's under that name is deleted first) and listed."""
    folder = Path(folder)
    staging = folder / f".staging{TMP_MARK}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        for entry in sorted(staging.iterdir()):
            remove_owned(folder, entry.name)
            own(folder, entry.name)
            os.replace(entry, folder / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
