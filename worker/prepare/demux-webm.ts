/**
 * WebM/Matroska demuxer for recordings: the first video and first audio track as encoded
 * samples for WebCodecs. Reads what MediaRecorder writes — a Segment and Clusters of unknown
 * size, no Duration, no Cues — by walking the Segment's body as one flat run of elements
 * (Cluster children and Segment children never share an ID), so an unknown size never has
 * to be resolved. A file that ends inside a block keeps every complete block before it.
 *
 * Why not an npm EBML library: `ebml`/`ebml-stream` are Node stream transforms, `ts-ebml`
 * needs Node's Buffer and events shimmed into the extension and the CLI's pages and builds an
 * object per element, `matroska` is GPL, `web-demuxer` is FFmpeg (LGPL) in wasm; the EBML
 * primitives already lived here (ebml.ts) for the encoder's own checks.
 */
import { FormatError } from '../errors.ts';
import { ascii, float, uint, vint } from './ebml.ts';
import { checkDemuxed, colorSpaceFromCodes, DEMUX_LIMITS, DemuxUnsupported, type AudioTrack, type DemuxedRecording, type EncodedSample, type VideoTrack } from './demux.ts';

const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  DefaultDuration: 0x23e383,
  ContentEncodings: 0x6d80,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Colour: 0x55b0,
  MatrixCoefficients: 0x55b1,
  Range: 0x55b9,
  TransferCharacteristics: 0x55ba,
  Primaries: 0x55bb,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  ReferenceBlock: 0xfb,
} as const;

const FIELD = 'webm';

interface TrackEntry {
  number: number;
  type: number;
  codecId: string;
  codecPrivate?: Uint8Array;
  defaultDurationNs: number;
  encoded: boolean;
  width: number;
  height: number;
  sampleRate: number;
  channels: number;
  /** Colour's code points (2 / 0: unspecified) */
  colour: { matrix: number; primaries: number; transfer: number; range: number };
}

interface Element {
  id: number;
  body: number;
  /** end of the body; the end of the file for an unknown size */
  end: number;
  unknown: boolean;
}

function header(b: Uint8Array, at: number): Element {
  const id = vint(b, at, true);
  const size = vint(b, at + id.length, false);
  const body = at + id.length + size.length;
  return { id: id.value, body, end: size.unknown ? b.length : body + size.value, unknown: size.unknown };
}

/** Children of a fully present element of known size. */
function* children(b: Uint8Array, start: number, end: number, what: string): Generator<Element> {
  let at = start;
  while (at < end) {
    const e = header(b, at);
    if (e.unknown || e.end > end) throw FormatError.input(FIELD, `${what}: element 0x${e.id.toString(16)} at byte ${at} runs past its parent (the file is cut off or corrupt)`);
    yield e;
    at = e.end;
  }
}

function readTrack(b: Uint8Array, el: Element): TrackEntry {
  const t: TrackEntry = { number: 0, type: 0, codecId: '', defaultDurationNs: 0, encoded: false, width: 0, height: 0, sampleRate: 0, channels: 1, colour: { matrix: 2, primaries: 2, transfer: 2, range: 0 } };
  for (const e of children(b, el.body, el.end, 'TrackEntry')) {
    const n = e.end - e.body;
    if (e.id === ID.TrackNumber) t.number = uint(b, e.body, n);
    else if (e.id === ID.TrackType) t.type = uint(b, e.body, n);
    else if (e.id === ID.CodecID) t.codecId = ascii(b, e.body, n);
    else if (e.id === ID.CodecPrivate) t.codecPrivate = b.slice(e.body, e.end);
    else if (e.id === ID.DefaultDuration) t.defaultDurationNs = uint(b, e.body, n);
    else if (e.id === ID.ContentEncodings) t.encoded = true;
    else if (e.id === ID.Video || e.id === ID.Audio) {
      for (const f of children(b, e.body, e.end, e.id === ID.Video ? 'Video' : 'Audio')) {
        const m = f.end - f.body;
        if (f.id === ID.PixelWidth) t.width = uint(b, f.body, m);
        else if (f.id === ID.PixelHeight) t.height = uint(b, f.body, m);
        else if (f.id === ID.SamplingFrequency) t.sampleRate = float(b, f.body, m);
        else if (f.id === ID.Channels) t.channels = uint(b, f.body, m);
        else if (f.id === ID.Colour) {
          for (const c of children(b, f.body, f.end, 'Colour')) {
            const v = uint(b, c.body, c.end - c.body);
            if (c.id === ID.MatrixCoefficients) t.colour.matrix = v;
            else if (c.id === ID.Primaries) t.colour.primaries = v;
            else if (c.id === ID.TransferCharacteristics) t.colour.transfer = v;
            else if (c.id === ID.Range) t.colour.range = v;
          }
        }
      }
    }
  }
  return t;
}

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');

