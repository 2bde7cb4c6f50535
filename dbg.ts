import { loadBuiltinAvatar } from './worker/avatar/builtin.node.ts';
import { FastCpuRenderer } from './worker/model/fast-renderer.ts';
import { CpuRenderer } from './worker/model/cpu-renderer.ts';
import { GpuFastRenderer } from './worker/render/fast-renderer.ts';
import { GpuRenderer } from './worker/render/renderer.ts';
import { avatarSequence, psnr, resizeAvatar } from './tests/helpers/fast-sequence.ts';
import { nodeGpuContext } from './tests/helpers/webgpu.ts';
import { torsoPixels } from './worker/model/torso.ts';
const S = 48;
const seq = avatarSequence(resizeAvatar(await loadBuiltinAvatar(), S), 30);
const ctx = await nodeGpuContext();
const g = await GpuFastRenderer.create(seq.avatar, { acquire: async () => ctx, compile: 'sync', precision: 'f32' });
const ge = await GpuRenderer.create(seq.avatar, { acquire: async () => ctx, compile: 'sync', precision: 'f32' });
const c = new FastCpuRenderer(seq.weights, seq.avatar.camera);
const e = new CpuRenderer(seq.weights, seq.avatar.camera);
const t = seq.weights.torso!;
const tl = new Set(torsoPixels(t.densityGrid, seq.weights.config.torso!.densityResolution, S, S, t.densityThreshold));
const fr = seq.frames[28];
const inp = { film1: fr.film1, film2: fr.film2, pose: fr.pose, eye: fr.eye };
const gr = await g.render(inp); const gx = await ge.render(inp, ['image']); const cr = c.render(fr); const er = e.render(fr);
console.log('gpu exact vs cpu exact', psnr(gx.image!, er.image), 'gpu fast vs cpu fast', psnr(gr.image!, cr.image), 'cpu fast vs exact', psnr(cr.image, er.image));
let worst = 0, wp = -1;
for (let i = 0; i < S * S; i++) { const d = Math.abs(gr.image![i*3] - cr.image[i*3]); if (d > worst) { worst = d; wp = i; } }
console.log('worst', worst, 'at', wp, 'torso?', tl.has(wp), 'ws gpu', gr.weightSum![wp], 'ws cpu', cr.weightSum[wp], 'gpu', gr.image!.slice(wp*3, wp*3+3), 'cpu', cr.image.slice(wp*3, wp*3+3), 'exact', er.image.slice(wp*3,wp*3+3));
let bad = 0, badT = 0; for (let i = 0; i < S*S; i++) if (Math.abs(gr.image![i*3]-cr.image[i*3]) > 0.05) { bad++; if (tl.has(i)) badT++; }
console.log("bad", bad, "in torso", badT, "torso list", tl.size, JSON.stringify(gr.stats), JSON.stringify(cr.stats));
g.destroy(); ge.destroy(); ctx.device.destroy();
