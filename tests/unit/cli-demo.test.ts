/**
 * The README's main job, `r2talker demo` (what scripts/demo.sh runs after set-up): the built-in
 * avatar speaking the bundled sentence, as a WebM with the speech in it. Rendered small here
 * (--size) so the whole sentence stays cheap; the path is the one a user's full-size run takes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { readWav, writeWav } from '../../worker/io/wav.ts';
import { chromiumPath } from '../../cli/video/chromium.ts';
import { decodeWebmAudio, playWebm, type Playback } from '../../cli/video/playback.ts';
import { inspectWebm, type WebmInfo } from '../../cli/video/webm-inspect.ts';
import { scaleAvatar } from '../../cli/render-track.ts';
import { lipsBox, speechExtremes } from '../helpers/builtin-mouth.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SENTENCE = join(ROOT, 'assets/demo/sentence.wav');
const SIZE = 48;
/** frames compared between the spoken and the silent demo */
const COMPARED = 40;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Asynchronous, so vitest's worker keeps answering its runner during the minute-long render. */
function r2talker(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/r2talker.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the bundled demo sentence', () => {
  it('is 16 kHz mono speech of 2-6 s with sound over most of it, and says where it came from', () => {
    const wav = readWav(new Uint8Array(readFileSync(SENTENCE)));
    expect([wav.sampleRate, wav.channelData.length]).toEqual([16_000, 1]);
    const seconds = wav.samples.length / wav.sampleRate;
    expect(seconds).toBeGreaterThan(2);
    expect(seconds).toBeLessThan(6);
    // 100 ms windows: speech has pauses, but a sentence is mostly voiced
    const win = 1600;
    let loud = 0;
    const windows = Math.floor(wav.samples.length / win);
    for (let w = 0; w < windows; w++) {
      let s = 0;
      for (let i = w * win; i < (w + 1) * win; i++) s += wav.samples[i] ** 2;
      if (Math.sqrt(s / win) > 0.02) loud++;
    }
    expect(loud / windows).toBeGreaterThan(0.6);
    const readme = readFileSync(join(ROOT, 'assets/demo/README.md'), 'utf8');
    expect(readme).toMatch(/eSpeak NG/);
    expect(readme).toMatch(/scripts\/make-demo-sentence\.sh/);
  });
});

