/** `r2talker prepare` as a user runs it: a folder of frames and a wav in, refusals out, nothing left behind. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { writeWav } from '../../worker/io/wav.ts';
import { astronautHead, renderedVideo } from '../helpers/face-video.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function r2talker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/r2talker.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('r2talker prepare', () => {
  const dir = mkdtempSync(join(tmpdir(), 'r2t-prepare-'));
  const frames = join(dir, 'frames');
  const wav = join(dir, 'speech.wav');

  beforeAll(async () => {
    const models = await loadFaceModels(nodeFaceModelSource);
    const video = renderedVideo(astronautHead(models), { frames: 30, width: 256, height: 256, focal: 256 });
    mkdirSync(frames);
    for (let i = 0; i < video.count; i++) {
      const f = await video.read(i);
      const png = new PNG({ width: f.width, height: f.height });
      for (let p = 0; p < f.width * f.height; p++) {
        png.data.set(f.rgb.subarray(p * 3, p * 3 + 3), p * 4);
        png.data[p * 4 + 3] = 255;
      }
      writeFileSync(join(frames, `${i + 1}.png`), PNG.sync.write(png));
    }
    const pcm = Float32Array.from({ length: 16000 * 1.2 }, (_, i) => 0.2 * Math.sin(i / 5));
    writeFileSync(wav, writeWav([pcm], 16000, 'pcm16'));
  });

  it('refuses 1.2 s of video (20 s are needed) and leaves no folder behind', () => {
    const out = join(dir, 'subject');
    const r = r2talker(['prepare', '--frames', frames, '--audio', wav, '--out', out, '--size', '128']);
    expect(r.stderr).toMatch(/too short: 1\.2 s of usable frames, at least 20 s are needed/);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['frames', 'speech.wav']);
  });

  it('asks for audio, and for one input only', () => {
    const noAudio = r2talker(['prepare', '--frames', frames, '--out', join(dir, 's2')]);
    expect(noAudio.code).toBe(2);
    expect(noAudio.stderr).toMatch(/no audio/);
    const both = r2talker(['prepare', '--video', join(dir, 'me.mp4'), '--frames', frames, '--out', join(dir, 's3')]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give either --video or --frames, not both/);
    expect(readdirSync(dir).sort()).toEqual(['frames', 'speech.wav']);
  });
});
