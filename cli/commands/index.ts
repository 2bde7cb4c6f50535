import { register as registerImport } from './import.ts';
import type { Command } from 'commander';
import { register as registerInfo } from './info.ts';
import { register as registerRender } from './render.ts';
import { register as registerDemo } from './demo.ts';
import { register as registerLandmarks } from './landmarks.ts';
import { register as registerTrainGenerator } from './train-generator.ts';
import { register as registerGeneratorQuality } from './generator-quality.ts';

export function registerCommands(program: Command): void {
  registerImport(program);
  registerInfo(program);
  registerRender(program);
  registerDemo(program);
  registerLandmarks(program);
  registerTrainGenerator(program);
  registerGeneratorQuality(program);
}
