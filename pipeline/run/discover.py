"""Account for everything in the drop zone, and identify each file by the SHA-256 of its
bytes (issue 12 item 6, issue 11 item 3).

Every regular file below the raw folder becomes one or more ``Discovered`` entries of a
``kind``:

* ``workbook``: to be read. A file is classified by its bytes, not its name: OOXML
  (xlsx/xlsm), XLSB, ODS and OLE2/BIFF (xls, WPS ``.et``) whatever the extension (a
  trailing space, a wrong suffix, none); a file named like a workbook (``.xlsx``,
  ``.et``…) is read whatever its bytes, so that the reader rejects it saying what it
  really is (a PDF, a Word document, a zip of other files).
* ``not_read``: editor lock files (``~$…``), hidden files (``.name``, or any file in a
  hidden folder), backups
  (``*.bak``, ``*.xlsx.bak``, ``…~``), and anything that is not a workbook (``.csv``,
  ``.txt``, ``.docx``, ``.pdf``…: "send the workbook"), each with its reason.
* ``expanded``: a zip archive read in place (never extracted beside the raw folder);
  each member gets an entry of its own (``archive_path``, ``archive_sha256``,
  ``member_name``; the SHA-256 is the member's). Member names are decoded as UTF-8
  when the archive's flag says so, otherwise UTF-8 then GB18030 (``pipeline.extract.names``).
* ``rejected``: an archive that is encrypted, damaged, or over the limits (members,
  total uncompressed size), a member that is itself an archive, a path longer than
  the system allows.

Names are shown as decoded text (``pipeline.extract.names``): a name holding GBK bytes or a
newline is processed or rejected like any other, on its own. The walk uses directory
descriptors (``os.fwalk``), so a path beyond PATH_MAX is still listed and hashed.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from pipeline.extract.names import display_name, member_name
from pipeline.extract.readers.workbook import describe_head, sniff_head, zip_kind

# Names that claim a workbook: read even when the bytes are something else, so the
# reader's rejection says what the file really is.
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et", ".ett", ".xlt", ".xltx",
                     ".xltm"}  # fmt: skip
BACKUP_SUFFIXES = (".bak", ".wbk", ".xlk", ".backup", "~")
ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz")
MAX_ARCHIVE_MEMBERS = 200
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Discovered:
    """One thing in the drop zone.

    ``path``: where to open it (for a zip member, the archive; ``member`` names the
    member as ``zipfile`` lists it). ``rel_path``: the path relative to the raw folder as
    text (for a member, ``<archive rel path>/<member name>``); ``file_name``: its last
    part. ``received_at``: modification time (UTC, naive; a member takes its archive's),
    made the earlier of that and the first time tpa saw the SHA-256 by
    ``pipeline.run.submission.plan_extracts``; ``modified_at`` keeps the modification time.
    ``kind``: workbook | not_read | expanded | rejected, with ``reason`` (a short code)
    and ``message`` / ``message_en`` for the last three.
    """

    path: Path
    rel_path: str
    file_name: str
    size_bytes: int
    received_at: datetime
    sha256: str
    kind: str = "workbook"
    reason: str | None = None
    message: str | None = None
    message_en: str | None = None
    archive_path: str | None = None
    archive_sha256: str | None = None
    member_name: str | None = None
    member: str | None = None
    modified_at: datetime | None = None
    mtime_ahead_s: float = 0.0  # set by submission.plan_extracts when the clock is ahead

    @property
    def parts(self) -> list[str]:
        """Folders, archive and member folders, and the name: for attributing the file."""
        return [p for p in self.rel_path.split("/") if p]


@dataclass(frozen=True)
class Limits:
    """Bounds of reading an archive in place: members, total and per-member size."""

    max_members: int = MAX_ARCHIVE_MEMBERS
    max_total_bytes: int = 1024 * 2**20
    max_member_bytes: int = 200 * 2**20

    @classmethod
    def of(cls, settings) -> Limits:
        return cls(
            settings.max_archive_members, settings.max_unzipped_bytes, settings.max_file_bytes
        )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _suffix(name: str) -> str:
    stem = name.rstrip(" .")
    return ("." + stem.rsplit(".", 1)[1].lower()) if "." in stem else ""


_NAME_RULES = [
    (lambda n: n.startswith("~$") or (n.startswith("~") and n.lower().endswith(".tmp")),
     "lock_file", "编辑软件的临时锁定文件，未读取", "an editor's lock file: not read"),
    (lambda n: n.startswith("."), "hidden_file", "隐藏文件，未读取", "a hidden file: not read"),
    (lambda n: n.rstrip(" ").lower().endswith(BACKUP_SUFFIXES), "backup_file",
     "备份文件，未读取；如需报送请发送工作簿本身", "a backup copy: not read; send the workbook itself"),
]  # fmt: skip


def by_name(name: str) -> tuple[str, str, str] | None:
    """``(reason, zh, en)`` when the name alone says the file is not to be read: an
    editor lock file, a hidden file or a backup; else None."""
    for test, reason, zh, en in _NAME_RULES:
        if test(name):
            return reason, zh, en
    return None


def _send_workbook(head: bytes, what: tuple[str, str] | None = None) -> tuple[str, str, str]:
    zh, en = what or describe_head(head)
    return (
        "not_a_workbook",
        f"不是工作簿（{zh}），未读取；请报送Excel工作簿",
        f"not a workbook ({en}): not read; send the workbook",
    )


_OFFICE = ("其他Office文档（如Word）", "another office document, e.g. Word")


def classify(name: str, head: bytes, zip_names: set[str] | None, mimetype: bytes | None):
    """What to do with a file or member: ``('workbook', None)``, ``('archive', None)``, or
    ``('not_read', (reason, zh, en))``. ``head``: its first 512 bytes; ``zip_names``:
    its members when it is a readable zip (None otherwise)."""
    if (rule := by_name(name)) is not None:
        return "not_read", rule
    kind = sniff_head(head[:8])
    if kind == "ole" or _suffix(name) in WORKBOOK_SUFFIXES:  # the reader says what it is
        return "workbook", None
    if zip_names is not None:
        real = zip_kind(zip_names, mimetype)
        if real in ("xlsx", "xlsb", "ods"):
            return "workbook", None
        if real == "office":
            return "not_read", _send_workbook(head, _OFFICE)
        return "archive", None
    if kind == "zip":  # a damaged zip: the reader says so
        return "workbook", None
    return "not_read", _send_workbook(head)


def _zip_names(fh) -> tuple[set[str] | None, bytes | None]:
    try:
        with zipfile.ZipFile(fh) as zf:
            names = set(zf.namelist())
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else None
            return names, mimetype
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, zlib.error,
            NotImplementedError, RuntimeError):  # fmt: skip
        return None, None


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


# written by `tpa sample` beside the workbooks it wrote (devkit.sample.SAMPLE_MARK), so
# that `make clean` removes those only; not something a county sent
TPA_SAMPLE_MARK = ".tpa-sample.json"


def discover(raw_dir: Path, limits: Limits | None = None) -> list[Discovered]:
    """Every regular file below ``raw_dir`` (recursive; symbolic links followed, each
    folder walked once) as ``Discovered`` entries (see the module docstring), sorted by
    relative path then SHA-256.

    Raises OSError when a file cannot be read (a file that vanishes while listed is
    left out)."""
    limits = limits or Limits()
    raw_dir = Path(raw_dir)
    out: list[Discovered] = []
    if not raw_dir.is_dir():
        return out
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames, dirfd in os.fwalk(raw_dir, follow_symlinks=True):
        me = os.fstat(dirfd)
        seen_dirs.add((me.st_dev, me.st_ino))
        dirnames[:] = sorted(n for n in dirnames if _new_dir(n, dirfd, seen_dirs))
        rel_dir = os.path.relpath(dirpath, raw_dir)
        for name in sorted(filenames):
            if rel_dir == "." and name == TPA_SAMPLE_MARK:  # tpa's own record, not a submission
                continue
            try:
                out.extend(_one(Path(dirpath), rel_dir, name, dirfd, limits))
            except FileNotFoundError:  # gone while listed
                continue
    return sorted(out, key=lambda d: (d.rel_path, d.sha256))


def _new_dir(name: str, dirfd: int, seen: set[tuple[int, int]]) -> bool:
    """A folder not walked yet (a symbolic link may lead back up: no loop)."""
    try:
        st = os.stat(name, dir_fd=dirfd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) not in seen


def _rel_text(rel_dir: str, name: str) -> str:
    parts = [] if rel_dir in (".", "") else rel_dir.split(os.sep)
    return "/".join(display_name(p) for p in [*parts, name])


def _path_fits(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return False
        raise
    return True


def _one(dirpath: Path, rel_dir: str, name: str, dirfd: int, limits: Limits) -> list[Discovered]:
    st = os.stat(name, dir_fd=dirfd)
    if not stat.S_ISREG(st.st_mode):  # a FIFO, socket or device is never opened
        return []
    path = dirpath / name
    rel = _rel_text(rel_dir, name)
    fd = os.open(name, os.O_RDONLY, dir_fd=dirfd)
    with os.fdopen(fd, "rb") as fh:
        h, head = hashlib.sha256(), fh.read(512)
        h.update(head)
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
        names, mimetype = (None, None)
        hidden_dir = any(p.startswith(".") for p in rel.split("/")[:-1])
        listed = by_name(name) is None and not hidden_dir and _suffix(name) not in WORKBOOK_SUFFIXES
        if listed and head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            fh.seek(0)
            names, mimetype = _zip_names(fh)
        base = Discovered(
            path=path,
            rel_path=rel,
            file_name=display_name(name),
            size_bytes=st.st_size,
            received_at=_utc(st.st_mtime),
            sha256=h.hexdigest(),
            modified_at=_utc(st.st_mtime),
        )
        if not _path_fits(path):
            return [_rejected(base, "path_too_long", *_TOO_LONG)]
        if hidden_dir:  # a file in a hidden folder (.Trash, .git…) is hidden too
            return [_with(base, "not_read", "hidden_file", *_NAME_RULES[1][2:])]
        what, rule = classify(name, head, names, mimetype)
        if what == "not_read":
            return [_with(base, "not_read", *rule)]
        if what == "archive":
            fh.seek(0)
            return expand(base, fh, limits)
        if names is None and head.startswith(b"PK") and _suffix(name) == ".zip":
            return [_rejected(base, *_archive_damaged(None))]
        return [base]


_TOO_LONG = (
    "文件路径过长，系统无法打开；请把文件移到较短的文件夹路径下",
    "the path is longer than the system allows; move the file to a shorter folder path",
)


def _with(d: Discovered, kind: str, reason: str, zh: str, en: str) -> Discovered:
    return replace(d, kind=kind, reason=reason, message=zh, message_en=en)


def _rejected(d: Discovered, reason: str, zh: str, en: str) -> Discovered:
    return _with(d, "rejected", reason, zh, en)


def _archive_damaged(exc: BaseException | None) -> tuple[str, str, str]:
    detail = f" ({type(exc).__name__}: {str(exc)[:120]})" if exc else ""
    return (
        "damaged",
        "压缩包已损坏或不完整，无法打开，请重新压缩后报送（或直接报送工作簿）",
        f"the archive is damaged or incomplete{detail}",
    )


# ------------------------------------------------------------------ archives


def expand(archive: Discovered, fh, limits: Limits) -> list[Discovered]:
    """Read the zip ``archive`` in place (``fh`` open on its bytes): its own entry (kind
    ``expanded``, or ``rejected`` when encrypted, damaged or over ``limits``) and one
    entry per member file."""
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            refused = _refuse(infos, limits)
            if refused is not None:
                return [_rejected(archive, *refused)]
            members = [_member(archive, zf, i, limits) for i in infos]
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
            RuntimeError, ValueError) as exc:  # fmt: skip
        return [_rejected(archive, *_archive_damaged(exc))]
    books = sum(1 for m in members if m.kind == "workbook")
    zh = f"压缩包已展开：{len(members)} 个文件，其中工作簿 {books} 个"
    en = f"archive read in place: {len(members)} files, {books} workbooks"
    return [replace(archive, kind="expanded", message=zh, message_en=en), *members]


def _refuse(infos: list[zipfile.ZipInfo], limits: Limits) -> tuple[str, str, str] | None:
    if any(i.flag_bits & 0x1 for i in infos):
        return (
            "encrypted",
            "压缩包设置了密码，无法读取；请取消密码后重新报送（或直接报送工作簿）",
            "the archive is password-protected; send it without a password (or send the workbooks)",
        )
    if len(infos) > limits.max_members:
        return (
            "too_large",
            f"压缩包中有 {len(infos):,} 个文件，超过上限 {limits.max_members:,} 个；请分开报送",
            f"the archive holds {len(infos):,} files, more than the limit of {limits.max_members:,}",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_bytes:
        mib, cap = total / 2**20, limits.max_total_bytes / 2**20
        return (
            "too_large",
            f"压缩包解压后达 {mib:,.0f} MiB（上限 {cap:,.0f} MiB）；请分开报送",
            f"the archive expands to {mib:,.0f} MiB (limit {cap:,.0f} MiB)",
        )
    return None


def _member(archive: Discovered, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits):
    """The entry of one member: classified like a file; a member that is an archive
    itself is rejected (nested archives are not opened)."""
    name = member_name(info)
    base_name = PurePosixPath(name).name or name
    d = Discovered(
        path=archive.path,
        rel_path=f"{archive.rel_path}/{name}",
        file_name=base_name,
        size_bytes=info.file_size,
        received_at=archive.received_at,
        sha256="",
        archive_path=archive.rel_path,
        archive_sha256=archive.sha256,
        member_name=name,
        member=info.filename,
        modified_at=archive.modified_at,
    )
    if info.file_size > limits.max_member_bytes:
        h = hashlib.sha256()
        with zf.open(info) as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                h.update(chunk)
        mib, cap = info.file_size / 2**20, limits.max_member_bytes / 2**20
        return _rejected(
            replace(d, sha256=h.hexdigest()),
            "too_large",
            f"文件大小 {mib:,.1f} MiB（上限 {cap:,.0f} MiB）",
            f"the file is {mib:,.1f} MiB (limit {cap:,.0f} MiB)",
        )
    data = zf.read(info)
    d = replace(d, sha256=hashlib.sha256(data).hexdigest())
    names, mimetype = (None, None)
    if data.startswith(b"PK"):
        names, mimetype = _zip_names(io.BytesIO(data))
    what, rule = classify(base_name, data[:512], names, mimetype)
    if what == "not_read" and not (
        rule[0] == "not_a_workbook" and describe_head(data[:512])[1] == "an archive"
    ):
        return _with(d, "not_read", *rule)
    if what == "workbook" and not (names is None and _suffix(base_name) in ARCHIVE_SUFFIXES):
        return d
    return _rejected(
        d,
        "nested_archive",
        "压缩包中又有压缩包，未打开；请解压后报送其中的工作簿",
        "an archive inside the archive is not opened; unpack it and send the workbooks",
    )


def read_member(path: Path, member: str, max_bytes: int) -> bytes:
    """The bytes of ``member`` of the zip at ``path`` (at most ``max_bytes``).

    Raises OSError when the archive cannot be read; ``zipfile.BadZipFile`` or KeyError
    when it changed since discovery."""
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        return fh.read(max_bytes + 1)
