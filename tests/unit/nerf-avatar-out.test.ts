/** The trained-avatar builder: a landmark coordinate that never moves still gives a writable .r2t. */
import { describe, expect, it } from 'vitest';
import { buildAvatar, STD_FLOOR } from '../../trainer/nerf/avatar-out.ts';
import { TrainingData } from '../../trainer/nerf/data.ts';
import { initParams } from '../../trainer/nerf/params.ts';
import { getPreset } from '../../trainer/nerf/presets.ts';
import { Rng } from '../../trainer/nerf/rng.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { writeAnalyticSubject } from '../helpers/nerf-subject.ts';

describe('buildAvatar', () => {
  it('floors a zero landmark std so the .r2t writes and reads back, head-only without a torso', async () => {
    const files = await writeAnalyticSubject({ size: 16, frames: 12 });
    const data = await TrainingData.open(await openSubject(files!, nodeImageCodec));
    data.train.stats.std[5] = 0;
    const config = getPreset('tiny').config({ eyeInput: true, torso: true });
    const R = config.march.gridResolution;
    const avatar = buildAvatar({
      name: 't',
      config,
      camera: data.subject.camera,
      params: initParams(config, new Rng(1)),
      bitfield: new Uint8Array((R * R * R) / 8).fill(255),
      torsoDensity: null,
      data,
      provenance: { source: 'trainer' },
    });
    const back = await readAvatar(writeAvatar(avatar));
    expect(back.landmarkStats!.std[5]).toBeCloseTo(STD_FLOOR, 12);
    expect(back.landmarkStats!.std[6]).toBe(data.train.stats.std[6]);
    expect(back.config.torso).toBeNull();
    expect(back.tensors.get('poses')!.shape).toEqual([data.train.split.frames.length, 4, 4]);
  });
});
