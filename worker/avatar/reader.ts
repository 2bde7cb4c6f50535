/**
 * readAvatar: .r2t file -> Avatar. Only the zip's tail and central directory are read to find
 * the entries (parsed by io/zip.ts), so that entries are read in place, one tensor at a time,
 * and no allocation is larger than a size that was declared, bounded and checked first.
 */
import { FormatError, R2TalkerError } from '../errors.ts';
import { FORMAT_LIMITS, GENERATOR_ENTRY, HEADER_ENTRY, MIMETYPE, MIMETYPE_ENTRY, checkTensorValues, asciiString, parseHeader, type AvatarHeader } from './format.ts';
import {
  ZIP_END_RECORD_BYTES,
  ZIP_END_SEARCH_BYTES,
  ZIP_END_SIG,
  ZIP_FLAG_UTF8,
  ZIP_LOCAL_HEADER_BYTES as LOCAL_HEADER,
  ZIP_LOCAL_SIG,
  crc32,
  findEndRecord,
  parseCentralDirectory,
  u16,
  u32,
  type ZipDirectoryEntry,
  type ZipEndRecord,
} from '../io/zip.ts';
import { toByteSource, type ByteSource } from './source.ts';
import { float16BitsToFloat32, formatShape, tensorByteLength, typedArrayFromBytes } from './tensor.ts';
import type { Avatar, LandmarkStats, Tensor } from './types.ts';

