import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderShaderIndex, SHADER_ROOT } from '../../scripts/gen-shaders.ts';
import { SHADERS } from '../../shaders/index.ts';

describe('shaders/index.ts', () => {
  it('matches the .wgsl files (regenerate with npx tsx scripts/gen-shaders.ts)', () => {
    expect(readFileSync(path.join(SHADER_ROOT, 'index.ts'), 'utf8')).toBe(renderShaderIndex());
  });

  it('holds every stage folder and declares workgroup sizes as override constants', () => {
    const names = Object.keys(SHADERS);
    for (const folder of ['common/', 'encoders/', 'fields/', 'marching/', 'compositing/']) expect(names.some((n) => n.startsWith(folder))).toBe(true);
    for (const [name, code] of Object.entries(SHADERS)) {
      for (const m of code.matchAll(/@workgroup_size\(([^)]+)\)/g)) {
        if (m[1].trim() === '1') continue;
        expect(code, `${name}: ${m[1]}`).toMatch(new RegExp(`override ${m[1].trim()}\\s*:`));
      }
    }
  });
});