describe.skipIf(!existsSync(chromiumPath()))('r2talker demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'r2t-demo-'));
  const webm = join(dir, 'talk.webm');
  let run: Run;
  let info: WebmInfo;
  let sentenceMs = 0;

  beforeAll(async () => {
    const wav = readWav(new Uint8Array(readFileSync(SENTENCE)));
    sentenceMs = (wav.samples.length * 1000) / wav.sampleRate;
    run = await r2talker(['demo', '--out', dir, '--size', `${SIZE}x${SIZE}`, '--backend', 'cpu']);
    if (run.code === 0) info = inspectWebm(new Uint8Array(readFileSync(webm)));
  }, 240_000);

  it('says where the video is and how fast it rendered', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`demo: video with speech: ${webm} (`);
    expect(run.stdout).toMatch(/demo: rendered \d+ frames in \d+\.\d s = \d+\.\d\d fps \(\d+\.\d s per second of video\) on cpu \(reference\)/);
  });

  it('renders the shipped built-in avatar and says which file that is', async () => {
    const file = join(ROOT, 'assets/avatars/builtin.r2t');
    expect(run.stdout).toContain(`demo: the built-in avatar is ${file}\n`);
    const avatar = await readAvatar(new Uint8Array(readFileSync(file)));
    expect(avatar.provenance.regenerate).toBe('bash scripts/make-builtin-avatar.sh');
    expect(existsSync(join(dir, 'demo.r2t'))).toBe(false); // nothing but the video is written
  });

  it('holds a VP9 picture and an Opus track covering the whole sentence', () => {
    const video = info.tracks.find((t) => t.type === 1)!;
    const audio = info.tracks.find((t) => t.type === 2)!;
    expect([video.codec, video.width, video.height]).toEqual(['V_VP9', SIZE, SIZE]);
    expect(audio.codec).toBe('A_OPUS');
    const frames = info.blocks.filter((b) => b.track === video.number).length;
    expect(frames).toBe(Math.ceil(sentenceMs / 40));
    expect(Math.abs(info.durationMs! - sentenceMs)).toBeLessThan(60);
  });

  describe('played back', () => {
    let play: Playback;
    beforeAll(async () => {
      play = await playWebm(new Uint8Array(readFileSync(webm)), Array.from({ length: COMPARED }, (_, t) => t * 0.04 + 0.02));
    }, 120_000);

    it('shows a head whose mouth follows the speech: the projected lips box changes beyond the video noise', async () => {
      const px = (f: Uint8ClampedArray, x: number, y: number) => f.subarray((y * SIZE + x) * 4, (y * SIZE + x) * 4 + 3);
      const centre = px(play.frames[0], SIZE / 2, SIZE / 2);
      expect(centre[0]).toBeGreaterThan(centre[2]); // skin, not the blue-grey background
      // The same demo said with silence: same avatar, same head poses frame by frame, only the
      // predicted landmarks differ. Where the pictures differ is where speech moved the face.
      const quiet = join(dir, 'quiet');
      const silence = join(dir, 'silence.wav');
      writeFileSync(silence, writeWav([new Float32Array(16_000 * 2)], 16_000));
      const r = await r2talker(['demo', '--out', quiet, '--size', `${SIZE}x${SIZE}`, '--backend', 'cpu', '--audio', silence, '--frames', String(COMPARED)]);
      expect(r.code, r.stderr).toBe(0);
      const times = Array.from({ length: COMPARED }, (_, t) => t * 0.04 + 0.02);
      const still = await playWebm(new Uint8Array(readFileSync(join(quiet, 'talk.webm'))), times);
      const diff = new Float32Array(SIZE * SIZE);
      for (let t = 0; t < COMPARED; t++) {
        for (let i = 0; i < diff.length; i++) {
          for (let k = 0; k < 3; k++) diff[i] += Math.abs(play.frames[t][4 * i + k] - still.frames[t][4 * i + k]) / (3 * COMPARED);
        }
      }
      const sorted = Array.from(diff).sort((a, b) => b - a);
      const top = sorted.slice(0, Math.round(diff.length * 0.02));
      const topMean = top.reduce((a, b) => a + b, 0) / top.length;
      const median = sorted[Math.floor(sorted.length / 2)];
      // The lips, from the avatar's own landmarks (the generator's silent and widest frames)
      // projected through the poses of the compared frames at this size.
      const avatar = scaleAvatar(await readAvatar(new Uint8Array(readFileSync(join(ROOT, 'assets/avatars/builtin.r2t')))), SIZE, SIZE);
      const { open, closed } = speechExtremes(avatar.landmarkStats!);
      const poses = avatar.tensors.get('poses')!.data as Float32Array;
      let [bx0, by0, bx1, by1] = [Infinity, Infinity, -Infinity, -Infinity];
      for (let t = 0; t < COMPARED; t++) {
        const b = lipsBox([open, closed], poses.slice(t * 16, t * 16 + 16), avatar.camera);
        [bx0, by0, bx1, by1] = [Math.min(bx0, b.x0), Math.min(by0, b.y0), Math.max(bx1, b.x1), Math.max(by1, b.y1)];
      }
      let inSum = 0;
      let inN = 0;
      for (let y = Math.max(0, Math.floor(by0)); y < Math.min(SIZE, Math.ceil(by1)); y++) {
        for (let x = Math.max(0, Math.floor(bx0)); x < Math.min(SIZE, Math.ceil(bx1)); x++) {
          inSum += diff[y * SIZE + x];
          inN++;
        }
      }
      const lips = inSum / inN;
      const peak = diff.indexOf(sorted[0]);
      console.log(
        `[cli-demo] speech vs silence: top-2% pixels ${topMean.toFixed(2)} levels, median ${median.toFixed(2)}; lips box (${bx0.toFixed(1)}, ${by0.toFixed(1)})-(${bx1.toFixed(1)}, ${by1.toFixed(1)}) mean ${lips.toFixed(2)}; ` +
          `peak at (${peak % SIZE}, ${Math.floor(peak / SIZE)})`,
      );
      expect(topMean).toBeGreaterThan(2.5);
      expect(topMean).toBeGreaterThan(3 * median);
      // The lips box is mouth-sized and in the lower half, and speech moves it beyond the video's
      // noise. Faintly: at 48 px the tiny-preset avatar's mouth changes ~2 levels on average,
      // and its conditioning also moves the eyes and hairline, where the strongest pixel may be
      // (assets/avatars/README.md, "Limits").
      expect(bx1 - bx0).toBeLessThan(0.4 * SIZE);
      expect((by0 + by1) / 2).toBeGreaterThan(SIZE / 2);
      expect(lips).toBeGreaterThan(1.5 * median);
      expect(lips).toBeGreaterThan(1.2);
    }, 240_000);

    it('carries the sentence as sound', async () => {
      const dec = await decodeWebmAudio(new Uint8Array(readFileSync(webm)));
      let s = 0;
      for (const v of dec) s += v * v;
      expect(Math.sqrt(s / dec.length)).toBeGreaterThan(0.02);
    });
  });

  it('falls back to the CPU reference, saying why, when no WebGPU adapter exists', async () => {
    const out = join(dir, 'fallback');
    // A Vulkan loader pointed at no driver: the webgpu package finds no adapter.
    const r = await r2talker(['demo', '--out', out, '--size', '16x16', '--frames', '2'], { ...process.env, R2T_NATIVE_VULKAN: '1', VK_ICD_FILENAMES: join(dir, 'no-such-icd.json') });
    expect(r.code, r.stderr).toBe(0);
    // (Dawn itself may warn first, about the missing Vulkan loader)
    expect(r.stderr).toMatch(/^demo: WebGPU is not available \(.+\); rendering on the CPU reference/m);
    expect(r.stdout).toMatch(/rendered 2 frames in .* on cpu \(reference\)/);
    const got = inspectWebm(new Uint8Array(readFileSync(join(out, 'talk.webm'))));
    const video = got.tracks.find((t) => t.type === 1)!;
    expect(got.blocks.filter((b) => b.track === video.number)).toHaveLength(2);
  });

  it('rejects an unknown backend with exit code 2 and a message naming the option', async () => {
    const r = await r2talker(['demo', '--out', join(dir, 'x'), '--backend', 'metal']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--backend: expected auto, webgpu or cpu, got "metal"/);
  });
});