export interface ReadAvatarOptions {
  /** Called with bytes consumed so far; monotonic, and the last call has loadedBytes === totalBytes. */
  onProgress?: (loadedBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
  /** Keep float16 weights as half bits (default true); false converts them to float32. */
  keepFloat16?: boolean;
}

/** Generous for maxEntries records of maxEntryNameBytes plus extra fields; fflate writes far less. */
const MAX_CENTRAL_DIRECTORY_BYTES = 1 << 20;
/** The only zip flag allowed is bit 11 (UTF-8 names): no encryption, no data descriptors (sizes must be known up front). */
const ALLOWED_FLAGS = ZIP_FLAG_UTF8;

interface ZipEntry {
  name: string;
  headerOffset: number;
  dataOffset: number;
  size: number;
  crc: number;
}

function fail(field: string, message: string, cause?: unknown): never {
  throw FormatError.avatar(field, message, cause);
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new R2TalkerError('ABORTED', 'avatar loading was aborted', { cause: signal.reason });
}

async function readRange(src: ByteSource, offset: number, length: number, field: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await src.read(offset, length);
  } catch (e) {
    if (e instanceof R2TalkerError) throw e;
    return fail(field, `could not read ${length} bytes at offset ${offset}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== length) {
    fail(field, `expected ${length} bytes at offset ${offset}, the source returned ${bytes instanceof Uint8Array ? bytes.byteLength : typeof bytes}`);
  }
  return bytes;
}

/** The mimetype must be the first, stored, extra-free entry so the magic sits at a fixed offset (as in EPUB). */
async function checkMagic(src: ByteSource): Promise<void> {
  const magicAt = LOCAL_HEADER + MIMETYPE_ENTRY.length;
  const want = magicAt + MIMETYPE.length;
  const notAvatar = `expected an R2 Talker avatar (a zip whose first entry "mimetype" holds "${MIMETYPE}")`;
  if (src.size < want) fail('mimetype', `${notAvatar}, got a ${src.size}-byte file`);
  const b = await readRange(src, 0, want, 'mimetype');
  const ok =
    u32(b, 0) === ZIP_LOCAL_SIG &&
    u16(b, 8) === 0 &&
    u32(b, 18) === MIMETYPE.length &&
    u16(b, 26) === MIMETYPE_ENTRY.length &&
    u16(b, 28) === 0 &&
    asciiString(b.subarray(LOCAL_HEADER, magicAt)) === MIMETYPE_ENTRY &&
    asciiString(b.subarray(magicAt, want)) === MIMETYPE;
  if (!ok) fail('mimetype', `${notAvatar}; this is not an avatar file`);
}

async function findEndOfCentralDirectory(src: ByteSource): Promise<ZipEndRecord> {
  // Archives without a comment (all that writeAvatar makes) need only the last 22 bytes.
  let tailLen = Math.min(src.size, ZIP_END_RECORD_BYTES);
  let tail = await readRange(src, src.size - tailLen, tailLen, 'zip');
  if (tailLen < ZIP_END_RECORD_BYTES || u32(tail, 0) !== ZIP_END_SIG || u16(tail, 20) !== 0) {
    tailLen = Math.min(src.size, ZIP_END_SEARCH_BYTES);
    tail = await readRange(src, src.size - tailLen, tailLen, 'zip');
  }
  const end = findEndRecord(tail, src.size - tailLen, src.size, fail);
  const { count, cdOffset, cdSize, endOffset } = end;
  if (count < 2 || count > FORMAT_LIMITS.maxEntries) fail('zip.entries', `expected 2 to ${FORMAT_LIMITS.maxEntries} entries, got ${count}`);
  if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES) fail('zip.centralDirectory', `expected at most ${MAX_CENTRAL_DIRECTORY_BYTES} bytes, got ${cdSize}`);
  if (cdOffset + cdSize !== endOffset) fail('zip.centralDirectory', `expected to end at ${endOffset}, got offset ${cdOffset} + size ${cdSize}`);
  return end;
}

/** The avatar's policy for one central directory record: stored, printable ASCII name, single disk, header before the directory. */
function checkRecord(e: ZipDirectoryEntry, cdOffset: number): void {
  for (const byte of e.nameBytes) {
    if (byte < 0x21 || byte > 0x7e) fail('zip.entry', `name contains byte 0x${byte.toString(16)}; expected printable ASCII`);
  }
  const { name, flags, method, size } = e;
  if (flags & ~ALLOWED_FLAGS) fail(name, `zip flags 0x${flags.toString(16)} (encryption or data descriptor) are not supported`);
  if (method !== 0) fail(name, `compression method ${method}, expected 0 (stored)`);
  if (e.compressedSize !== size) fail(name, `stored size ${e.compressedSize} differs from uncompressed size ${size}`);
  if (e.diskStart !== 0) fail(name, 'multi-disk archives are not supported');
  const headerOffset = e.localHeaderOffset;
  if (headerOffset + LOCAL_HEADER + e.nameBytes.length > cdOffset) fail(name, `local header offset ${headerOffset} is past the end of the entry data (${cdOffset})`);
}

/** Every entry of the archive, validated: stored, unique, inside the file, not overlapping. */
async function readDirectory(src: ByteSource): Promise<Map<string, ZipEntry>> {
  const { count, cdOffset, cdSize } = await findEndOfCentralDirectory(src);
  const cd = await readRange(src, cdOffset, cdSize, 'zip.centralDirectory');
  const list: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  const check = (e: ZipDirectoryEntry): void => {
    checkRecord(e, cdOffset);
    if (byName.has(e.name)) fail(e.name, 'appears more than once in the archive');
    const entry: ZipEntry = { name: e.name, headerOffset: e.localHeaderOffset, dataOffset: 0, size: e.size, crc: e.crc };
    byName.set(e.name, entry);
    list.push(entry);
  };
  parseCentralDirectory(cd, count, fail, { maxNameBytes: FORMAT_LIMITS.maxEntryNameBytes, check });
  if (list[0].name !== MIMETYPE_ENTRY || list[0].headerOffset !== 0) fail('mimetype', 'expected as the first entry of the archive');
  list.sort((a, b) => a.headerOffset - b.headerOffset);
  let end = 0;
  let prev = '';
  for (const e of list) {
    if (e.headerOffset < end) fail(e.name, `overlaps entry ${prev}`);
    const nameLen = e.name.length;
    const h = await readRange(src, e.headerOffset, LOCAL_HEADER + nameLen, e.name);
    if (u32(h, 0) !== ZIP_LOCAL_SIG) fail(e.name, `no local header at offset ${e.headerOffset}`);
    if ((u16(h, 6) & ~ALLOWED_FLAGS) !== 0 || u16(h, 8) !== 0 || u32(h, 14) !== e.crc || u32(h, 18) !== e.size || u32(h, 22) !== e.size) {
      fail(e.name, 'local header disagrees with the central directory');
    }
    if (u16(h, 26) !== nameLen || asciiString(h.subarray(LOCAL_HEADER)) !== e.name) fail(e.name, 'local header names a different entry');
    e.dataOffset = e.headerOffset + LOCAL_HEADER + nameLen + u16(h, 28);
    end = e.dataOffset + e.size;
    if (end > cdOffset) fail(e.name, `data [${e.dataOffset}, ${end}) runs past the end of the entry data (${cdOffset})`);
    prev = e.name;
  }
  return byName;
}

async function readEntry(src: ByteSource, e: ZipEntry, field: string): Promise<Uint8Array> {
  const bytes = await readRange(src, e.dataOffset, e.size, field);
  const crc = crc32(bytes);
  if (crc !== e.crc) fail(field, `checksum 0x${crc.toString(16)} does not match the archive's 0x${e.crc.toString(16)} (file corrupted)`);
  return bytes;
}

/** Every entry must be one the header accounts for, with exactly the size it implies. */
function planEntries(header: AvatarHeader, entries: Map<string, ZipEntry>): void {
  const wanted = new Set<string>([MIMETYPE_ENTRY, HEADER_ENTRY]);
  for (const t of header.tensors) {
    const e = entries.get(t.entry);
    if (!e) fail(`tensors/${t.name}`, `entry ${t.entry} is missing from the archive`);
    const bytes = tensorByteLength(t.dtype, t.shape, `tensors/${t.name}`);
    if (e.size !== bytes) fail(`tensors/${t.name}`, `entry holds ${e.size} bytes, expected ${bytes} for ${t.dtype} ${formatShape(t.shape)}`);
    wanted.add(t.entry);
  }
  if (header.generator) {
    const e = entries.get(GENERATOR_ENTRY);
    if (!e) fail(GENERATOR_ENTRY, 'is missing from the archive but header.generator is set');
    if (e.size !== header.generator.bytes) fail(GENERATOR_ENTRY, `entry holds ${e.size} bytes, expected header.generator.bytes = ${header.generator.bytes}`);
    wanted.add(GENERATOR_ENTRY);
  }
  for (const name of entries.keys()) if (!wanted.has(name)) fail(name, 'is an entry the header does not declare');
}

/**
 * Reads and fully validates an .r2t avatar. Throws FormatError (AVATAR_FORMAT) naming the
 * field for any malformed input, R2TalkerError('ABORTED') when `signal` aborts.
 */
export async function readAvatar(input: ByteSource | Uint8Array | Blob, opts: ReadAvatarOptions = {}): Promise<Avatar> {
  const src = toByteSource(input);
  const { signal, onProgress } = opts;
  const keepFloat16 = opts.keepFloat16 ?? true;
  if (!Number.isSafeInteger(src.size) || src.size < 0) fail('file', `expected a non-negative byte size, got ${src.size}`);
  const total = src.size;
  let loaded = 0;
  const progress = (bytes: number) => {
    loaded = Math.min(total, loaded + bytes);
    onProgress?.(loaded, total);
  };
  checkAborted(signal);
  onProgress?.(0, total);
  await checkMagic(src);
  checkAborted(signal);
  const entries = await readDirectory(src);
  progress(MIMETYPE.length);

  const headerEntry = entries.get(HEADER_ENTRY);
  if (!headerEntry) fail(HEADER_ENTRY, 'is missing from the archive');
  if (headerEntry.size > FORMAT_LIMITS.maxHeaderBytes) fail(HEADER_ENTRY, `expected at most ${FORMAT_LIMITS.maxHeaderBytes} bytes, got ${headerEntry.size}`);
  checkAborted(signal);
  const header = parseHeader(await readEntry(src, headerEntry, HEADER_ENTRY));
  planEntries(header, entries);
  progress(headerEntry.size);

  const tensors = new Map<string, Tensor>();
  for (const t of header.tensors) {
    checkAborted(signal);
    const field = `tensors/${t.name}`;
    const bytes = await readEntry(src, entries.get(t.entry)!, field);
    const data = typedArrayFromBytes(t.dtype, bytes);
    checkTensorValues(t.name, t.dtype, data);
    const tensor: Tensor =
      t.dtype === 'float16' && !keepFloat16
        ? { name: t.name, dtype: 'float32', shape: t.shape, data: float16BitsToFloat32(data as Uint16Array) }
        : { name: t.name, dtype: t.dtype, shape: t.shape, data };
    tensors.set(t.name, tensor);
    progress(bytes.byteLength);
  }

  let generator: Uint8Array | null = null;
  if (header.generator) {
    checkAborted(signal);
    // slice(): an in-memory source returns a view of the whole file, which the avatar must not pin.
    generator = (await readEntry(src, entries.get(GENERATOR_ENTRY)!, GENERATOR_ENTRY)).slice();
    progress(generator.byteLength);
  }

  let landmarkStats: LandmarkStats | null = null;
  if (header.landmarkStats) {
    landmarkStats = {
      mean: tensors.get('landmark_mean')!.data as Float32Array,
      std: tensors.get('landmark_std')!.data as Float32Array,
      frames: header.landmarkStats.frames,
    };
  }
  checkAborted(signal);
  if (loaded < total) progress(total - loaded);
  return { name: header.name, config: header.config, camera: header.camera, tensors, landmarkStats, generator, provenance: header.provenance };
}
