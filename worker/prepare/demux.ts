/**
 * A recording's container opened into encoded samples for WebCodecs (issue 10): WebM
 * (MediaRecorder's VP8/VP9/AV1 + Opus) by demux-webm.ts, MP4/MOV (phones' H.264/HEVC + AAC) by
 * mp4box in demux-mp4.ts. Platform-free: runs in a page, a worker or Node.
 *
 * Two kinds of failure: `DemuxUnsupported` means "not a layout this demuxer reads" (another
 * container, laced audio, a rotated phone video): the caller may hand the file to the browser's
 * <video> element instead. Anything else (a FormatError) is a broken file with a specific message.
 */
import { FormatError } from '../errors.ts';

/** One encoded frame or audio packet, in decode order. */
export interface EncodedSample {
  /** presentation time in microseconds from the start of the media timeline */
  timestampUs: number;
  durationUs: number;
  key: boolean;
  data: Uint8Array;
}

export interface VideoTrack {
  /** WebCodecs codec string (e.g. "vp8", "vp09.00.10.08", "avc1.64001f") */
  codec: string;
  /** the container's own name for it (e.g. "V_VP9", "avc1"), for reports */
  containerCodec: string;
  width: number;
  height: number;
  description?: Uint8Array;
  /**
   * The container's colour description (WebM Colour, MP4 colr nclx), for VideoDecoderConfig.colorSpace.
   * It must reach the decoder: VP8 carries none in its bitstream, and VP9 streams remuxed by
   * webm-muxer keep a "limited range" bit while the container says full range (what Chromium's
   * VideoEncoder writes for RGB input), so decoding without it costs ~18 dB of PSNR.
   */
  colorSpace?: ColorSpaceInfo;
  samples: EncodedSample[];
}

/** VideoColorSpaceInit's fields, platform-free (the values WebCodecs names). */
export interface ColorSpaceInfo {
  matrix?: 'rgb' | 'bt709' | 'bt470bg' | 'smpte170m' | 'bt2020-ncl';
  primaries?: 'bt709' | 'bt470bg' | 'smpte170m' | 'bt2020' | 'smpte432';
  transfer?: 'bt709' | 'smpte170m' | 'iec61966-2-1' | 'linear' | 'pq' | 'hlg';
  fullRange?: boolean;
}

/**
 * ISO/IEC 23091-4 (H.273) code points, as both Matroska's Colour and MP4's colr nclx store
 * them, to WebCodecs names; code points WebCodecs has no name for (and "unspecified") are left
 * out, so the decoder keeps what the bitstream says for them. `range`: Matroska's 0 unspecified,
 * 1 limited, 2 full, 3 derived (MP4's full_range_flag maps to 1/2 by the caller).
 */
export function colorSpaceFromCodes(matrix: number, primaries: number, transfer: number, range: number): ColorSpaceInfo | undefined {
  const cs: ColorSpaceInfo = {};
  const m = ({ 0: 'rgb', 1: 'bt709', 5: 'bt470bg', 6: 'smpte170m', 9: 'bt2020-ncl' } as const)[matrix as 0];
  const p = ({ 1: 'bt709', 5: 'bt470bg', 6: 'smpte170m', 9: 'bt2020', 12: 'smpte432' } as const)[primaries as 1];
  const t = ({ 1: 'bt709', 6: 'smpte170m', 8: 'linear', 13: 'iec61966-2-1', 16: 'pq', 18: 'hlg' } as const)[transfer as 1];
  if (m) cs.matrix = m;
  if (p) cs.primaries = p;
  if (t) cs.transfer = t;
  if (range === 1 || range === 2) cs.fullRange = range === 2;
  return Object.keys(cs).length ? cs : undefined;
}

export interface AudioTrack {
  codec: string;
  containerCodec: string;
  sampleRate: number;
  channels: number;
  description?: Uint8Array;
  samples: EncodedSample[];
}

export interface DemuxedRecording {
  container: 'webm' | 'mp4';
  video: VideoTrack;
  audio: AudioTrack | null;
  /** Set when the file ends inside a frame (a recording cut short): what precedes it is kept. */
  truncated: boolean;
}

export class DemuxUnsupported extends Error {
  override readonly name = 'DemuxUnsupported';
}

/** Bounds on what a recording may hold: an hour of 240 fps video plus its audio packets. */
export const DEMUX_LIMITS = { maxSamples: 2_000_000, maxSide: 4096 } as const;

/** What the first bytes say the file is. */
export function sniffContainer(b: Uint8Array): 'webm' | 'mp4' | 'image' | 'unknown' {
  const at = (i: number, ...v: number[]) => v.every((x, k) => b[i + k] === x);
  if (at(0, 0x1a, 0x45, 0xdf, 0xa3)) return 'webm';
  if (b.length >= 12 && String.fromCharCode(...b.subarray(4, 8)).match(/^(ftyp|moov|mdat|free|wide|skip)$/)) return 'mp4';
  if (at(0, 0xff, 0xd8, 0xff) || at(0, 0x89, 0x50, 0x4e, 0x47) || at(0, 0x47, 0x49, 0x46, 0x38) || (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) || at(0, 0x42, 0x4d)) return 'image';
  return 'unknown';
}

/** Checks what every demuxer promises: a sized video track with at least one frame, a key frame first. */
export function checkDemuxed(r: DemuxedRecording, field: string): DemuxedRecording {
  const { video } = r;
  if (!(video.width > 0 && video.height > 0)) throw FormatError.input(field, `the video track has no picture size (${video.width}x${video.height})`);
  if (video.width > DEMUX_LIMITS.maxSide || video.height > DEMUX_LIMITS.maxSide) throw FormatError.input(field, `frames are ${video.width}x${video.height}, over ${DEMUX_LIMITS.maxSide}x${DEMUX_LIMITS.maxSide}`);
  if (video.samples.length === 0) throw FormatError.input(field, `zero frames: the video track holds no frame${r.truncated ? ' (the file is cut off)' : ''}`);
  if (!video.samples[0].key) throw FormatError.input(field, 'the first video frame is not a key frame: the recording cannot be decoded from its start');
  return r;
}
