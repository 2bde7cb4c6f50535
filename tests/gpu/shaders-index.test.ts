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
        // Files that add entry points to another stage's module (shaders/fast/) use its override.
        const declared = new RegExp(`override ${m[1].trim()}\\s*:`);
        const home = declared.test(code) ? code : Object.values(SHADERS).find((c) => declared.test(c)) ?? code;
        expect(home, `${name}: ${m[1]}`).toMatch(declared);
      }
    }
  });
});