/** The WebCodecs codec string of a Matroska video track (the VP9 profile read from its first key frame). */
function videoCodec(t: TrackEntry, firstKey: Uint8Array | undefined): string {
  switch (t.codecId) {
    case 'V_VP8':
      return 'vp8';
    case 'V_VP9': {
      // Uncompressed header: frame_marker (2 bits), profile_low_bit, profile_high_bit.
      const b0 = firstKey?.[0] ?? 0;
      const profile = ((b0 >> 5) & 1) | (((b0 >> 4) & 1) << 1);
      return `vp09.0${profile}.10.${profile >= 2 ? '10' : '08'}`;
    }
    case 'V_AV1': {
      // av1C: marker/version, then seq_profile(3) seq_level_idx_0(5), then seq_tier_0, high_bitdepth, twelve_bit.
      const c = t.codecPrivate;
      if (!c || c.length < 4) return 'av01.0.04M.08';
      const depth = c[2] & 0x40 ? (c[2] & 0x20 ? 12 : 10) : 8;
      return `av01.${c[1] >> 5}.${String(c[1] & 0x1f).padStart(2, '0')}${c[2] & 0x80 ? 'H' : 'M'}.${String(depth).padStart(2, '0')}`;
    }
    case 'V_MPEG4/ISO/AVC': {
      const c = t.codecPrivate;
      if (!c || c.length < 7) throw FormatError.input(FIELD, 'the H.264 track has no decoder configuration (CodecPrivate)');
      return `avc1.${hex2(c[1])}${hex2(c[2])}${hex2(c[3])}`;
    }
    default:
      throw new DemuxUnsupported(`video codec ${JSON.stringify(t.codecId)} is not read by the WebM demuxer`);
  }
}

function audioCodec(t: TrackEntry): string {
  if (t.codecId === 'A_OPUS') return 'opus';
  if (t.codecId === 'A_VORBIS') return 'vorbis';
  if (t.codecId.startsWith('A_AAC')) return 'mp4a.40.2';
  throw new DemuxUnsupported(`audio codec ${JSON.stringify(t.codecId)} is not read by the WebM demuxer`);
}

/** Durations from the next sample's presentation time; the last one from the track default or the median step. */
function fillDurations(samples: EncodedSample[], defaultUs: number): void {
  const order = samples.map((s) => s).sort((a, b) => a.timestampUs - b.timestampUs);
  const steps: number[] = [];
  for (let i = 0; i + 1 < order.length; i++) {
    order[i].durationUs = order[i + 1].timestampUs - order[i].timestampUs;
    steps.push(order[i].durationUs);
  }
  steps.sort((a, b) => a - b);
  if (order.length) order[order.length - 1].durationUs = defaultUs > 0 ? defaultUs : (steps[steps.length >> 1] ?? 40_000);
}

