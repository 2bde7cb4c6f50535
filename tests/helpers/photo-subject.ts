/** The ground-truth subject of the photograph's test video: see bench/pose/photo-subject.ts, which
 * runs it for scripts/prepare-training-proof.sh (PROOF_SOURCE=photo). Test data only: the
 * photograph is a real person's, so nothing made from it ships. */
import { eyeRatio, IBUG68_FROM_MESH } from '../../worker/face/ibug68.ts';
import { projectPoints } from '../../worker/face/joint-photometric.ts';
import { headTransform } from '../../worker/face/pose-solver.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { writeWav } from '../../worker/io/wav.ts';
import { parsingImage } from '../../worker/prepare/masks.ts';
import { folderSink } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { PARSING_LABEL } from '../../worker/subject/layout.ts';
import { SubjectWriter } from '../../worker/subject/writer.ts';
import { renderHead, testBackground } from './face-render.ts';
import { articulatedHead, backgroundWithNeck, gentlePose, renderTruthLabels, talkingState } from './face-video.ts';

export interface PhotoSubjectOptions {
  size: number;
  frames: number;
  valFrames: number;
  overwrite?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** Writes the subject to `out`; returns the render's focal and the torso's top (share of the height). */
export async function writePhotoSubject(out: string, { size, frames, valFrames, overwrite = false, onProgress }: PhotoSubjectOptions): Promise<{ focal: number; torsoTop: number }> {
  if (!(size >= 64 && size <= 1024) || !(frames >= 2 && frames <= 5000) || !(valFrames >= 1 && valFrames < frames)) throw new Error('writePhotoSubject: size 64-1024, frames 2-5000, valFrames 1..frames-1');
  const focal = 1.3 * size;
  const models = await loadFaceModels(nodeFaceModelSource);
  const art = articulatedHead(models, 'canonical-upper');
  // The torso's top a third of a face height below the chin at the start (the face fills the frame
  // here; at backgroundWithTorso's usual 72% the chin would sit on the shoulders and hide the neck).
  const camera = { f: focal, cx: size / 2, cy: size / 2 };
  const start = projectPoints(art.head.vertices, gentlePose(0), camera);
  const [chinY, browY] = [start[152 * 2 + 1], start[10 * 2 + 1]];
  const torsoTop = Math.min(0.92, (chinY + (chinY - browY) / 3) / size);
  const scene = backgroundWithNeck(size, size, art.head, gentlePose(0), focal, torsoTop);
  const bc = testBackground(size, size);
  const C = models.canonical.vertices;
  const writer = new SubjectWriter(await folderSink(out, { overwrite }), nodeImageCodec, { width: size, height: size, focal });
  const rgb = (data: Uint8Array) => ({ width: size, height: size, channels: 3 as const, data });
  try {
    await writer.writeBackground(rgb(bc.rgb));
    // torso_imgs: neck and torso of the scene without the head, the rest transparent.
    const torso = new Uint8Array(size * size * 4);
    const sceneLabels = renderTruthLabels({ ...art.head, triangles: new Uint32Array(0) }, gentlePose(0), focal, scene);
    for (let i = 0; i < size * size; i++) {
      if (sceneLabels[i] !== PARSING_LABEL.neck && sceneLabels[i] !== PARSING_LABEL.torso) continue;
      torso.set(scene.frame.rgb.subarray(i * 3, i * 3 + 3), i * 4);
      torso[i * 4 + 3] = 255;
    }
    const openings: number[] = [];
    for (let k = 0; k < frames; k++) {
      const state = talkingState(k);
      openings.push(state.mouth);
      const pose = gentlePose(k);
      const head = art.frame(state);
      const V = head.vertices;
      const frame = renderHead(head, pose, focal, scene.frame);
      const xy = projectPoints(V, pose, camera);
      const lms = new Float32Array(136);
      const condition = new Float32Array(204);
      IBUG68_FROM_MESH.forEach((v, j) => {
        lms[j * 2] = xy[v * 2];
        lms[j * 2 + 1] = xy[v * 2 + 1];
        for (let d = 0; d < 3; d++) condition[j * 3 + d] = V[v * 3 + d] - C[v * 3 + d];
      });
      await writer.addFrame({
        split: k < frames - valFrames ? 'train' : 'val',
        imgId: k,
        audId: k,
        transform: headTransform(pose).flat(),
        eyeRatio: eyeRatio(lms),
        lms,
        condition,
        ori: rgb(frame.rgb),
        gt: rgb(frame.rgb),
        parsing: rgb(parsingImage(renderTruthLabels(head, pose, focal, scene))),
        torso: { width: size, height: size, channels: 4, data: torso },
      });
      onProgress?.(k + 1, frames);
    }
    // A voiced buzz whose loudness follows the mouth opening, 25 fps frames at 16 kHz.
    const rate = 16000, perFrame = rate / 25;
    const audio = new Float32Array(frames * perFrame);
    let phase = 0;
    for (let i = 0; i < audio.length; i++) {
      const t = i / perFrame, k = Math.min(frames - 1, Math.floor(t)), next = Math.min(frames - 1, k + 1);
      const env = 0.05 + (openings[k] + (openings[next] - openings[k]) * (t - k)) / 2;
      phase += (2 * Math.PI * 120 * (1 + 0.05 * Math.sin(i / 4000))) / rate;
      let s = 0;
      for (let h = 1; h <= 12; h++) s += Math.sin(h * phase) / h;
      audio[i] = 0.2 * Math.min(1, env) * s;
    }
    await writer.writeFile('aud.wav', writeWav([audio], rate));
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return { focal, torsoTop };
}
