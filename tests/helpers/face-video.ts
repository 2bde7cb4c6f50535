/**
 * Test videos with known ground truth: the astronaut photo (test-only fixture) textured onto
 * the canonical face, at poses from a trajectory, over a static background with a static
 * torso, as a FrameSource the preparation pipeline reads like any other.
 */
import { readFileSync } from 'node:fs';
import type { RgbFrame } from '../../worker/face/crop.ts';
import { mat3Mul, rodrigues, type Mat3 } from '../../worker/face/linalg.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';
import { FaceTracker, type FaceModels } from '../../worker/face/tracker.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import type { FrameSource } from '../../worker/prepare/pipeline.ts';
import { renderHead, testBackground, type TexturedMesh } from './face-render.ts';

const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);
const DEG = Math.PI / 180;

export function astronautPhoto(): RgbFrame {
  return decodeImage(readFileSync(new URL('../fixtures/prepare/astronaut.jpg', import.meta.url)));
}

/** The canonical face textured with the photo: each vertex takes the photo's pixel where the
 * mesh model puts that vertex. */
export function astronautHead(models: FaceModels): TexturedMesh {
  const photo = astronautPhoto();
  const mesh = new FaceTracker(models).track(photo).mesh;
  if (!mesh) throw new Error('no face in the astronaut fixture');
  const uv = new Float32Array(468 * 2);
  for (let i = 0; i < 468; i++) {
    uv[i * 2] = mesh.points[i * 3];
    uv[i * 2 + 1] = mesh.points[i * 3 + 1];
  }
  return { vertices: models.canonical.vertices, triangles: models.canonical.triangles, uv, texture: photo };
}

/** A slow, talking-head-like motion: yaw +-15, pitch +-6, roll +-4 degrees over `period` frames. */
export function gentlePose(i: number, period = 100): HeadPose {
  const s = (2 * Math.PI * i) / period;
  const R = mat3Mul(FLIP, mat3Mul(rodrigues([0, 15 * Math.sin(s) * DEG, 0]), mat3Mul(rodrigues([6 * Math.sin(2 * s + 1) * DEG, 0, 0]), rodrigues([0, 0, 4 * Math.sin(s + 2) * DEG]))));
  return { R, t: [1.5 * Math.sin(s), -2 + Math.cos(s), 50] };
}

/** The static background with a torso (a shirt-coloured trapezoid) under where the head sits. */
export function backgroundWithTorso(w: number, h: number): RgbFrame {
  const bg = testBackground(w, h);
  for (let y = Math.round(h * 0.72); y < h; y++) {
    const half = w * (0.2 + (0.25 * (y - h * 0.72)) / (h * 0.28));
    for (let x = Math.max(0, Math.round(w / 2 - half)); x < Math.min(w, Math.round(w / 2 + half)); x++) bg.rgb.set([40, 60, 110], (y * w + x) * 3);
  }
  return bg;
}

export interface VideoOptions {
  frames: number;
  width: number;
  height: number;
  focal: number;
  pose?: (i: number) => HeadPose;
  /** Extra heads (e.g. a second person) drawn at these poses. */
  extra?: ((i: number) => HeadPose)[];
  /** Replaces frame i entirely (e.g. blank frames). */
  override?: (i: number) => RgbFrame | null;
}

export function renderedVideo(head: TexturedMesh, o: VideoOptions): FrameSource {
  const bg = backgroundWithTorso(o.width, o.height);
  const pose = o.pose ?? ((i: number) => gentlePose(i));
  return {
    count: o.frames,
    fps: 25,
    read(i) {
      const custom = o.override?.(i);
      if (custom) return Promise.resolve(custom);
      let img = renderHead(head, pose(i), o.focal, bg);
      for (const p of o.extra ?? []) img = renderHead(head, p(i), o.focal, img);
      return Promise.resolve(img);
    },
  };
}
