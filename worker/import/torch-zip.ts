/**
 * Locates the entries of a `torch.save` zip archive without copying them.
 *
 * The central directory is parsed by io/zip.ts instead of fflate's `unzipSync`: the importer
 * only learns which storages it needs after unpickling `data.pkl`, stored entries can then be
 * returned as zero-copy views, and every size the file declares is checked against the
 * file's length before anything is allocated. fflate inflates the (rare) deflated entry into
 * a buffer of the declared size.
 */
import { inflateSync } from 'fflate';
import { FormatError } from '../errors.ts';
import { LIMITS } from '../avatar/config.ts';
import { ZIP_LOCAL_HEADER_BYTES, ZIP_LOCAL_SIG, crc32, findEndRecord, parseCentralDirectory, u16, u32, type ZipDirectoryEntry } from '../io/zip.ts';

export interface TorchZip {
  bytes: Uint8Array;
  /** The archive's root folder (the stem of the file torch.save wrote). */
  root: string;
  /** Entries keyed by their name relative to the root (`data.pkl`, `data/0`, `version`); method is 0 (stored) or 8 (deflate). */
  entries: Map<string, ZipDirectoryEntry>;
}

/** Deflate cannot expand data more than ~1032:1; anything claiming more is hostile. */
const MAX_DEFLATE_RATIO = 1032;
const MAX_NAME_BYTES = 4096;

function fail(field: string, message: string, cause?: unknown): never {
  throw FormatError.checkpoint(field, message, cause);
}

/** Parses the central directory of a torch.save archive. Throws FormatError('CHECKPOINT_FORMAT'). */
export function openTorchZip(bytes: Uint8Array): TorchZip {
  if (bytes.length < 4 || u32(bytes, 0) !== ZIP_LOCAL_SIG) {
    fail('zip', 'expected a zip file (torch.save format since PyTorch 1.6); legacy tar/pickle checkpoints are not supported');
  }
  const dir = findEndRecord(bytes, 0, bytes.length, fail, { zip64: true });
  const all = new Map<string, ZipDirectoryEntry>();
  const check = (e: ZipDirectoryEntry): void => {
    const field = `zip.${e.name}`;
    if (e.flags & 0x1) fail(field, 'encrypted entries are not supported');
    if (e.method !== 0 && e.method !== 8) fail(field, `expected compression method 0 (stored) or 8 (deflate), got ${e.method}`);
    if (e.method === 0 && e.size !== e.compressedSize) fail(field, `stored entry sizes differ (${e.compressedSize} vs ${e.size})`);
    if (e.localHeaderOffset + ZIP_LOCAL_HEADER_BYTES + e.compressedSize > dir.cdOffset) {
      fail(field, `expected data to end before the directory at ${dir.cdOffset}, got offset ${e.localHeaderOffset} + ${e.compressedSize} bytes`);
    }
    if (all.has(e.name)) fail(field, 'duplicate entry');
    all.set(e.name, e);
  };
  parseCentralDirectory(bytes.subarray(dir.cdOffset, dir.cdOffset + dir.cdSize), dir.count, fail, { maxNameBytes: MAX_NAME_BYTES, zip64: true, check });
  return withRoot(bytes, all);
}

function withRoot(bytes: Uint8Array, all: Map<string, ZipDirectoryEntry>): TorchZip {
  let pkl: string | null = null;
  for (const name of all.keys()) {
    if (name.endsWith('/data.pkl') && name.indexOf('/') === name.length - '/data.pkl'.length) {
      if (pkl !== null) fail('zip', `expected one <root>/data.pkl entry, found ${pkl} and ${name}`);
      pkl = name;
    }
  }
  if (pkl === null) fail('zip.data.pkl', 'missing (not a torch.save archive)');
  const root = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const entries = new Map<string, ZipDirectoryEntry>();
  for (const [name, entry] of all) {
    if (name.startsWith(root)) entries.set(name.slice(root.length), entry);
  }
  return { bytes, root: root.slice(0, -1), entries };
}

/**
 * Returns an entry's bytes, verified against its CRC-32: a view into the archive for stored
 * entries, a fresh buffer of exactly the declared size for deflated ones.
 */
export function readZipEntry(zip: TorchZip, relName: string, maxBytes: number = LIMITS.maxTensorBytes): Uint8Array {
  const entry = zip.entries.get(relName);
  const field = `zip.${zip.root}/${relName}`;
  if (!entry) fail(field, 'missing entry');
  if (entry.size > maxBytes) fail(field, `expected at most ${maxBytes} bytes, got ${entry.size}`);
  const bytes = zip.bytes;
  const lh = entry.localHeaderOffset;
  if (lh + ZIP_LOCAL_HEADER_BYTES > bytes.length || u32(bytes, lh) !== ZIP_LOCAL_SIG) fail(field, `bad local header at ${lh}`);
  // torch pads the local extra field so data is 64-byte aligned: its length is only known here.
  const start = lh + ZIP_LOCAL_HEADER_BYTES + u16(bytes, lh + 26) + u16(bytes, lh + 28);
  const stop = start + entry.compressedSize;
  if (stop > bytes.length) fail(field, `data runs past the end of the file (${stop} > ${bytes.length})`);
  const raw = bytes.subarray(start, stop);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else {
    if (entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + 64) fail(field, `declares ${entry.size} bytes from ${entry.compressedSize} compressed`);
    try {
      data = inflateSync(raw, { out: new Uint8Array(entry.size) });
    } catch (e) {
      fail(field, `corrupt deflate data (${(e as Error).message})`, e);
    }
    if (data.length !== entry.size) fail(field, `inflated to ${data.length} bytes, expected ${entry.size}`);
  }
  const crc = crc32(data);
  if (crc !== entry.crc) fail(field, `CRC-32 mismatch (expected ${entry.crc.toString(16)}, got ${crc.toString(16)}): the file is corrupt`);
  return data;
}
