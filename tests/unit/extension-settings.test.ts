import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, parseSettings } from '../../extension/shared/settings.ts';

describe('parseSettings', () => {
  it('returns the defaults (1280x720@30, on) for anything that is not an object', () => {
    for (const raw of [undefined, null, 42, 'x', []]) expect(parseSettings(raw)).toEqual(DEFAULT_SETTINGS);
  });

  it('keeps valid fields and replaces invalid ones field by field', () => {
    const s = parseSettings({ enabled: false, output: { width: 640, height: 480, frameRate: 15 }, lipSyncOffsetMs: 9999, idleBlinks: 'yes', avatarId: 'abc' });
    expect(s).toEqual({ ...DEFAULT_SETTINGS, enabled: false, output: { width: 640, height: 480, frameRate: 15 }, avatarId: 'abc' });
  });

  it('rejects an output size outside 16..1920 x 16..1080 as a whole', () => {
    expect(parseSettings({ output: { width: 4096, height: 2160, frameRate: 30 } }).output).toEqual(DEFAULT_SETTINGS.output);
    expect(parseSettings({ output: { width: 640.5, height: 480, frameRate: 30 } }).output).toEqual(DEFAULT_SETTINGS.output);
  });

  it('takes the CPU render threads as an integer 0..8 (0: one per core)', () => {
    expect(DEFAULT_SETTINGS.cpuThreads).toBe(0);
    expect(parseSettings({ cpuThreads: 1 }).cpuThreads).toBe(1);
    for (const bad of [-1, 9, 1.5, '2']) expect(parseSettings({ cpuThreads: bad }).cpuThreads).toBe(0);
  });

  it('does not share the defaults object with its result', () => {
    const s = parseSettings(null);
    s.output.width = 1;
    expect(DEFAULT_SETTINGS.output.width).toBe(1280);
  });
});
