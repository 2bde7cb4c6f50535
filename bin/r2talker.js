#!/usr/bin/env node
// Thin launcher: runs the TypeScript CLI through tsx so `npx r2talker` works right after `npm ci`.
// WebGPU in Node (the `webgpu` backend) on machines without a GPU runs over Chromium's
// SwiftShader Vulkan driver; the dynamic loader reads LD_LIBRARY_PATH / VK_ICD_FILENAMES only
// at process start, so they are set here for the child when that driver exists, unless
// R2T_NATIVE_VULKAN asks for the system's own Vulkan driver.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const tsxCli = require.resolve('tsx/cli');
const entry = path.join(here, '..', 'cli', 'r2talker.ts');
const SWIFTSHADER_DIR = '/usr/lib/chromium';
const icd = path.join(SWIFTSHADER_DIR, 'vk_swiftshader_icd.json');
const env = { ...process.env };
if (!env.R2T_NATIVE_VULKAN && existsSync(icd)) {
  env.LD_LIBRARY_PATH = [SWIFTSHADER_DIR, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  env.VK_ICD_FILENAMES = env.VK_ICD_FILENAMES || icd;
}
const r = spawnSync(process.execPath, [tsxCli, entry, ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
