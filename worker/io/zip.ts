/**
 * The zip end record and central directory, read by hand: fflate has no random-access reader,
 * and both the avatar reader and the checkpoint importer must check every size the file
 * declares before they allocate or read anything. Synchronous and platform-free: the caller
 * fetches the tail and the directory however it can (ranged reads, or one whole buffer) and
 * passes the bytes in. What a caller accepts (methods, flags, names, zip64) stays its own
 * policy, and every error goes through the caller's `fail`, so each keeps its error code.
 */
import { strFromU8 } from 'fflate';

/** Throws the caller's error for `field`; never returns. */
export type ZipFail = (field: string, message: string) => never;

export const ZIP_LOCAL_SIG = 0x04034b50;
export const ZIP_CENTRAL_SIG = 0x02014b50;
export const ZIP_END_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_END_SIG = 0x06064b50;
export const ZIP_LOCAL_HEADER_BYTES = 30;
export const ZIP_CENTRAL_HEADER_BYTES = 46;
export const ZIP_END_RECORD_BYTES = 22;
const ZIP64_LOCATOR_BYTES = 20;
const ZIP64_END_RECORD_BYTES = 56;
/** The end record's comment is at most 65535 bytes, so the record starts within this many bytes of the end. */
export const ZIP_END_SEARCH_BYTES = ZIP_END_RECORD_BYTES + 0xffff;
/** General-purpose flag bit 11: the name is UTF-8 (otherwise CP437, read here as latin1). */
export const ZIP_FLAG_UTF8 = 0x0800;
const SATURATED_16 = 0xffff;
const SATURATED_32 = 0xffffffff;

export const u16 = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
export const u32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

function u64(b: Uint8Array, at: number, field: string, fail: ZipFail): number {
  const lo = u32(b, at);
  const hi = u32(b, at + 4);
  // Anything above 2^53 cannot be a real size or offset of a file we can address.
  if (hi >= 0x200000) fail(field, `expected a 64-bit value below 2^53, got high word ${hi}`);
  return hi * 0x100000000 + lo;
}

export interface ZipEndRecord {
  /** Number of central directory records. */
  count: number;
  cdOffset: number;
  cdSize: number;
  /** Absolute offset of the end-of-central-directory record. */
  endOffset: number;
  /** Whether count, cdOffset and cdSize came from a zip64 end record. */
  zip64: boolean;
}

export interface ZipReadOptions {
  /** Accept zip64 (default false: a saturated field fails with "zip64 archives are not supported"). */
  zip64?: boolean;
}

/**
 * Finds the end record in `tail`, the last bytes of a `fileSize`-byte file starting at
 * `tailStart`. Only the last ZIP_END_SEARCH_BYTES of `tail` are searched; a zip64 end record
 * must lie inside `tail` (callers that allow zip64 pass the whole file). Checks that the
 * archive is on one disk and that the directory ends before the record that describes it.
 */
export function findEndRecord(tail: Uint8Array, tailStart: number, fileSize: number, fail: ZipFail, opts: ZipReadOptions = {}): ZipEndRecord {
  if (fileSize < ZIP_END_RECORD_BYTES) fail('zip', `expected at least ${ZIP_END_RECORD_BYTES} bytes, got ${fileSize}`);
  if (tailStart < 0 || tailStart + tail.length !== fileSize) {
    fail('zip', `expected the last bytes of the ${fileSize}-byte file, got [${tailStart}, ${tailStart + tail.length})`);
  }
  const stop = Math.max(0, tail.length - ZIP_END_SEARCH_BYTES);
  for (let i = tail.length - ZIP_END_RECORD_BYTES; i >= stop; i--) {
    if (tail[i] !== 0x50 || u32(tail, i) !== ZIP_END_SIG || i + ZIP_END_RECORD_BYTES + u16(tail, i + 20) !== tail.length) continue;
    return endRecordAt(tail, tailStart, i, fail, opts.zip64 ?? false);
  }
  return fail('zip', 'no end-of-central-directory record (truncated or not a zip file)');
}

function endRecordAt(tail: Uint8Array, tailStart: number, at: number, fail: ZipFail, allowZip64: boolean): ZipEndRecord {
  let count = u16(tail, at + 10);
  let cdSize = u32(tail, at + 12);
  let cdOffset = u32(tail, at + 16);
  if (u16(tail, at + 4) !== 0 || u16(tail, at + 6) !== 0 || u16(tail, at + 8) !== count) fail('zip', 'multi-disk archives are not supported');
  let directoryLimit = tailStart + at;
  const zip64 = count === SATURATED_16 || cdSize === SATURATED_32 || cdOffset === SATURATED_32;
  if (zip64) {
    if (!allowZip64) fail('zip', 'zip64 archives are not supported');
    const loc = at - ZIP64_LOCATOR_BYTES;
    if (loc < 0 || u32(tail, loc) !== ZIP64_LOCATOR_SIG) fail('zip', 'expected a zip64 locator before the end record');
    const rec = u64(tail, loc + 8, 'zip.zip64Locator', fail) - tailStart;
    if (rec < 0 || rec + ZIP64_END_RECORD_BYTES > loc || u32(tail, rec) !== ZIP64_END_SIG) fail('zip', 'zip64 end record out of range or corrupt');
    count = u64(tail, rec + 32, 'zip.entries', fail);
    cdSize = u64(tail, rec + 40, 'zip.directorySize', fail);
    cdOffset = u64(tail, rec + 48, 'zip.directoryOffset', fail);
    directoryLimit = tailStart + rec;
  }
  if (cdOffset + cdSize > directoryLimit) {
    fail('zip.centralDirectory', `expected to end at or before byte ${directoryLimit}, got offset ${cdOffset} + size ${cdSize}`);
  }
  return { count, cdOffset, cdSize, endOffset: tailStart + at, zip64 };
}

