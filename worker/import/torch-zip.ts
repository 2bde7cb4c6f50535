/**
 * Locates the entries of a `torch.save` zip archive without copying them.
 *
 * We parse the central directory ourselves instead of calling fflate's `unzipSync`: the
 * importer only learns which storages it needs after unpickling `data.pkl`, stored entries
 * can then be returned as zero-copy views, and every size the file declares is checked
 * against the file's length before anything is allocated. fflate is used for what it is
 * good at: inflating the (rare) deflated entry into a buffer of the declared size, and
 * decoding entry names.
 */
import { inflateSync, strFromU8 } from 'fflate';
import { FormatError } from '../errors.ts';
import { LIMITS } from '../avatar/config.ts';

export interface ZipEntry {
  /** Full name inside the archive, e.g. `best/data/0`. */
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: 0 | 8;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the central directory's view of the local header. */
  localHeaderOffset: number;
}

export interface TorchZip {
  bytes: Uint8Array;
  /** The archive's root folder (the stem of the file torch.save wrote). */
  root: string;
  /** Entries keyed by their name relative to the root (`data.pkl`, `data/0`, `version`). */
  entries: Map<string, ZipEntry>;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
/** EOCD comment is at most 65535 bytes, so the record starts within this many bytes of the end. */
const EOCD_SEARCH = EOCD_SIZE + 0xffff;
/** Deflate cannot expand data more than ~1032:1; anything claiming more is hostile. */
const MAX_DEFLATE_RATIO = 1032;
const MAX_NAME_BYTES = 4096;

function fail(field: string, message: string): FormatError {
  return FormatError.checkpoint(field, message);
}

function u64(view: DataView, at: number, field: string): number {
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  // Anything above 2^53 cannot be a real offset in a file held in memory.
  if (hi >= 0x200000) throw fail(field, `expected a 64-bit value below 2^53, got high word ${hi}`);
  return hi * 0x100000000 + lo;
}

function findEocd(bytes: Uint8Array, view: DataView): number {
  if (bytes.length < EOCD_SIZE) throw fail('zip', `expected at least ${EOCD_SIZE} bytes, got ${bytes.length} (truncated or not a zip)`);
  const stop = Math.max(0, bytes.length - EOCD_SEARCH);
  for (let at = bytes.length - EOCD_SIZE; at >= stop; at--) {
    if (bytes[at] === 0x50 && view.getUint32(at, true) === SIG_EOCD) {
      const commentLength = view.getUint16(at + 20, true);
      if (at + EOCD_SIZE + commentLength === bytes.length) return at;
    }
  }
  throw fail('zip', 'no end-of-central-directory record (truncated or not a zip file)');
}

interface Directory {
  count: number;
  offset: number;
  size: number;
}

function readDirectory(bytes: Uint8Array, view: DataView): Directory {
  const eocd = findEocd(bytes, view);
  let count = view.getUint16(eocd + 10, true);
  let size = view.getUint32(eocd + 12, true);
  let offset = view.getUint32(eocd + 16, true);
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) {
    throw fail('zip', 'multi-disk archives are not supported');
  }
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== SIG_ZIP64_LOCATOR) throw fail('zip', 'expected a zip64 locator before the end record');
    const rec = u64(view, loc + 8, 'zip.zip64Locator');
    if (rec + 56 > loc || view.getUint32(rec, true) !== SIG_ZIP64_EOCD) throw fail('zip', 'zip64 end record out of range or corrupt');
    count = u64(view, rec + 32, 'zip.entries');
    size = u64(view, rec + 40, 'zip.directorySize');
    offset = u64(view, rec + 48, 'zip.directoryOffset');
  }
  if (offset + size > eocd) throw fail('zip.directory', `expected to end before byte ${eocd}, got ${offset}+${size}`);
  if (count * CENTRAL_SIZE > size) throw fail('zip.directory', `declares ${count} entries in ${size} bytes`);
  return { count, offset, size };
}

/** Applies the zip64 extended-information extra field to values saturated at 0xffffffff. */
function applyZip64(view: DataView, extraStart: number, extraEnd: number, vals: { size: number; compressedSize: number; offset: number }, name: string): void {
  let at = extraStart;
  while (at + 4 <= extraEnd) {
    const id = view.getUint16(at, true);
    const len = view.getUint16(at + 2, true);
    const body = at + 4;
    if (body + len > extraEnd) break;
    if (id === 0x0001) {
      let p = body;
      const take = (): number => {
        if (p + 8 > body + len) throw fail(`zip.${name}`, 'zip64 extra field too short');
        const v = u64(view, p, `zip.${name}`);
        p += 8;
        return v;
      };
      if (vals.size === 0xffffffff) vals.size = take();
      if (vals.compressedSize === 0xffffffff) vals.compressedSize = take();
      if (vals.offset === 0xffffffff) vals.offset = take();
      return;
    }
    at = body + len;
  }
}

