/**
 * The recording demuxers (issue 10): WebM written by webm-muxer in both its seekable layout
 * and its live layout (unknown sizes, as MediaRecorder writes), MP4 H.264 + AAC made by ffmpeg
 * (tests/fixtures/prepare/h264-aac.mp4, 1 s of 64x48 at 30 fps, frame N flat grey 16 + 37N mod 200), and the
 * fuzzed inputs: truncated files, unknown codecs, zero frames, huge sizes, a still image.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ArrayBufferTarget, Muxer } from 'webm-muxer';
import { DemuxUnsupported, sniffContainer } from '../../worker/prepare/demux.ts';
import { demuxMp4 } from '../../worker/prepare/demux-mp4.ts';
import { demuxWebm } from '../../worker/prepare/demux-webm.ts';

/** Frame i's payload names it, so the demuxed order and bytes can be checked. */
function webm(opts: { frames: number; streaming?: boolean; codec?: string; width?: number; audio?: boolean; colorSpace?: VideoColorSpaceInit }): Uint8Array {
  const target = new ArrayBufferTarget();
  const muxer = new Muxer({
    target,
    streaming: opts.streaming ?? false,
    video: { codec: opts.codec ?? 'V_VP8', width: opts.width ?? 64, height: 48, frameRate: 30 },
    audio: opts.audio === false ? undefined : { codec: 'A_OPUS', numberOfChannels: 1, sampleRate: 48000 },
    firstTimestampBehavior: 'offset',
  });
  for (let i = 0; i < opts.frames; i++) {
    const t = Math.round((i * 1e6) / 30);
    const meta = i === 0 && opts.colorSpace ? { decoderConfig: { codec: 'vp8', colorSpace: opts.colorSpace } } : undefined;
    muxer.addVideoChunkRaw(new Uint8Array([0x90, i & 255, i >> 8, 7, 7, 7]), i % 10 === 0 ? 'key' : 'delta', t, meta);
    if (opts.audio !== false) muxer.addAudioChunkRaw(new Uint8Array([0xfc, i & 255]), 'key', t);
  }
  muxer.finalize();
  return new Uint8Array(target.buffer);
}

describe('WebM demuxer', () => {
  for (const streaming of [false, true]) {
    it(`reads every frame in order with its time and key flag (${streaming ? 'live layout, unknown sizes' : 'seekable layout'})`, () => {
      const r = demuxWebm(webm({ frames: 45, streaming }));
      expect(r.container).toBe('webm');
      expect(r.truncated).toBe(false);
      expect(r.video).toMatchObject({ codec: 'vp8', width: 64, height: 48 });
      expect(r.video.samples.map((s) => s.data[1] | (s.data[2] << 8))).toEqual([...Array(45).keys()]);
      expect(r.video.samples.map((s) => s.key)).toEqual([...Array(45).keys()].map((i) => i % 10 === 0));
      // webm-muxer stores milliseconds.
      r.video.samples.forEach((s, i) => expect(Math.abs(s.timestampUs - (i * 1e6) / 30)).toBeLessThanOrEqual(1000));
      expect(r.audio).toMatchObject({ codec: 'opus', sampleRate: 48000, channels: 1 });
      expect(r.audio!.samples).toHaveLength(45);
    });
  }

  it('reads the Colour element for the decoder (what VideoEncoder declares for RGB input), and leaves unspecified values out', () => {
    for (const streaming of [false, true]) {
      const r = demuxWebm(webm({ frames: 3, streaming, colorSpace: { matrix: 'bt709', primaries: 'bt709', transfer: 'iec61966-2-1', fullRange: true } }));
      expect(r.video.colorSpace).toEqual({ matrix: 'bt709', primaries: 'bt709', transfer: 'iec61966-2-1', fullRange: true });
      const limited = demuxWebm(webm({ frames: 3, streaming, colorSpace: { matrix: 'smpte170m', primaries: 'bt470bg', transfer: 'smpte170m', fullRange: false } }));
      expect(limited.video.colorSpace).toEqual({ matrix: 'smpte170m', primaries: 'bt470bg', transfer: 'smpte170m', fullRange: false });
    }
    // webm-muxer's placeholder Colour: every value "unspecified".
    expect(demuxWebm(webm({ frames: 3 })).video.colorSpace).toBeUndefined();
  });

  it('names the VP9 profile from the first key frame', () => {
    expect(demuxWebm(webm({ frames: 3, codec: 'V_VP9' })).video.codec).toBe('vp09.02.10.10') // 0x90: marker 10, profile bits low 0 high 1;
  });

  it('keeps the complete frames of a file cut short, and says so', () => {
    const full = webm({ frames: 30, streaming: true });
    const r = demuxWebm(full.subarray(0, full.length - 60));
    expect(r.truncated).toBe(true);
    expect(r.video.samples.length).toBeGreaterThan(25);
    expect(r.video.samples.length).toBeLessThan(30);
  });

  it('refuses broken and unusable files with a specific message', () => {
    const full = webm({ frames: 30 });
    expect(() => demuxWebm(full.subarray(0, 30))).toThrow(/webm: .*(cut off|end of the file|no media)/);
    expect(() => demuxWebm(webm({ frames: 0 }))).toThrow(/zero frames/);
    expect(() => demuxWebm(webm({ frames: 2, codec: 'V_THEORA' }))).toThrow(DemuxUnsupported);
    expect(() => demuxWebm(webm({ frames: 2, width: 9000 }))).toThrow(/9000x48, over 4096x4096/);
  });

  it('ends within a bounded time on random corruption', () => {
    const full = webm({ frames: 60 });
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const t0 = performance.now();
    for (let k = 0; k < 300; k++) {
      const b = full.slice();
      for (let j = 0; j < 8; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        demuxWebm(b);
      } catch (e) {
        expect((e as Error).message.length).toBeGreaterThan(5);
      }
    }
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('MP4 demuxer (mp4box)', () => {
  const mp4 = new Uint8Array(readFileSync(new URL('../fixtures/prepare/h264-aac.mp4', import.meta.url)));

  it('reads H.264 frames and AAC packets with their decoder descriptions', () => {
    expect(sniffContainer(mp4)).toBe('mp4');
    const r = demuxMp4(mp4);
    expect(r.video.codec).toMatch(/^avc1\.[0-9a-f]{6}$/);
    expect(r.video).toMatchObject({ width: 64, height: 48 });
    expect(r.video.description![0]).toBe(1); // avcC configurationVersion
    expect(r.video.samples).toHaveLength(30);
    expect(r.video.samples[0].key).toBe(true);
    expect(r.video.samples.filter((s) => s.key).length).toBeGreaterThanOrEqual(2);
    // Presentation times after the edit list: 0, 1/30, ... in some decode order (B-frames).
    const pts = r.video.samples.map((s) => s.timestampUs).sort((a, b) => a - b);
    pts.forEach((t, i) => expect(Math.abs(t - (i * 1e6) / 30)).toBeLessThan(100));
    expect(r.audio).toMatchObject({ codec: "mp4a.40.2", sampleRate: 44100 });
    expect(r.audio!.description!.length).toBeGreaterThanOrEqual(2);
    expect(r.audio!.samples.length).toBeGreaterThan(40);
  });

  it('refuses a file cut before its movie header, and an image renamed .mp4/.webm', () => {
    expect(() => demuxMp4(mp4.subarray(0, 200))).toThrow(/mp4: /);
    const jpeg = new Uint8Array(readFileSync(new URL('../fixtures/prepare/astronaut.jpg', import.meta.url)));
    expect(sniffContainer(jpeg)).toBe('image');
  });
});
