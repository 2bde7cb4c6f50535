/**
 * A small WebM (EBML/Matroska) reader for checking what the encoder wrote: tracks, the
 * segment duration and every block's track, time and key flag. Reads only the elements it
 * needs; sizes are checked against the bytes present, nesting depth and block count bounded.
 */
import { FormatError } from '../../worker/errors.ts';
import { ascii, float, uint, vint } from '../../worker/prepare/ebml.ts';

export interface WebmTrack {
  number: number;
  /** 1 video, 2 audio */
  type: number;
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** CodecDelay in ns (Opus pre-skip), 0 when absent */
  codecDelayNs: number;
  codecPrivate?: Uint8Array;
}

export interface WebmBlock {
  track: number;
  /** presentation time in ms (cluster time + block offset, scaled by TimecodeScale) */
  timeMs: number;
  key: boolean;
  size: number;
}

export interface WebmInfo {
  docType: string;
  timecodeScaleNs: number;
  /** Segment Info Duration in ms, or null when the muxer wrote none */
  durationMs: number | null;
  /** where the Duration float sits (byte offset, 4 or 8 bytes), for patchDuration */
  durationField: { offset: number; size: number } | null;
  tracks: WebmTrack[];
  blocks: WebmBlock[];
}

const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  Duration: 0x4489,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  CodecDelay: 0x56aa,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
} as const;

const CONTAINERS = new Set<number>([ID.Segment, ID.Info, ID.Tracks, ID.TrackEntry, ID.Video, ID.Audio, ID.Cluster, ID.BlockGroup]);
const MAX_DEPTH = 8;
const MAX_BLOCKS = 10_000_000;

/** Parses a WebM file written by webm-encoder (or any plain WebM without lacing). */
export function inspectWebm(bytes: Uint8Array): WebmInfo {
  const info: WebmInfo = { docType: '', timecodeScaleNs: 1_000_000, durationMs: null, durationField: null, tracks: [], blocks: [] };
  let durationTicks: number | null = null;
  let track: WebmTrack | null = null;
  let clusterTime = 0;

  const walk = (start: number, end: number, depth: number): void => {
    if (depth > MAX_DEPTH) throw FormatError.input('webm', `expected at most ${MAX_DEPTH} nested elements`);
    let at = start;
    while (at < end) {
      const id = vint(bytes, at, true);
      const size = vint(bytes, at + id.length, false);
      const body = at + id.length + size.length;
      const stop = size.unknown ? end : body + size.value;
      if (stop > end) throw FormatError.input('webm', `element 0x${id.value.toString(16)} at byte ${at}: expected ${size.value} bytes, got ${end - body}`);
      const n = stop - body;
      switch (id.value) {
        case ID.EBML:
          walk(body, stop, depth + 1);
          break;
        case ID.DocType:
          info.docType = ascii(bytes, body, n);
          break;
        case ID.TimecodeScale:
          info.timecodeScaleNs = uint(bytes, body, n);
          break;
        case ID.Duration:
          durationTicks = float(bytes, body, n);
          info.durationField = { offset: body, size: n };
          break;
        case ID.TrackEntry:
          track = { number: 0, type: 0, codec: '', codecDelayNs: 0 };
          walk(body, stop, depth + 1);
          info.tracks.push(track);
          track = null;
          break;
        case ID.Cluster:
          clusterTime = 0;
          walk(body, stop, depth + 1);
          break;
        case ID.Timestamp:
          clusterTime = uint(bytes, body, n);
          break;
        case ID.SimpleBlock:
        case ID.Block:
          block(body, n, id.value === ID.SimpleBlock);
          break;
        default:
          if (track) trackField(track, id.value, body, n);
          if (CONTAINERS.has(id.value)) walk(body, stop, depth + 1);
      }
      at = stop;
    }
  };

  const trackField = (t: WebmTrack, id: number, body: number, n: number): void => {
    if (id === ID.TrackNumber) t.number = uint(bytes, body, n);
    else if (id === ID.TrackType) t.type = uint(bytes, body, n);
    else if (id === ID.CodecID) t.codec = ascii(bytes, body, n);
    else if (id === ID.CodecPrivate) t.codecPrivate = bytes.slice(body, body + n);
    else if (id === ID.CodecDelay) t.codecDelayNs = uint(bytes, body, n);
    else if (id === ID.PixelWidth) t.width = uint(bytes, body, n);
    else if (id === ID.PixelHeight) t.height = uint(bytes, body, n);
    else if (id === ID.SamplingFrequency) t.sampleRate = float(bytes, body, n);
    else if (id === ID.Channels) t.channels = uint(bytes, body, n);
  };

  const block = (body: number, n: number, simple: boolean): void => {
    if (info.blocks.length >= MAX_BLOCKS) throw FormatError.input('webm', `expected at most ${MAX_BLOCKS} blocks`);
    const tn = vint(bytes, body, false);
    if (n < tn.length + 3) throw FormatError.input('webm', `block at byte ${body}: expected at least ${tn.length + 3} bytes, got ${n}`);
    const rel = (bytes[body + tn.length] << 24) >> 16 | bytes[body + tn.length + 1];
    const flags = bytes[body + tn.length + 2];
    if (flags & 0x06) throw FormatError.input('webm', `block at byte ${body}: laced blocks are not supported`);
    const ticks = clusterTime + rel;
    info.blocks.push({ track: tn.value, timeMs: (ticks * info.timecodeScaleNs) / 1e6, key: simple && (flags & 0x80) !== 0, size: n - tn.length - 3 });
  };

  walk(0, bytes.length, 0);
  if (info.docType !== 'webm') throw FormatError.expected('INPUT_FORMAT', 'webm.DocType', '"webm"', JSON.stringify(info.docType));
  if (durationTicks !== null) info.durationMs = (durationTicks * info.timecodeScaleNs) / 1e6;
  return info;
}

/**
 * Rewrites the segment Duration in place. webm-muxer records the last block's start, which
 * leaves the last video frame (40 ms) outside the file's declared length.
 */
export function patchDuration(bytes: Uint8Array, durationMs: number): void {
  if (!Number.isFinite(durationMs) || durationMs < 0) throw FormatError.input('webm.Duration', `expected a finite duration >= 0 ms, got ${durationMs}`);
  const info = inspectWebm(bytes);
  if (!info.durationField) throw FormatError.input('webm.Duration', 'expected a Duration element, got none');
  const { offset, size } = info.durationField;
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
  const ticks = (durationMs * 1e6) / info.timecodeScaleNs;
  if (size === 8) view.setFloat64(0, ticks);
  else view.setFloat32(0, ticks);
}