/** Parses the central directory of a torch.save archive. Throws FormatError('CHECKPOINT_FORMAT'). */
export function openTorchZip(bytes: Uint8Array): TorchZip {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint32(0, true) !== SIG_LOCAL) {
    throw fail('zip', 'expected a zip file (torch.save format since PyTorch 1.6); legacy tar/pickle checkpoints are not supported');
  }
  const dir = readDirectory(bytes, view);
  const all = new Map<string, ZipEntry>();
  let at = dir.offset;
  const end = dir.offset + dir.size;
  for (let i = 0; i < dir.count; i++) {
    if (at + CENTRAL_SIZE > end || view.getUint32(at, true) !== SIG_CENTRAL) throw fail('zip.directory', `entry ${i}: bad central header signature`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc32 = view.getUint32(at + 16, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const nameStart = at + CENTRAL_SIZE;
    const next = nameStart + nameLength + extraLength + commentLength;
    if (next > end) throw fail('zip.directory', `entry ${i}: extends past the directory`);
    if (nameLength === 0 || nameLength > MAX_NAME_BYTES) throw fail('zip.directory', `entry ${i}: name length ${nameLength}`);
    const name = strFromU8(bytes.subarray(nameStart, nameStart + nameLength), (flags & 0x800) === 0);
    const vals = { compressedSize: view.getUint32(at + 20, true), size: view.getUint32(at + 24, true), offset: view.getUint32(at + 42, true) };
    applyZip64(view, nameStart + nameLength, nameStart + nameLength + extraLength, vals, name);
    if (flags & 0x1) throw fail(`zip.${name}`, 'encrypted entries are not supported');
    if (method !== 0 && method !== 8) throw fail(`zip.${name}`, `expected compression method 0 (stored) or 8 (deflate), got ${method}`);
    if (method === 0 && vals.size !== vals.compressedSize) throw fail(`zip.${name}`, `stored entry sizes differ (${vals.compressedSize} vs ${vals.size})`);
    if (vals.offset + LOCAL_SIZE + vals.compressedSize > dir.offset) {
      throw fail(`zip.${name}`, `expected data to end before the directory at ${dir.offset}, got offset ${vals.offset} + ${vals.compressedSize} bytes`);
    }
    if (all.has(name)) throw fail(`zip.${name}`, 'duplicate entry');
    all.set(name, { name, method, compressedSize: vals.compressedSize, size: vals.size, crc32, localHeaderOffset: vals.offset });
    at = next;
  }
  return withRoot(bytes, all);
}

function withRoot(bytes: Uint8Array, all: Map<string, ZipEntry>): TorchZip {
  let pkl: string | null = null;
  for (const name of all.keys()) {
    if (name.endsWith('/data.pkl') && name.indexOf('/') === name.length - '/data.pkl'.length) {
      if (pkl !== null) throw fail('zip', `expected one <root>/data.pkl entry, found ${pkl} and ${name}`);
      pkl = name;
    }
  }
  if (pkl === null) throw fail('zip.data.pkl', 'missing (not a torch.save archive)');
  const root = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const entries = new Map<string, ZipEntry>();
  for (const [name, entry] of all) {
    if (name.startsWith(root)) entries.set(name.slice(root.length), entry);
  }
  return { bytes, root: root.slice(0, -1), entries };
}

let crcTable: Int32Array | null = null;

export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  const t = crcTable;
  let c = -1;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * Returns an entry's bytes, verified against its CRC-32: a view into the archive for stored
 * entries, a fresh buffer of exactly the declared size for deflated ones.
 */
export function readZipEntry(zip: TorchZip, relName: string, maxBytes: number = LIMITS.maxTensorBytes): Uint8Array {
  const entry = zip.entries.get(relName);
  const field = `zip.${zip.root}/${relName}`;
  if (!entry) throw fail(field, 'missing entry');
  if (entry.size > maxBytes) throw fail(field, `expected at most ${maxBytes} bytes, got ${entry.size}`);
  const bytes = zip.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lh = entry.localHeaderOffset;
  if (lh + LOCAL_SIZE > bytes.length || view.getUint32(lh, true) !== SIG_LOCAL) throw fail(field, `bad local header at ${lh}`);
  // torch pads the local extra field so data is 64-byte aligned: its length is only known here.
  const start = lh + LOCAL_SIZE + view.getUint16(lh + 26, true) + view.getUint16(lh + 28, true);
  const stop = start + entry.compressedSize;
  if (stop > bytes.length) throw fail(field, `data runs past the end of the file (${stop} > ${bytes.length})`);
  const raw = bytes.subarray(start, stop);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else {
    if (entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + 64) throw fail(field, `declares ${entry.size} bytes from ${entry.compressedSize} compressed`);
    try {
      data = inflateSync(raw, { out: new Uint8Array(entry.size) });
    } catch (e) {
      throw FormatError.checkpoint(field, `corrupt deflate data (${(e as Error).message})`, e);
    }
    if (data.length !== entry.size) throw fail(field, `inflated to ${data.length} bytes, expected ${entry.size}`);
  }
  const crc = crc32(data);
  if (crc !== entry.crc32) throw fail(field, `CRC-32 mismatch (expected ${entry.crc32.toString(16)}, got ${crc.toString(16)}): the file is corrupt`);
  return data;
}
