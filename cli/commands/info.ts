import type { Command } from 'commander';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { openFileSource } from '../../worker/avatar/source.node.ts';

export function register(program: Command): void {
  program
    .command('info')
    .description('validate an .r2t avatar file and print its header')
    .requiredOption('--avatar <file>', 'avatar file (.r2t)')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { avatar: string; json?: boolean }) => {
      const source = await openFileSource(opts.avatar);
      try {
        const avatar = await readAvatar(source);
        const tensors = [...avatar.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));
        const summary = {
          name: avatar.name,
          camera: avatar.camera,
          config: avatar.config,
          poses: avatar.tensors.get('poses')?.shape[0] ?? 0,
          landmarkStats: avatar.landmarkStats ? { frames: avatar.landmarkStats.frames } : null,
          generator: avatar.generator ? { bytes: avatar.generator.byteLength } : null,
          provenance: avatar.provenance,
          tensors,
        };
        if (opts.json) {
          process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
          return;
        }
        const c = avatar.config;
        process.stdout.write(
          [
            `avatar      ${avatar.name}`,
            `image       ${avatar.camera.width}x${avatar.camera.height} (fx ${avatar.camera.fx}, fy ${avatar.camera.fy})`,
            `head grid   ${c.head.grid.gridType}, ${c.head.grid.levels} levels x ${c.head.grid.featuresPerLevel}, ${c.head.grid.offsets[c.head.grid.levels]} rows; eye input ${c.head.eyeInput ? 'on' : 'off'}`,
            `landmarks   ${c.condition.numLandmarks} points x ${c.condition.window} frames, grid ${c.condition.grid.levels}x${c.condition.grid.featuresPerLevel}`,
            `torso       ${c.torso ? `${c.torso.grid.levels} levels, ${c.torso.grid.offsets[c.torso.grid.levels]} rows` : 'off'}`,
            `poses       ${summary.poses}`,
            `statistics  ${avatar.landmarkStats ? `${avatar.landmarkStats.frames} frames` : 'none'}`,
            `generator   ${avatar.generator ? `${avatar.generator.byteLength} bytes` : 'default'}`,
            `provenance  ${JSON.stringify(avatar.provenance)}`,
            `tensors     ${tensors.length}`,
          ].join('\n') + '\n',
        );
      } finally {
        await source.close?.();
      }
    });
}
