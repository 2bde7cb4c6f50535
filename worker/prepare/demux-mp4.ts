/**
 * MP4/MOV demuxer for recordings (phones: H.264 or HEVC + AAC; Chromium's MediaRecorder: H.264
 * + Opus) on mp4box (GPAC's MP4Box.js, BSD-3-Clause): the first video and audio track as
 * encoded samples with their WebCodecs decoder descriptions (avcC, hvcC, vpcC, esds).
 * Presentation times honour the track's edit list, as a <video> element does.
 */
import { createFile, DataStream, Endianness, Log, MP4BoxBuffer, type ISOFile, type Sample } from 'mp4box';
import { FormatError } from '../errors.ts';
import { checkDemuxed, colorSpaceFromCodes, DEMUX_LIMITS, DemuxUnsupported, type AudioTrack, type DemuxedRecording, type EncodedSample } from './demux.ts';
import { copyBytes } from '../util/bytes.ts';

const FIELD = 'mp4';
type Trak = ReturnType<ISOFile['getTrackById']>;
type Box = { write(s: DataStream): void };

/** A configuration box serialised without its 8-byte header: what WebCodecs calls the description. */
function boxBody(box: Box): Uint8Array {
  const s = new DataStream(undefined, 0, Endianness.BIG_ENDIAN);
  box.write(s);
  return new Uint8Array(s.buffer as ArrayBuffer, 8, s.byteLength - 8).slice();
}

function sampleEntry(trak: Trak): Record<string, unknown> {
  const entry = trak.mdia?.minf?.stbl?.stsd?.entries?.[0] as unknown as Record<string, unknown> | undefined;
  if (!entry) throw FormatError.input(FIELD, `track ${trak.tkhd?.track_id}: no sample description`);
  return entry;
}

function videoDescription(trak: Trak): Uint8Array | undefined {
  const e = sampleEntry(trak);
  for (const k of ['avcC', 'hvcC', 'vpcC', 'av1C']) if (e[k]) return boxBody(e[k] as Box);
  return undefined;
}

/** The sample entry's colr box (nclx: code points and range; an ICC profile says nothing WebCodecs takes). */
function videoColour(trak: Trak) {
  const e = sampleEntry(trak);
  type Colr = { colour_type: string; colour_primaries: number; transfer_characteristics: number; matrix_coefficients: number; full_range_flag: number };
  const colrs = (e.colrs as Colr[] | undefined) ?? (e.colr ? [e.colr as Colr] : []);
  const c = colrs.find((x) => x.colour_type === 'nclx');
  return c ? colorSpaceFromCodes(c.matrix_coefficients, c.colour_primaries, c.transfer_characteristics, c.full_range_flag ? 2 : 1) : undefined;
}

/** AAC's AudioSpecificConfig: esds > DecoderConfigDescriptor (tag 4) > DecoderSpecificInfo (tag 5). */
function audioDescription(trak: Trak): Uint8Array | undefined {
  const esd = (sampleEntry(trak).esds as { esd?: { findDescriptor(tag: number): { findDescriptor(tag: number): { data?: Uint8Array } | undefined } | undefined } } | undefined)?.esd;
  const data = esd?.findDescriptor(4)?.findDescriptor(5)?.data;
  return data ? data.slice() : undefined;
}

/** Media time (in the track's timescale) where presentation starts, from the first non-empty edit. */
function editStart(trak: Trak): number {
  const entries = trak.edts?.elst?.entries ?? [];
  const edit = entries.find((e) => e.media_time >= 0);
  return edit ? edit.media_time : 0;
}

/** The rotation a phone stores in the track matrix, in degrees (0 for a plain recording). */
function rotation(m: ArrayLike<number>): number {
  const a = m[0] | 0;
  const b = m[1] | 0;
  return ((Math.round((Math.atan2(b, a) * 180) / Math.PI) % 360) + 360) % 360;
}

