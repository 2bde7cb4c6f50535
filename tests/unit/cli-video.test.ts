/**
 * `r2talker render --audio`: speech in, a WebM talking head out — checked by parsing the file
 * and by playing it back in headless Chromium against the PNG frames of the same track.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoPoses, makeDemoAvatar } from '../../worker/avatar/synthetic.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { readWav } from '../../worker/io/wav.ts';
import { resample } from '../../worker/audio/resample.ts';
import { createGenerator } from '../../worker/landmarks/model.ts';
import { generatorToOnnx } from '../../worker/landmarks/onnx-export.ts';
import { scaleAvatar } from '../../cli/render-track.ts';
import { chromiumPath } from '../../cli/video/chromium.ts';
import { decodeWebmAudio, playWebm, type Playback } from '../../cli/video/playback.ts';
import { inspectWebm, type WebmInfo } from '../../cli/video/webm-inspect.ts';
import { DEFAULT_GENERATOR_PATH } from '../../cli/commands/landmarks.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SIZE = 32;

function r2talker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/r2talker.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const hasEspeak = spawnSync('espeak-ng', ['--version']).status === 0;
const missing = !hasEspeak ? 'espeak-ng' : !existsSync(chromiumPath()) ? 'chromium' : null;

/** Mean absolute RGB difference between a decoded RGBA picture and a PNG frame. */
function mad(rgba: Uint8ClampedArray, rgb: Uint8Array): number {
  const n = rgb.length / 3;
  let s = 0;
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) s += Math.abs(rgba[4 * i + k] - rgb[3 * i + k]);
  return s / (3 * n);
}

