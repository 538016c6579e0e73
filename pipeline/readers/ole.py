"""A small, bounded reader of OLE2 compound files (MS-CFB): the container of ``.xls``
workbooks and of password-protected ``.xlsx`` files.

Only what the pipeline needs: the names of the streams (an encrypted OOXML package
holds ``EncryptionInfo`` and ``EncryptedPackage``; an ``.xls`` holds ``Workbook`` or
``Book``) and the bytes of one stream (the BIFF side pass in ``xls_meta``). Every
sector chain is followed at most as many steps as the file has sectors, so a damaged
or hostile file ends in ``OleError``, never in a loop or an unbounded allocation.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END = 0xFFFFFFFE
_FREE = 0xFFFFFFFF
_SPECIAL = 0xFFFFFFFA  # and above: not a sector number


class OleError(ValueError):
    """The file is not a readable compound file (bad header, broken chain)."""


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    start: int
    size: int


class OleFile:
    """An OLE2 compound file held in memory (``data``: the whole file's bytes).

    Raises ``OleError`` on a damaged header, FAT or directory.
    """

    def __init__(self, data: bytes):
        if len(data) < 512 or data[:8] != MAGIC:
            raise OleError("not an OLE2 compound file")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise OleError("unsupported sector size")
        self.sector = 1 << shift
        self.mini = 1 << mini_shift
        n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
        self.cutoff, first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from(
            "<IIIII", data, 0x38
        )
        self.n_sectors = max(0, (len(data) - 512) // self.sector + 1)
        if n_fat > self.n_sectors:
            raise OleError("FAT larger than the file")
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _SPECIAL]
        difat = first_difat
        for _ in range(min(n_difat, self.n_sectors)):
            if difat >= _SPECIAL:
                break
            vals = struct.unpack(f"<{self.sector // 4}I", self._sector(difat))
            fat_sectors.extend(s for s in vals[:-1] if s < _SPECIAL)
            difat = vals[-1]
        fat = bytearray()
        for s in fat_sectors[:n_fat]:
            fat += self._sector(s)
        self.fat = struct.unpack(f"<{len(fat) // 4}I", bytes(fat))
        self.entries = self._directory(first_dir)
        root = next((e for e in self.entries if e.kind == 5), None)
        self._ministream = self._chain(root.start, root.size) if root else b""
        self.minifat: tuple[int, ...] = ()
        if n_minifat and first_minifat < _SPECIAL:
            raw = self._chain(first_minifat, None)
            self.minifat = struct.unpack(f"<{len(raw) // 4}I", raw)

    def _sector(self, n: int) -> bytes:
        off = (n + 1) * self.sector
        if n >= _SPECIAL or off >= len(self.data):
            raise OleError(f"sector {n} outside the file")
        return self.data[off : off + self.sector]

    def _chain(self, start: int, size: int | None) -> bytes:
        out = bytearray()
        n = start
        for _ in range(self.n_sectors + 1):
            if n == _END or n == _FREE:
                break
            if n >= len(self.fat):
                raise OleError("broken sector chain")
            out += self._sector(n)
            if size is not None and len(out) >= size:
                break
            n = self.fat[n]
        else:
            raise OleError("sector chain loops")
        return bytes(out[:size]) if size is not None else bytes(out)

    def _mini_chain(self, start: int, size: int) -> bytes:
        out = bytearray()
        n = start
        for _ in range(len(self.minifat) + 1):
            if n == _END or n == _FREE or len(out) >= size:
                break
            if n >= len(self.minifat):
                raise OleError("broken mini sector chain")
            off = n * self.mini
            out += self._ministream[off : off + self.mini]
            n = self.minifat[n]
        return bytes(out[:size])

    def _directory(self, first: int) -> list[_Entry]:
        raw = self._chain(first, None)
        entries = []
        for off in range(0, len(raw) - 127, 128):
            name_len = struct.unpack_from("<H", raw, off + 0x40)[0]
            kind = raw[off + 0x42]
            if kind not in (1, 2, 5):
                continue
            name = raw[off : off + max(0, min(name_len, 64) - 2)].decode("utf-16-le", "replace")
            start, size = struct.unpack_from("<IQ", raw, off + 0x74)
            if self.sector == 512:
                size &= 0xFFFFFFFF
            entries.append(_Entry(name, kind, start, size))
        return entries

    @property
    def stream_names(self) -> list[str]:
        return [e.name for e in self.entries if e.kind == 2]

    def read_stream(self, name: str, max_bytes: int | None = None) -> bytes:
        """The bytes of the first stream called ``name`` (case-insensitive).

        Raises ``KeyError`` when there is none, ``OleError`` when it is damaged or
        larger than ``max_bytes``.
        """
        for e in self.entries:
            if e.kind == 2 and e.name.lower() == name.lower():
                if max_bytes is not None and e.size > max_bytes:
                    raise OleError(f"stream {name} larger than {max_bytes} bytes")
                if e.size > len(self.data):
                    raise OleError(f"stream {name} larger than the file")
                if e.size < self.cutoff:
                    return self._mini_chain(e.start, e.size)
                return self._chain(e.start, e.size)
        raise KeyError(name)