export function demuxWebm(b: Uint8Array): DemuxedRecording {
  // EBML header: the DocType says whether this is Matroska at all.
  const head = header(b, 0);
  if (head.id !== ID.EBML || head.unknown || head.end > b.length) throw FormatError.input(FIELD, 'the EBML header is cut off or corrupt');
  let docType = '';
  for (const e of children(b, head.body, head.end, 'EBML header')) if (e.id === ID.DocType) docType = ascii(b, e.body, e.end - e.body);
  if (docType !== 'webm' && docType !== 'matroska') throw new DemuxUnsupported(`EBML DocType ${JSON.stringify(docType)} is neither webm nor matroska`);

  let at = head.end;
  let segEnd = b.length;
  for (;;) {
    if (at >= b.length) throw FormatError.input(FIELD, 'no Segment: the file holds no media');
    const e = header(b, at);
    if (e.id === ID.Segment) {
      at = e.body;
      segEnd = Math.min(e.end, b.length);
      break;
    }
    if (e.unknown) throw FormatError.input(FIELD, `element 0x${e.id.toString(16)} of unknown size before the Segment`);
    at = e.end;
  }

  let scaleNs = 1_000_000;
  let tracks: TrackEntry[] | null = null;
  let video: TrackEntry | null = null;
  let audio: TrackEntry | null = null;
  const vSamples: EncodedSample[] = [];
  const aSamples: EncodedSample[] = [];
  let clusterTicks = 0;
  let truncated = false;

  const addBlock = (body: number, end: number, key: boolean | null): void => {
    if (!tracks) throw FormatError.input(FIELD, `a block at byte ${body} comes before the track list`);
    const tn = vint(b, body, false);
    if (end - body < tn.length + 3) throw FormatError.input(FIELD, `block at byte ${body}: expected at least ${tn.length + 3} bytes, got ${end - body}`);
    const track = tn.value === video?.number ? video : tn.value === audio?.number ? audio : null;
    if (!track) return;
    const rel = (((b[body + tn.length] << 24) >> 16) | b[body + tn.length + 1]);
    const flags = b[body + tn.length + 2];
    if (flags & 0x06) throw new DemuxUnsupported(`laced blocks (track ${tn.value}) are not read by the WebM demuxer`);
    const out = track === video ? vSamples : aSamples;
    if (vSamples.length + aSamples.length >= DEMUX_LIMITS.maxSamples) throw FormatError.input(FIELD, `expected at most ${DEMUX_LIMITS.maxSamples} frames and audio packets`);
    out.push({
      timestampUs: ((clusterTicks + rel) * scaleNs) / 1000,
      durationUs: 0,
      // A Block in a BlockGroup is a key frame unless it references another.
      key: key ?? (flags & 0x80) !== 0,
      data: b.subarray(body + tn.length + 3, end),
    });
  };

  // The Segment's body as one flat run: a Cluster is entered, not skipped, whatever its size says.
  while (at < segEnd) {
    let e: Element;
    try {
      e = header(b, at);
    } catch (err) {
      if (tracks) {
        truncated = true;
        break;
      }
      throw err;
    }
    const cut = e.end > b.length;
    if (e.id === ID.Cluster) {
      clusterTicks = 0;
      at = e.body;
      continue;
    }
    if (cut && (e.id === ID.SimpleBlock || e.id === ID.BlockGroup || tracks)) {
      truncated = true;
      break;
    }
    if (cut) throw FormatError.input(FIELD, `the file is cut off inside element 0x${e.id.toString(16)} at byte ${at}, before any frame`);
    if (e.unknown) throw FormatError.input(FIELD, `element 0x${e.id.toString(16)} at byte ${at} has an unknown size`);
    const n = e.end - e.body;
    if (e.id === ID.Info) {
      for (const f of children(b, e.body, e.end, 'Info')) if (f.id === ID.TimecodeScale) scaleNs = uint(b, f.body, f.end - f.body);
      if (!(scaleNs > 0)) throw FormatError.input(FIELD, `TimecodeScale must be positive, got ${scaleNs}`);
    } else if (e.id === ID.Tracks) {
      tracks = [...children(b, e.body, e.end, 'Tracks')].filter((t) => t.id === ID.TrackEntry).map((t) => readTrack(b, t));
      video = tracks.find((t) => t.type === 1) ?? null;
      audio = tracks.find((t) => t.type === 2) ?? null;
      if (!video) throw FormatError.input(FIELD, `no video track (tracks: ${tracks.map((t) => t.codecId || '?').join(', ') || 'none'})`);
      if (video.encoded || audio?.encoded) throw new DemuxUnsupported('compressed or encrypted tracks (ContentEncodings) are not read by the WebM demuxer');
    } else if (e.id === ID.Timestamp) {
      clusterTicks = uint(b, e.body, n);
    } else if (e.id === ID.SimpleBlock) {
      addBlock(e.body, e.end, null);
    } else if (e.id === ID.BlockGroup) {
      let block: Element | null = null;
      let referenced = false;
      for (const f of children(b, e.body, e.end, 'BlockGroup')) {
        if (f.id === ID.Block) block = f;
        else if (f.id === ID.ReferenceBlock) referenced = true;
      }
      if (block) addBlock(block.body, block.end, !referenced);
    }
    at = e.end;
  }
  if (!tracks || !video) throw FormatError.input(FIELD, 'no track list: the file holds no media (or is cut off before it)');

  fillDurations(vSamples, video.defaultDurationNs / 1000);
  const v: VideoTrack = {
    codec: videoCodec(video, vSamples.find((s) => s.key)?.data),
    containerCodec: video.codecId,
    width: video.width,
    height: video.height,
    description: video.codecId === 'V_MPEG4/ISO/AVC' ? video.codecPrivate : undefined,
    colorSpace: colorSpaceFromCodes(video.colour.matrix, video.colour.primaries, video.colour.transfer, video.colour.range),
    samples: vSamples,
  };
  let a: AudioTrack | null = null;
  if (audio && aSamples.length) {
    fillDurations(aSamples, audio.defaultDurationNs / 1000);
    if (!(audio.sampleRate >= 8000 && audio.sampleRate <= 192_000)) throw FormatError.input(FIELD, `audio sampling frequency must be 8000..192000 Hz, got ${audio.sampleRate}`);
    if (!(audio.channels >= 1 && audio.channels <= 8)) throw FormatError.input(FIELD, `audio channels must be 1..8, got ${audio.channels}`);
    a = { codec: audioCodec(audio), containerCodec: audio.codecId, sampleRate: audio.sampleRate, channels: audio.channels, description: audio.codecPrivate, samples: aSamples };
  }
  return checkDemuxed({ container: 'webm', video: v, audio: a, truncated }, FIELD);
}
