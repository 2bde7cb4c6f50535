import { describe, expect, it } from 'vitest';
import { MEL } from '../../worker/audio/mel.ts';
import { makeRng } from '../../worker/landmarks/model.ts';
import { quietRoomMel, toPower } from '../../trainer/generator-augment.ts';
import { trainGenerator } from '../../trainer/train-generator.ts';

const B = MEL.bins;

describe('quiet-room segments', () => {
  it('are steady noise 35-75 dB below the speech they replace', () => {
    const rows = 60;
    const speech = new Float32Array(rows * B);
    for (let t = 0; t < rows; t++) for (let c = 0; c < B; c++) speech[t * B + c] = Math.log((t % 2 ? 1e-2 : 1e-4) + MEL.floor); // loud half: 1e-2 per bin
    const rng = makeRng(7);
    for (let k = 0; k < 20; k++) {
      const p = toPower(quietRoomMel(speech, rows, rng));
      const frame = (t: number) => p.subarray(t * B, (t + 1) * B).reduce((a, b) => a + b, 0);
      let mean = 0;
      for (let t = 0; t < rows; t++) mean += frame(t) / rows;
      const below = 10 * Math.log10((1e-2 * B) / mean);
      expect(below).toBeGreaterThan(34);
      expect(below).toBeLessThan(76);
      // steady: no frame more than 3 dB off the mean (a burst or a word would be)
      for (let t = 0; t < rows; t++) expect(Math.abs(10 * Math.log10(frame(t) / mean))).toBeLessThan(3);
    }
  });

  it('are validated with the field named', () => {
    const pair = { pcm: new Float32Array(16000), sampleRate: 16000, landmarks: new Float32Array(25 * 204), frames: 25 };
    expect(() => trainGenerator([pair], { channels: 4, maxSteps: 1, space: 'template', quietRoom: 0.6 })).toThrow(/train.quietRoom: expected/);
    expect(() => trainGenerator([pair], { channels: 4, maxSteps: 1, space: 'template', quietRoom: 0.3, nonSpeech: 0.3 })).toThrow(/train.quietRoom: expected/);
    expect(() => trainGenerator([pair], { channels: 4, maxSteps: 1, space: 'avatar', quietRoom: 0.1 })).toThrow(/train.quietRoom: needs space "template"/);
  });
});