/** One central directory record, zip64 sizes applied when allowed; nothing here is checked against the caller's policy. */
export interface ZipDirectoryEntry {
  /** Position in the directory. */
  index: number;
  /** A view into the directory bytes. */
  nameBytes: Uint8Array;
  /** UTF-8 when ZIP_FLAG_UTF8 is set, latin1 otherwise. */
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** Disk on which the entry starts (0 in a single-disk archive). */
  diskStart: number;
}

export interface ParseDirectoryOptions extends ZipReadOptions {
  maxNameBytes: number;
  /** Runs on each record before the next is parsed, so a policy error names the first bad record. */
  check?: (entry: ZipDirectoryEntry) => void;
}

/**
 * Parses `count` records filling exactly `cd` (the directory's bytes). Bounded by cd.length:
 * a count that cannot fit is refused before the loop, and every record must lie inside.
 */
export function parseCentralDirectory(cd: Uint8Array, count: number, fail: ZipFail, opts: ParseDirectoryOptions): ZipDirectoryEntry[] {
  if (count * ZIP_CENTRAL_HEADER_BYTES > cd.length) fail('zip.centralDirectory', `declares ${count} records in ${cd.length} bytes`);
  const entries: ZipDirectoryEntry[] = [];
  let pos = 0;
  for (let k = 0; k < count; k++) {
    if (pos + ZIP_CENTRAL_HEADER_BYTES > cd.length || u32(cd, pos) !== ZIP_CENTRAL_SIG) fail('zip.centralDirectory', `record ${k} is missing or malformed`);
    const nameLen = u16(cd, pos + 28);
    const extraLen = u16(cd, pos + 30);
    const nameStart = pos + ZIP_CENTRAL_HEADER_BYTES;
    const extraStart = nameStart + nameLen;
    const next = extraStart + extraLen + u16(cd, pos + 32);
    if (next > cd.length) fail('zip.centralDirectory', `record ${k} runs past the directory end`);
    if (nameLen < 1 || nameLen > opts.maxNameBytes) fail('zip.entry', `expected a name of 1 to ${opts.maxNameBytes} bytes, got ${nameLen}`);
    const nameBytes = cd.subarray(nameStart, extraStart);
    const flags = u16(cd, pos + 8);
    const entry: ZipDirectoryEntry = {
      index: k,
      nameBytes,
      name: strFromU8(nameBytes, (flags & ZIP_FLAG_UTF8) === 0),
      flags,
      method: u16(cd, pos + 10),
      crc: u32(cd, pos + 16),
      compressedSize: u32(cd, pos + 20),
      size: u32(cd, pos + 24),
      diskStart: u16(cd, pos + 34),
      localHeaderOffset: u32(cd, pos + 42),
    };
    if (opts.zip64) applyZip64(cd, extraStart, extraStart + extraLen, entry, fail);
    opts.check?.(entry);
    entries.push(entry);
    pos = next;
  }
  if (pos !== cd.length) fail('zip.centralDirectory', `holds ${cd.length - pos} bytes after its ${count} records`);
  return entries;
}

/** Replaces the values saturated at 0xffffffff with those of the zip64 extended-information extra field. */
function applyZip64(cd: Uint8Array, start: number, end: number, e: ZipDirectoryEntry, fail: ZipFail): void {
  const field = `zip.${e.name}`;
  for (let at = start; at + 4 <= end; ) {
    const id = u16(cd, at);
    const body = at + 4;
    const bodyEnd = body + u16(cd, at + 2);
    if (bodyEnd > end) return;
    if (id === 0x0001) {
      let p = body;
      const take = (): number => {
        if (p + 8 > bodyEnd) fail(field, 'zip64 extra field too short');
        const v = u64(cd, p, field, fail);
        p += 8;
        return v;
      };
      if (e.size === SATURATED_32) e.size = take();
      if (e.compressedSize === SATURATED_32) e.compressedSize = take();
      if (e.localHeaderOffset === SATURATED_32) e.localHeaderOffset = take();
      return;
    }
    at = bodyEnd;
  }
}

let crcTable: Int32Array | null = null;

/** CRC-32 (zip polynomial), so corrupted entries are reported instead of loaded; fflate has one but does not export it. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c;
    }
  }
  const t = crcTable;
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
