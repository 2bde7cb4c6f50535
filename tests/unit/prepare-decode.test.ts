/**
 * `prepare --video` decoding (issue 10) through the CLI's headless Chromium: our demuxer +
 * WebCodecs for VP8 and VP9 WebM (written by the project's own WebCodecs encoder, as
 * MediaRecorder writes them: RGB input, BT.709 full range declared in the WebM Colour element)
 * and H.264 + AAC MP4, each scored by PSNR against its source frames; and the fuzzed inputs
 * (truncated files, an unknown codec, zero frames, huge dimensions, a still image renamed
 * .webm, undecodable frame data) each end in their own specific error.
 *
 * The colour check: without the Colour element the decoder assumes limited range and these
 * pictures score ~28.5 dB (measured); with it ~46 dB, as Chromium's own <video> gives.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArrayBufferTarget, Muxer } from 'webm-muxer';
import { openVideoFile } from '../../cli/video/video-source.ts';
import { WebmEncoder } from '../../cli/video/webm-encoder.ts';
import { demuxWebm } from '../../worker/prepare/demux-webm.ts';

const W = 160;
const H = 120;
const N = 15;
/** decoder waits in the fuzz cases: a stuck decoder must fail, not hang */
const FUZZ_TIMEOUT_MS = 8000;

/** A moving, saturated test pattern: grey ramp, colour ramps, colour bars, a smooth field. */
function pattern(k: number): Uint8Array {
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      const t = x / (W - 1);
      const band = Math.floor((y * 4) / H);
      let rgb: number[];
      if (band === 0) rgb = [t * 255, t * 255, t * 255];
      else if (band === 1) rgb = [t * 255, 255 - t * 255, 128 + 60 * Math.sin(x / 12 + k / 4)];
      else if (band === 2) {
        const bar = Math.floor((x + 2 * k) / 20) & 7;
        rgb = [bar & 1 ? 220 : 30, bar & 2 ? 200 : 40, bar & 4 ? 210 : 50];
      } else rgb = [200 - t * 80, 150 + 40 * Math.sin(y / 6 + k / 3), 100 + t * 90];
      out.set(rgb.map(Math.round), i);
    }
  }
  return out;
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

async function encode(codec: 'vp8' | 'vp9'): Promise<Uint8Array> {
  const speech = Float32Array.from({ length: (48000 * N) / 25 }, (_, i) => 0.3 * Math.sin(i / 9));
  const enc = await WebmEncoder.open({ width: W, height: H, codec, audio: { channels: [speech], sampleRate: 48000 } });
  for (let k = 0; k < N; k++) {
    const rgb = pattern(k);
    const rgba = new Uint8Array(W * H * 4).fill(255);
    for (let p = 0; p < W * H; p++) rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
    await enc.addFrame(rgba);
  }
  return (await enc.finish()).bytes;
}

/** A WebM whose frames carry `payload` (not real VP8 unless the caller makes it so). */
function rawWebm(opts: { frames: number; codec?: string; width?: number; payload?: (i: number) => Uint8Array }): Uint8Array {
  const target = new ArrayBufferTarget();
  const muxer = new Muxer({ target, video: { codec: opts.codec ?? 'V_VP8', width: opts.width ?? 64, height: 48, frameRate: 25 }, firstTimestampBehavior: 'offset' });
  for (let i = 0; i < opts.frames; i++) muxer.addVideoChunkRaw(opts.payload?.(i) ?? new Uint8Array([0x90, i, 7, 7]), i === 0 ? 'key' : 'delta', i * 40_000);
  muxer.finalize();
  return new Uint8Array(target.buffer);
}