describe.skipIf(missing !== null)('r2talker render --audio (WebM with speech)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'r2t-video-'));
  const avatarFile = join(dir, 'small.r2t');
  const wavFile = join(dir, 'speech.wav');
  const webm = join(dir, 'clip.webm');
  let render: ReturnType<typeof r2talker>;
  let landmarkFrames = 0;
  let audioMs = 0;
  let info: WebmInfo;

  beforeAll(() => {
    // The demo head at 64x64, its poses sped up so neighbouring frames differ visibly (the
    // alignment check below needs that), with a tiny embedded generator.
    const a = scaleAvatar(makeDemoAvatar(), 64, 64);
    const poses = demoPoses(8);
    a.tensors.set('poses', { name: 'poses', dtype: 'float32', shape: [8, 4, 4], data: poses });
    a.generator = generatorToOnnx(createGenerator({ channels: 8, lookAhead: 2 }, 7));
    writeFileSync(avatarFile, writeAvatar(a, { weightDtype: 'float16' }));
    a.generator = null;
    writeFileSync(join(dir, 'nogen.r2t'), writeAvatar(a, { weightDtype: 'float16' }));
    expect(spawnSync('espeak-ng', ['-w', wavFile, 'Hello, how are you today?']).status).toBe(0);
    const wav = readWav(new Uint8Array(readFileSync(wavFile)));
    audioMs = (wav.samples.length * 1000) / wav.sampleRate;

    const lm = r2talker(['landmarks', '--avatar', avatarFile, '--audio', wavFile, '--out', join(dir, 'lm.npy')]);
    expect(lm.stderr).toBe('');
    landmarkFrames = readNpy(new Uint8Array(readFileSync(join(dir, 'lm.npy')))).shape[0];
    render = r2talker(['render', '--avatar', avatarFile, '--audio', wavFile, '--out', webm, '--size', `${SIZE}x${SIZE}`]);
    if (render.code === 0) info = inspectWebm(new Uint8Array(readFileSync(webm)));
  }, 240_000);

  it('writes a WebM and reports the frames, the size and the generator it used', () => {
    expect(render.stderr).toBe('');
    expect(render.code).toBe(0);
    expect(render.stdout).toMatch(new RegExp(`rendered ${landmarkFrames} frames \\(${SIZE}x${SIZE}, .* from the avatar generator\\)`));
    expect(landmarkFrames).toBeGreaterThan(25);
  });

  it('holds a VP9 video track of the --size and a 48 kHz Opus track', () => {
    const video = info.tracks.find((t) => t.type === 1)!;
    const audio = info.tracks.find((t) => t.type === 2)!;
    expect(info.tracks).toHaveLength(2);
    expect([video.codec, video.width, video.height]).toEqual(['V_VP9', SIZE, SIZE]);
    expect([audio.codec, audio.sampleRate, audio.channels]).toEqual(['A_OPUS', 48_000, 1]);
    // OpusHead identification header as CodecPrivate
    expect(new TextDecoder().decode(audio.codecPrivate!.subarray(0, 8))).toBe('OpusHead');
  });

  it('has one video block per landmark frame, frame t at t*40 ms, starting with a key frame', () => {
    const video = info.tracks.find((t) => t.type === 1)!;
    const blocks = info.blocks.filter((b) => b.track === video.number);
    expect(blocks.length).toBe(landmarkFrames);
    expect(blocks.map((b) => b.timeMs)).toEqual(blocks.map((_, t) => t * 40));
    expect(blocks[0].key).toBe(true);
  });

  it('declares the video length as its duration and carries audio from 0 to the end of the speech', () => {
    expect(info.durationMs).toBe(landmarkFrames * 40);
    expect(Math.abs(info.durationMs! - audioMs)).toBeLessThan(60);
    const audio = info.tracks.find((t) => t.type === 2)!;
    const times = info.blocks.filter((b) => b.track === audio.number).map((b) => b.timeMs);
    expect(times[0]).toBe(0);
    // 20 ms Opus packets back to back up to the end of the speech
    expect(times.at(-1)! + 20).toBeGreaterThanOrEqual(audioMs - 20);
    expect(times.at(-1)!).toBeLessThanOrEqual(landmarkFrames * 40);
    // (the muxer floors microseconds to whole milliseconds)
    for (let i = 1; i < times.length; i++) expect(Math.abs(times[i] - times[i - 1] - 20)).toBeLessThanOrEqual(1);
  });

  describe('played back in Chromium', () => {
    let play: Playback;
    let refs: Uint8Array[];

    beforeAll(async () => {
      const png = r2talker(['render', '--avatar', avatarFile, '--landmarks', join(dir, 'lm.npy'), '--out', join(dir, 'png'), '--size', `${SIZE}x${SIZE}`]);
      expect(png.code).toBe(0);
      refs = Array.from({ length: landmarkFrames }, (_, t) => decodeImage(new Uint8Array(readFileSync(join(dir, 'png', `frame_${String(t).padStart(4, '0')}.png`)))).rgb);
      // the middle of each frame's 40 ms, so rounding cannot pick a neighbour
      const times = refs.map((_, t) => t * 0.04 + 0.02);
      play = await playWebm(new Uint8Array(readFileSync(webm)), times, { playThrough: true });
    }, 120_000);

    it('lasts as long as the speech (within 60 ms) and plays to the end', () => {
      expect(Math.abs(play.durationSeconds * 1000 - audioMs)).toBeLessThan(60);
      expect([play.width, play.height]).toEqual([SIZE, SIZE]);
      expect(play.playedTo).toBeCloseTo(play.durationSeconds, 2);
    });

    it('shows at time t*40 ms the picture rendered for landmark frame t, within codec tolerance', () => {
      const errors = refs.map((ref, t) => mad(play.frames[t], ref));
      expect(Math.max(...errors)).toBeLessThan(8);
      // Alignment: frame t must match reference t better than its neighbours do, over the clip.
      let same = 0;
      let earlier = 0;
      let later = 0;
      for (let t = 1; t < refs.length - 1; t++) {
        same += errors[t];
        earlier += mad(play.frames[t], refs[t - 1]);
        later += mad(play.frames[t], refs[t + 1]);
      }
      expect(same).toBeLessThan(0.9 * earlier);
      expect(same).toBeLessThan(0.9 * later);
    });

    it('decodes the speech in place: the audio lines up with the input within 1 ms', async () => {
      const wav = readWav(new Uint8Array(readFileSync(wavFile)));
      const ref = resample(wav.samples, wav.sampleRate, 48_000);
      const dec = await decodeWebmAudio(new Uint8Array(readFileSync(webm)));
      expect(Math.abs(dec.length - ref.length)).toBeLessThan(48 * 20);
      // cross-correlation peak over +-20 ms
      let best = -Infinity;
      let bestLag = 0;
      for (let lag = -960; lag <= 960; lag++) {
        let s = 0;
        for (let i = Math.max(0, -lag); i < ref.length && i + lag < dec.length; i++) s += ref[i] * dec[i + lag];
        if (s > best) [best, bestLag] = [s, lag];
      }
      expect(Math.abs(bestLag)).toBeLessThanOrEqual(48);
    });
  });

  it('--codec vp8 --frames 5 writes five VP8 frames and stops the audio with them', () => {
    const out = join(dir, 'short.webm');
    const r = r2talker(['render', '--avatar', avatarFile, '--audio', wavFile, '--out', out, '--size', '16x16', '--codec', 'vp8', '--frames', '5']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const short = inspectWebm(new Uint8Array(readFileSync(out)));
    const video = short.tracks.find((t) => t.type === 1)!;
    expect([video.codec, video.width, video.height]).toEqual(['V_VP8', 16, 16]);
    expect(short.blocks.filter((b) => b.track === video.number).length).toBe(5);
    expect(short.durationMs).toBe(200);
    // the last Opus packet starts at most at the cut (it carries the encoder's look-ahead)
    expect(Math.max(...short.blocks.map((b) => b.timeMs))).toBeLessThanOrEqual(200);
  }, 120_000);

  describe('errors (exit code 2, a message naming the input, no output file)', () => {
    const run = (args: string[]) => {
      const out = join(dir, `err-${Math.random().toString(36).slice(2)}.webm`);
      return { ...r2talker(['render', ...args, '--out', out]), written: () => existsSync(out) };
    };

    it('an unreadable wav', () => {
      const r = run(['--avatar', avatarFile, '--audio', join(dir, 'nope.wav')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/\[INPUT_FORMAT\] audio: cannot read .*nope\.wav: ENOENT/);
      expect(r.written()).toBe(false);
    });

    it('a file that is not a wav', () => {
      writeFileSync(join(dir, 'text.wav'), 'this is not a RIFF file at all');
      const r = run(['--avatar', avatarFile, '--audio', join(dir, 'text.wav')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[INPUT_FORMAT] wav.riff: expected "RIFF"');
      expect(r.written()).toBe(false);
    });

    it('a --generator file that does not exist', () => {
      const r = run(['--avatar', avatarFile, '--audio', wavFile, '--generator', join(dir, 'none.onnx')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/\[INPUT_FORMAT\] generator: cannot read .*none\.onnx/);
    });

    it.skipIf(existsSync(DEFAULT_GENERATOR_PATH))('an avatar without a generator when the default one is missing', () => {
      const r = run(['--avatar', join(dir, 'nogen.r2t'), '--audio', wavFile]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/\[CONFIG\] generator: the avatar has none and the default .*default\.onnx is missing/);
      expect(r.written()).toBe(false);
    });

    it('--audio together with --landmarks, or neither', () => {
      const both = run(['--avatar', avatarFile, '--audio', wavFile, '--landmarks', join(dir, 'lm.npy')]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('[CONFIG] --audio and --landmarks: expected one of them');
      const neither = run(['--avatar', avatarFile]);
      expect(neither.code).toBe(2);
      expect(neither.stderr).toContain('got neither');
    });

    it('--audio with an --out that is not .webm, and a malformed --size', () => {
      const r = r2talker(['render', '--avatar', avatarFile, '--audio', wavFile, '--out', join(dir, 'frames')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[CONFIG] --out: with --audio expected a .webm file');
      const s = run(['--avatar', avatarFile, '--audio', wavFile, '--size', '32by32']);
      expect(s.code).toBe(2);
      expect(s.stderr).toContain('[CONFIG] --size: expected WxH');
    });
  });
});
