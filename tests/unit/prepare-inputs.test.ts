/**
 * Bad input to `prepare`'s frame folder ends in a clear error naming the file, quickly:
 * an empty folder, unnumbered names, a truncated PNG, a text file renamed .jpg, a frame of
 * another size, a declared size over the limit, a missing folder.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { frameDirectory } from '../../worker/prepare/frame-dir.node.ts';

function png(w: number, h: number): Buffer {
  const p = new PNG({ width: w, height: h });
  p.data.fill(200);
  return PNG.sync.write(p);
}

function folder(files: Record<string, Uint8Array | string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'r2t-frames-'));
  for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b);
  return dir;
}

describe('frame folder input', () => {
  it('orders frames by their number, not by text', async () => {
    const dir = folder({ 'f2.png': png(4, 4), 'f10.png': png(6, 6), 'f1.png': png(2, 2) });
    const src = await frameDirectory(dir, 25);
    expect(src.count).toBe(3);
    expect([(await src.read(0)).width, (await src.read(1)).width, (await src.read(2)).width]).toEqual([2, 4, 6]);
  });

  it('refuses an empty, missing or unnumbered folder', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'r2t-frames-'));
    mkdirSync(join(empty, 'sub'));
    await expect(frameDirectory(empty, 25)).rejects.toThrow(/no \.png or \.jpg frames in the folder/);
    await expect(frameDirectory(join(empty, 'nope'), 25)).rejects.toThrow(/cannot list the frames folder \(ENOENT\)/);
    await expect(frameDirectory(folder({ 'a.png': png(2, 2), 'b.png': png(2, 2) }), 25)).rejects.toThrow(/every frame name needs a number/);
  });

  it('names the file of a truncated, fake or oversized frame', async () => {
    const good = png(8, 8);
    const huge = Buffer.from(good);
    huge.writeUInt32BE(100000, 16); // declared width far over the limit
    const dir = folder({ '1.png': good.subarray(0, 40), '2.jpg': 'not a jpeg at all', '3.png': huge });
    const src = await frameDirectory(dir, 25);
    await expect(src.read(0)).rejects.toThrow(/1\.png: corrupt PNG/);
    await expect(src.read(1)).rejects.toThrow(/2\.jpg: expected a PNG or JPEG file/);
    await expect(src.read(2)).rejects.toThrow(/3\.png: expected a size within/);
  });
});