describe('prepare --video decodes through the demuxer and WebCodecs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'r2t-decode-'));
  const file = (name: string, bytes: Uint8Array): string => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };
  const clips: Record<'vp8' | 'vp9', string> = { vp8: '', vp9: '' };

  beforeAll(async () => {
    clips.vp8 = file('vp8.webm', await encode('vp8'));
    clips.vp9 = file('vp9.webm', await encode('vp9'));
  }, 120_000);

  for (const codec of ['vp8', 'vp9'] as const) {
    it(`${codec.toUpperCase()} + Opus WebM: every 25 fps slot within 38 dB of its source frame, colour range honoured`, async () => {
      const v = await openVideoFile(clips[codec]);
      try {
        expect(v.decoder).toMatchObject({ route: 'webcodecs', container: 'webm', videoCodec: codec === 'vp8' ? 'vp8' : 'vp09.00.10.08', audioCodec: 'opus', audioRoute: 'webcodecs' });
        expect(v.decoder.fallbackReason).toBeUndefined();
        expect(v.frames.count).toBe(N);
        const scores: number[] = [];
        for (let k = 0; k < N; k++) {
          const f = await v.frames.read(k);
          scores.push(psnr(f.rgb, pattern(k)));
          // The right frame, not a neighbour.
          if (k > 0) expect(scores[k]).toBeGreaterThan(psnr(f.rgb, pattern(k - 1)) + 3);
        }
        // Measured: 44-47 dB with the colour description, 28.5 dB without.
        expect(Math.min(...scores), scores.map((s) => s.toFixed(1)).join(' ')).toBeGreaterThan(38);
        expect(v.audio).not.toBeNull();
        expect(Math.abs(v.audio!.samples.length / v.audio!.sampleRate - N / 25)).toBeLessThan(0.05);
      } finally {
        await v.close();
      }
    }, 60_000);
  }

  it('H.264 + AAC MP4 (B-frames, 30 fps source): each slot within 35 dB of the source frame it shows', async () => {
    const mp4 = file('h264.mp4', new Uint8Array(readFileSync(new URL('../fixtures/prepare/h264-aac.mp4', import.meta.url))));
    const v = await openVideoFile(mp4);
    try {
      expect(v.decoder).toMatchObject({ route: 'webcodecs', container: 'mp4', audioCodec: 'mp4a.40.2', audioRoute: 'webcodecs' });
      expect(v.decoder.videoCodec).toMatch(/^avc1\./);
      expect(v.frames.count).toBe(25);
      for (let k = 0; k < 25; k++) {
        const f = await v.frames.read(k);
        // Source frame n (30 fps) is flat luma 16 + (37n mod 200), neutral chroma, limited range.
        const n = Math.floor(((k + 0.5) / 25) * 30);
        const grey = Math.round((((37 * n) % 200) * 255) / 219);
        expect(psnr(f.rgb, new Uint8Array(f.rgb.length).fill(grey)), `slot ${k}`).toBeGreaterThan(35);
      }
      expect(v.audio).not.toBeNull();
    } finally {
      await v.close();
    }
  }, 60_000);

  it('a file cut short keeps the frames before the cut and says so in the decoder report', async () => {
    const full = new Uint8Array(readFileSync(clips.vp9));
    // Cut inside frame 9's data: frames 0..8 remain.
    const at = demuxWebm(full).video.samples[9].data.byteOffset + 10;
    const v = await openVideoFile(file('cut.webm', full.subarray(0, at)));
    try {
      expect(v.decoder).toMatchObject({ route: 'webcodecs', truncated: true });
      expect(v.frames.count).toBe(9);
      const last = v.frames.count - 1;
      expect(psnr((await v.frames.read(last)).rgb, pattern(last))).toBeGreaterThan(38);
    } finally {
      await v.close();
    }
  }, 60_000);

  it('fuzzed inputs end in their own specific errors', async () => {
    const full = readFileSync(clips.vp9);
    const cases: [string, Uint8Array, RegExp][] = [
      ['head.webm', new Uint8Array(full.subarray(0, 120)), /head\.webm: webm: .*(cut off|no media|end of the file)/],
      ['theora.webm', rawWebm({ frames: 3, codec: 'V_THEORA' }), /theora\.webm: video codec "V_THEORA" is not read by the WebM demuxer, and the browser's <video> cannot play it either/],
      ['empty-track.webm', rawWebm({ frames: 0 }), /empty-track\.webm: webm: zero frames/],
      ['huge.webm', rawWebm({ frames: 2, width: 9000 }), /huge\.webm: webm: frames are 9000x48, over 4096x4096/],
    ];
    const jpeg = join(dir, 'photo.webm');
    copyFileSync(new URL('../fixtures/prepare/astronaut.jpg', import.meta.url), jpeg);
    for (const [name, bytes, expected] of cases) await expect(openVideoFile(file(name, bytes), FUZZ_TIMEOUT_MS), name).rejects.toThrow(expected);
    await expect(openVideoFile(jpeg, FUZZ_TIMEOUT_MS)).rejects.toThrow(/photo\.webm: a still image \(JPEG, PNG, GIF, WebP or BMP\), not a video recording/);
  }, 120_000);

  it('frame data the decoder rejects fails on the first picture, within the decoder timeout', async () => {
    const v = await openVideoFile(file('garbage.webm', rawWebm({ frames: 4, payload: (i) => Uint8Array.from({ length: 64 }, (_, j) => (i * 31 + j * 17) & 255) })), FUZZ_TIMEOUT_MS);
    try {
      expect(v.decoder.route).toBe('webcodecs');
      await expect(v.frames.read(0)).rejects.toThrow(/garbage\.webm frame 0: .*(decoder refuses frame 0|decoder failed|gave no picture|produced nothing within)/);
    } finally {
      await v.close();
    }
  }, 60_000);
});