function samplesOf(bytes: Uint8Array, trak: Trak, onCut: () => void): EncodedSample[] {
  const list: Sample[] = trak.samples ?? [];
  if (list.length > DEMUX_LIMITS.maxSamples) throw FormatError.input(FIELD, `expected at most ${DEMUX_LIMITS.maxSamples} samples in a track, got ${list.length}`);
  const shift = editStart(trak);
  const out: EncodedSample[] = [];
  for (const s of list) {
    if (!(s.timescale > 0)) throw FormatError.input(FIELD, `track ${trak.tkhd.track_id}: timescale must be positive, got ${s.timescale}`);
    if (s.offset + s.size > bytes.length) {
      // The file ends inside the sample data: keep what precedes the cut.
      onCut();
      break;
    }
    out.push({
      timestampUs: ((s.cts - shift) * 1e6) / s.timescale,
      durationUs: (s.duration * 1e6) / s.timescale,
      key: s.is_sync,
      data: bytes.subarray(s.offset, s.offset + s.size),
    });
  }
  return out;
}

export function demuxMp4(bytes: Uint8Array): DemuxedRecording {
  Log.setLogLevel(Log.error);
  const file = createFile();
  let error = '';
  file.onError = (module: string, message: string) => {
    error ||= `${module}: ${message}`;
  };
  const buffer = MP4BoxBuffer.fromArrayBuffer(copyBytes(bytes), 0);
  try {
    file.appendBuffer(buffer, true);
    file.flush();
  } catch (e) {
    throw FormatError.input(FIELD, `corrupt box structure (${(e as Error).message})`, e);
  }
  if (error) throw FormatError.input(FIELD, `corrupt file (${error})`);
  const info = file.getInfo();
  if (!info?.hasMoov) throw FormatError.input(FIELD, 'no movie header (moov): the file is cut off (a phone writes it last) or is not a video');
  const vInfo = info.videoTracks[0];
  if (!vInfo) throw FormatError.input(FIELD, `no video track (tracks: ${info.tracks.map((t) => t.codec).join(', ') || 'none'})`);
  const rot = rotation(vInfo.matrix);
  if (rot !== 0) throw new DemuxUnsupported(`the video is stored rotated by ${rot} degrees`);
  let truncated = false;
  const cut = (): void => {
    truncated = true;
  };
  const vTrak = file.getTrackById(vInfo.id);
  const entry = sampleEntry(vTrak);
  const width = (entry.width as number) || vInfo.video?.width || 0;
  const height = (entry.height as number) || vInfo.video?.height || 0;
  const codec = vInfo.codec;
  if (!/^(avc[13]|hev1|hvc1|vp08|vp09|av01)/.test(codec)) throw new DemuxUnsupported(`video codec ${JSON.stringify(codec)} is not read by the MP4 demuxer`);
  const video = { codec, containerCodec: codec.split('.')[0], width, height, description: videoDescription(vTrak), colorSpace: videoColour(vTrak), samples: samplesOf(bytes, vTrak, cut) };

  let audio: AudioTrack | null = null;
  const aInfo = info.audioTracks[0];
  if (aInfo) {
    const aTrak = file.getTrackById(aInfo.id);
    const samples = samplesOf(bytes, aTrak, cut);
    const acodec = aInfo.codec === 'mp4a' ? 'mp4a.40.2' : aInfo.codec;
    if (!/^(mp4a\.40\.(2|5|29)|opus|Opus|flac|fLaC)$/.test(acodec)) throw new DemuxUnsupported(`audio codec ${JSON.stringify(aInfo.codec)} is not read by the MP4 demuxer`);
    const sampleRate = aInfo.audio?.sample_rate ?? 0;
    const channels = aInfo.audio?.channel_count ?? 0;
    if (!(sampleRate >= 8000 && sampleRate <= 192_000)) throw FormatError.input(FIELD, `audio sample rate must be 8000..192000 Hz, got ${sampleRate}`);
    if (!(channels >= 1 && channels <= 8)) throw FormatError.input(FIELD, `audio channels must be 1..8, got ${channels}`);
    if (samples.length) {
      audio = {
        codec: acodec.toLowerCase() === 'opus' ? 'opus' : acodec.toLowerCase() === 'flac' ? 'flac' : acodec,
        containerCodec: aInfo.codec.split('.')[0],
        sampleRate,
        channels,
        description: acodec.startsWith('mp4a') ? audioDescription(aTrak) : undefined,
        samples,
      };
    }
  }
  return checkDemuxed({ container: 'mp4', video, audio, truncated }, FIELD);
}
