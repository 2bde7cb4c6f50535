/** Browser entry of the Chromium parity test: the same engine and checks as the Node suite. */
import { readAvatar } from '../../../worker/avatar/reader.ts';
import { tinyAvatar } from '../../helpers/tiny-avatar.ts';
import { frontPose, officialAvatar } from '../../helpers/webgpu-avatar.ts';
import { runParity, type ParityReport } from '../../helpers/webgpu-parity.ts';

/** `importedUrl`: an .r2t imported from a torch.save checkpoint by the Node side, if it has torch. */
async function runAll(importedUrl?: string): Promise<ParityReport[] | string> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return 'navigator.gpu is undefined';
  const tiny = tinyAvatar({ torso: true });
  const hashed = tinyAvatar({ torso: false, eyeInput: false, gridType: 'hash', seed: 5 });
  const pose = (a: typeof tiny) => a.tensors.get('poses')!.data.slice(0, 16) as Float32Array;
  const reports = [
    await runParity('official', officialAvatar({ size: 48 }), frontPose(0.15), gpu),
    await runParity('tiny', tiny, pose(tiny), gpu),
    await runParity('tiny-hash', hashed, pose(hashed), gpu),
  ];
  if (importedUrl) {
    const imported = await readAvatar(await (await fetch(importedUrl)).blob());
    reports.push(await runParity('imported', imported, pose(imported), gpu));
  }
  return reports;
}

(globalThis as { runAll?: typeof runAll }).runAll = runAll;
