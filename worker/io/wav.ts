/**
 * RIFF/WAVE reader and a PCM16 writer, platform-free.
 *
 * Supported: PCM 16/24-bit integer and IEEE float32, 1 or 2 channels, plain `fmt ` or
 * WAVE_FORMAT_EXTENSIBLE with the PCM / float sub-formats. Every size the file declares is
 * checked against the bytes present before anything is allocated.
 */
import { FormatError } from '../errors.ts';

export interface WavAudio {
  sampleRate: number;
  /** Channel count of the file (1 or 2). */
  channels: number;
  /** Mono mix-down (mean of the channels), in [-1, 1] for integer formats. */
  samples: Float32Array;
  /** Per-channel samples (the mono case holds `samples` itself). */
  channelData: Float32Array[];
}

export const WAV_LIMITS = {
  minSampleRate: 4000,
  maxSampleRate: 384_000,
  maxChannels: 2,
  /** 2 hours at 48 kHz per channel. */
  maxFrames: 2 * 3600 * 48_000,
  maxChunks: 1024,
} as const;

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

interface Fmt {
  format: number;
  channels: number;
  sampleRate: number;
  bits: number;
  blockAlign: number;
}

function parseFmt(view: DataView, at: number, size: number): Fmt {
  if (size < 16) throw FormatError.expected('INPUT_FORMAT', 'wav.fmt', 'a chunk of at least 16 bytes', `${size} bytes`);
  let format = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (format === FORMAT_EXTENSIBLE) {
    if (size < 40) throw FormatError.expected('INPUT_FORMAT', 'wav.fmt', 'a 40-byte WAVE_FORMAT_EXTENSIBLE chunk', `${size} bytes`);
    // The sub-format GUID starts with the plain format code.
    format = view.getUint16(at + 24, true);
  }
  if (format !== FORMAT_PCM && format !== FORMAT_FLOAT) {
    throw FormatError.expected('INPUT_FORMAT', 'wav.fmt.format', 'PCM (1) or IEEE float (3)', String(format));
  }
  if (channels < 1 || channels > WAV_LIMITS.maxChannels) {
    throw FormatError.expected('INPUT_FORMAT', 'wav.fmt.channels', `1..${WAV_LIMITS.maxChannels}`, String(channels));
  }
  if (sampleRate < WAV_LIMITS.minSampleRate || sampleRate > WAV_LIMITS.maxSampleRate) {
    throw FormatError.expected('INPUT_FORMAT', 'wav.fmt.sampleRate', `${WAV_LIMITS.minSampleRate}..${WAV_LIMITS.maxSampleRate} Hz`, String(sampleRate));
  }
  const okBits = format === FORMAT_PCM ? bits === 16 || bits === 24 : bits === 32;
  if (!okBits) {
    throw FormatError.expected('INPUT_FORMAT', 'wav.fmt.bitsPerSample', format === FORMAT_PCM ? '16 or 24 for PCM' : '32 for float', String(bits));
  }
  if (blockAlign !== (channels * bits) / 8) {
    throw FormatError.expected('INPUT_FORMAT', 'wav.fmt.blockAlign', String((channels * bits) / 8), String(blockAlign));
  }
  return { format, channels, sampleRate, bits, blockAlign };
}

