import { register as registerImport } from './import.ts';
import type { Command } from 'commander';
import { register as registerInfo } from './info.ts';
import { register as registerRender } from './render.ts';
import { register as registerDemo } from './demo.ts';
import { register as registerLandmarks } from './landmarks.ts';
import { register as registerTrainGenerator } from './train-generator.ts';
import { register as registerGeneratorQuality } from './generator-quality.ts';
import { register as registerTrain } from './train.ts';
import { register as registerSynthSubject } from './synth-subject.ts';
import { register as registerEval } from './eval.ts';
import { register as registerPrepare } from './prepare.ts';
import { register as registerLiveKitAvatar } from './livekit-avatar.ts';

export function registerCommands(program: Command): void {
  registerImport(program);
  registerInfo(program);
  registerRender(program);
  registerDemo(program);
  registerLandmarks(program);
  registerTrainGenerator(program);
  registerGeneratorQuality(program);
  registerTrain(program);
  registerSynthSubject(program);
  registerEval(program);
  registerPrepare(program);
  registerLiveKitAvatar(program);
}
