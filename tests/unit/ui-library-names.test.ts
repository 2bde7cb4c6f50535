/** The words and names the popup's library and controls show: pure functions, exact text. */
import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, checkAvatarName, exportFileName } from '../../extension/shared/avatar-store.ts';
import { formatBytes } from '../../extension/ui/avatar-library.ts';
import { formatOffset, formatRenderSide, outputLabel } from '../../extension/ui/controls.ts';

describe('avatar names', () => {
  it('keeps a typed name with its inner spaces collapsed and the ends trimmed', () => {
    expect(checkAvatarName('  Ada   at the  desk ')).toBe('Ada at the desk');
    expect(checkAvatarName('Zoë – 2026')).toBe('Zoë – 2026');
  });

  it('refuses an empty, an over-long or a control-character name, saying which', () => {
    expect(() => checkAvatarName('   ')).toThrow('The name is empty: type at least one letter.');
    expect(() => checkAvatarName('x'.repeat(MAX_NAME_LENGTH + 1))).toThrow(`The name is ${MAX_NAME_LENGTH + 1} characters long: at most ${MAX_NAME_LENGTH} fit.`);
    expect(checkAvatarName('x'.repeat(MAX_NAME_LENGTH))).toHaveLength(MAX_NAME_LENGTH);
    expect(() => checkAvatarName('a\u0007b')).toThrow(/control characters/);
  });

  it('exports under a file name every file system accepts, ending in .r2t', () => {
    expect(exportFileName('Ada')).toBe('Ada.r2t');
    expect(exportFileName('me / at: work?')).toBe('me - at- work.r2t');
    expect(exportFileName('..')).toBe('avatar.r2t');
    expect(exportFileName('<>|')).toBe('avatar.r2t');
    expect(exportFileName('a\u0000b')).toBe('a-b.r2t');
  });
});

describe('values beside the controls', () => {
  it('lip-sync offsets carry their sign, with a true minus', () => {
    expect(formatOffset(0)).toBe('0 ms');
    expect(formatOffset(40)).toBe('+40 ms');
    expect(formatOffset(-120)).toBe('\u2212120 ms');
  });

  it('sizes read as a person expects', () => {
    expect(formatBytes(820_000)).toBe('820 KB');
    expect(formatBytes(12)).toBe('1 KB');
    expect(formatBytes(1_450_000)).toBe('1.4 MB');
    expect(formatBytes(2_100_000_000)).toBe('2.1 GB');
    expect(formatRenderSide(256)).toBe('256 px');
    expect(outputLabel({ width: 1280, height: 720, frameRate: 30 })).toBe('1280 \u00d7 720, 30 fps');
  });
});
