"""Tiny test-only HDF5 object-header walker used to locate raw header-message bytes.

It understands superblocks v0-v3 (for Size of Offsets/Lengths and the base address) and
object headers v1/v2 with continuation messages. It is only used to produce test vectors
for crates/hdf5-meta (message parsers); it does no validation beyond what it needs.
"""
import struct


def superblock(buf):
    """Return (base_offset_of_signature, version, O, L) for the file bytes `buf`."""
    sig = b"\x89HDF\r\n\x1a\n"
    pos = 0
    while pos < len(buf):
        if buf[pos:pos + 8] == sig:
            break
        pos = 512 if pos == 0 else pos * 2
    else:
        raise ValueError("no superblock")
    ver = buf[pos + 8]
    if ver in (0, 1):
        o, l = buf[pos + 13], buf[pos + 14]
    else:
        o, l = buf[pos + 9], buf[pos + 10]
    return pos, ver, o, l


def _uint(b):
    return int.from_bytes(b, "little")


def messages(buf, addr, base, o, l):
    """Yield (type, flags, absolute_data_offset, data_size) for every message of the object
    header at base-relative address `addr`."""
    start = base + addr
    if buf[start:start + 4] == b"OHDR":
        flags = buf[start + 5]
        p = start + 6
        if flags & 0x20:
            p += 16
        if flags & 0x10:
            p += 4
        w = 1 << (flags & 3)
        size0 = _uint(buf[p:p + w])
        p += w
        blocks = [(p, p + size0)]
        creation = bool(flags & 0x04)
        hdr = 4 + (2 if creation else 0)
        while blocks:
            p, end = blocks.pop(0)
            while p + hdr <= end:
                mtype = buf[p]
                msize = struct.unpack_from("<H", buf, p + 1)[0]
                mflags = buf[p + 3]
                d = p + hdr
                if mtype == 0x10:
                    caddr = _uint(buf[d:d + o])
                    clen = _uint(buf[d + o:d + o + l])
                    cs = base + caddr
                    assert buf[cs:cs + 4] == b"OCHK"
                    blocks.append((cs + 4, cs + clen - 4))
                yield mtype, mflags, d, msize
                p = d + msize
    else:
        assert buf[start] == 1, "not a v1 object header"
        nmsgs = struct.unpack_from("<H", buf, start + 2)[0]
        hsize = struct.unpack_from("<I", buf, start + 8)[0]
        blocks = [(start + 16, start + 16 + hsize)]
        seen = 0
        while blocks and seen < nmsgs:
            p, end = blocks.pop(0)
            while p + 8 <= end and seen < nmsgs:
                mtype, msize, mflags = struct.unpack_from("<HHB", buf, p)
                d = p + 8
                seen += 1
                if mtype == 0x10:
                    caddr = _uint(buf[d:d + o])
                    clen = _uint(buf[d + o:d + o + l])
                    blocks.append((base + caddr, base + caddr + clen))
                yield mtype, mflags, d, msize
                p = d + msize