/** Parses a WAV file. Throws FormatError (INPUT_FORMAT) naming the field at fault. */
export function readWav(bytes: Uint8Array): WavAudio {
  if (!(bytes instanceof Uint8Array)) throw FormatError.input('wav', 'expected a Uint8Array');
  if (bytes.length < 12) throw FormatError.expected('INPUT_FORMAT', 'wav', 'at least 12 bytes', `${bytes.length} bytes`);
  if (fourcc(bytes, 0) !== 'RIFF') throw FormatError.expected('INPUT_FORMAT', 'wav.riff', '"RIFF"', JSON.stringify(fourcc(bytes, 0)));
  if (fourcc(bytes, 8) !== 'WAVE') throw FormatError.expected('INPUT_FORMAT', 'wav.wave', '"WAVE"', JSON.stringify(fourcc(bytes, 8)));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: Fmt | null = null;
  let dataAt = -1;
  let dataSize = 0;
  let at = 12;
  for (let n = 0; at + 8 <= bytes.length; n++) {
    if (n >= WAV_LIMITS.maxChunks) throw FormatError.expected('INPUT_FORMAT', 'wav.chunks', `at most ${WAV_LIMITS.maxChunks} chunks`, 'more');
    const id = fourcc(bytes, at);
    let size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'data') {
      const left = bytes.length - body;
      // Streaming writers (and espeak-ng to stdout) leave the size at a sentinel: read to the end.
      if (size > left) {
        if (size < 0x7fff0000) throw FormatError.expected('INPUT_FORMAT', 'wav.data', `${size} bytes of samples`, `${left} (truncated file)`);
        size = left;
      }
      dataAt = body;
      dataSize = size;
      if (fmt) break;
    } else if (id === 'fmt ') {
      if (size > bytes.length - body) throw FormatError.expected('INPUT_FORMAT', 'wav.fmt', `${size} bytes`, `${bytes.length - body} (truncated file)`);
      fmt = parseFmt(view, body, size);
      if (dataAt >= 0) break;
    }
    at = body + size + (size & 1);
  }
  if (!fmt) throw FormatError.input('wav.fmt', 'missing "fmt " chunk');
  if (dataAt < 0) throw FormatError.input('wav.data', 'missing "data" chunk');
  const frames = Math.floor(dataSize / fmt.blockAlign);
  if (frames > WAV_LIMITS.maxFrames) throw FormatError.expected('INPUT_FORMAT', 'wav.data', `at most ${WAV_LIMITS.maxFrames} frames`, String(frames));
  const channelData: Float32Array[] = [];
  for (let c = 0; c < fmt.channels; c++) channelData.push(new Float32Array(frames));
  const bps = fmt.bits / 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < fmt.channels; c++) {
      const p = dataAt + i * fmt.blockAlign + c * bps;
      let v: number;
      if (fmt.format === FORMAT_FLOAT) {
        v = view.getFloat32(p, true);
        if (!Number.isFinite(v)) throw FormatError.expected('INPUT_FORMAT', 'wav.data', 'finite float samples', `${v} at frame ${i}`);
      } else if (fmt.bits === 16) {
        v = view.getInt16(p, true) / 32768;
      } else {
        const u = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16);
        v = ((u << 8) >> 8) / 8388608;
      }
      channelData[c][i] = v;
    }
  }
  let samples = channelData[0];
  if (fmt.channels === 2) {
    samples = new Float32Array(frames);
    const l = channelData[0];
    const r = channelData[1];
    for (let i = 0; i < frames; i++) samples[i] = 0.5 * (l[i] + r[i]);
  }
  return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples, channelData };
}

/** Encodes one or two channels as PCM16, PCM24 (both clipped to [-1, 1]) or float32. */
export function writeWav(channels: Float32Array[], sampleRate: number, format: 'pcm16' | 'pcm24' | 'float32' = 'pcm16'): Uint8Array {
  if (channels.length < 1 || channels.length > WAV_LIMITS.maxChannels) throw FormatError.expected('INPUT_FORMAT', 'wav.channels', `1..${WAV_LIMITS.maxChannels}`, String(channels.length));
  const frames = channels[0].length;
  for (const ch of channels) if (ch.length !== frames) throw FormatError.input('wav.channels', 'channels differ in length');
  const bits = format === 'pcm16' ? 16 : format === 'pcm24' ? 24 : 32;
  const blockAlign = (channels.length * bits) / 8;
  const dataSize = frames * blockAlign;
  const out = new Uint8Array(44 + dataSize + (dataSize & 1));
  const v = new DataView(out.buffer);
  const put = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  put(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, format === 'float32' ? FORMAT_FLOAT : FORMAT_PCM, true);
  v.setUint16(22, channels.length, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, bits, true);
  put(36, 'data');
  v.setUint32(40, dataSize, true);
  let p = 44;
  for (let i = 0; i < frames; i++) {
    for (const ch of channels) {
      const s = Math.max(-1, Math.min(1, ch[i]));
      if (format === 'float32') {
        v.setFloat32(p, ch[i], true);
      } else if (format === 'pcm16') {
        v.setInt16(p, Math.round(s * 32767), true);
      } else {
        const q = Math.round(s * 8388607);
        out[p] = q & 0xff;
        out[p + 1] = (q >> 8) & 0xff;
        out[p + 2] = (q >> 16) & 0xff;
      }
      p += bits / 8;
    }
  }
  return out;
}
