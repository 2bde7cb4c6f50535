import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
// eSpeak NG (GPL-3.0) may only generate data from scripts/; nothing that ships may load it.
const SHIPPED = ['worker', 'extension', 'cli', 'bin', 'shaders'];
const GPL_PACKAGE = /espeak/i;

function sources(dir: string, out: string[] = [], depth = 0): string[] {
  if (depth > 12) return out;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = path.join(dir, n);
    if (n === 'node_modules') continue;
    if (statSync(p).isDirectory()) sources(p, out, depth + 1);
    else if (/\.(ts|js|mjs|cjs|json)$/.test(n)) out.push(p);
  }
  return out;
}

describe('corpus licence boundary', () => {
  it('no shipped folder imports or requires the GPL eSpeak NG package', () => {
    const offenders: string[] = [];
    const files = SHIPPED.flatMap((d) => sources(path.join(ROOT, d)));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)) {
        if (GPL_PACKAGE.test(m[1]) || m[1].includes('scripts/corpus/espeak')) offenders.push(`${path.relative(ROOT, f)}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('eSpeak NG is a pinned devDependency, never a runtime dependency', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    expect(Object.keys(pkg.dependencies ?? {}).filter((k) => GPL_PACKAGE.test(k))).toEqual([]);
    expect(pkg.devDependencies?.['@echogarden/espeak-ng-emscripten']).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
