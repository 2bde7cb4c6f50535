/**
 * Per-frame face tracking: BlazeFace finds the face on the first frame (and whenever the track
 * is lost, and every `redetectEvery` frames to notice a second person), then the face-mesh
 * model follows it from frame to frame using the previous mesh as its crop.
 */
import type { RgbFrame } from './crop.ts';
import { loadCanonicalFace, type CanonicalFace } from './canonical.ts';
import { detectFaces, type FaceDetection } from './detector.ts';
import { loadFaceGraphModel, useFaceWasm, type GraphModel } from './graph-model.ts';
import { runEyeLids } from './eyes.ts';
import { roiFromDetection, roiFromMesh, runFaceMesh, type FaceMesh } from './mesh.ts';
import { FACE_ASSETS, type FaceModelSource } from './model-source.ts';

export interface FaceModels {
  detector: GraphModel;
  mesh: GraphModel;
  /** The attention face mesh, for the eyelids (eyes.ts); null where it could not be loaded: the
   * face mesh's own lids are used then. */
  eyes: GraphModel | null;
  /** Person segmentation for the masks. */
  segmenter: GraphModel;
  canonical: CanonicalFace;
}

export async function loadFaceModels(source: FaceModelSource): Promise<FaceModels> {
  if (source.wasmLocation) useFaceWasm(source.wasmLocation, { threads: source.wasmThreads });
  const [detector, mesh, eyes, segmenter, canonical] = await Promise.all([
    loadFaceGraphModel(source, FACE_ASSETS.detector.pkg, FACE_ASSETS.detector.json),
    loadFaceGraphModel(source, FACE_ASSETS.mesh.pkg, FACE_ASSETS.mesh.json),
    // Optional: without it eye_ratio comes from the face mesh's lids (shallower blinks), which
    // is no reason to refuse a preparation (a build that left it out, a source that lacks it).
    loadFaceGraphModel(source, FACE_ASSETS.eyes.pkg, FACE_ASSETS.eyes.json).catch(() => null),
    loadFaceGraphModel(source, FACE_ASSETS.segmenter.pkg, FACE_ASSETS.segmenter.json),
    source.canonicalFace ? source.canonicalFace() : loadCanonicalFace(source),
  ]);
  return { detector, mesh, eyes, segmenter, canonical };
}

export interface TrackOptions {
  /** Detector score to count a face (default 0.5). */
  minDetectScore?: number;
  /** Mesh presence score below which the track is lost (default 0.5). */
  minMeshScore?: number;
  /** Run the detector every N frames even while tracking (default 25: once a second). */
  redetectEvery?: number;
}

export interface TrackResult {
  mesh: FaceMesh | null;
  /** The iBUG eye points 36-47 (12 x (x, y), frame pixels) from the attention model, found in
   * the crop of this frame's mesh; null without a mesh or without that model. */
  lids: Float32Array | null;
  /** Detections on this frame, or null when the detector did not run. */
  detections: FaceDetection[] | null;
}


export class FaceTracker {
  private prev: FaceMesh | null = null;
  private frameNo = 0;
  private readonly minDetect: number;
  private readonly minMesh: number;
  private readonly every: number;

  constructor(
    private readonly models: FaceModels,
    opts: TrackOptions = {},
  ) {
    this.minDetect = opts.minDetectScore ?? 0.5;
    this.minMesh = opts.minMeshScore ?? 0.5;
    this.every = Math.max(1, Math.floor(opts.redetectEvery ?? 25));
  }

  /** Forgets the track (e.g. after a cut). */
  reset(): void {
    this.prev = null;
  }

  track(frame: RgbFrame): TrackResult {
    const i = this.frameNo++;
    let detections: FaceDetection[] | null = null;
    if (this.prev) {
      const m = runFaceMesh(this.models.mesh, frame, roiFromMesh(this.prev.points));
      if (m.score >= this.minMesh) {
        this.prev = m;
        if (i % this.every === 0) detections = detectFaces(this.models.detector, frame, { minScore: this.minDetect });
        return { mesh: m, lids: this.lids(frame, m), detections };
      }
      this.prev = null;
    }
    detections = detectFaces(this.models.detector, frame, { minScore: this.minDetect });
    if (detections.length === 0) return { mesh: null, lids: null, detections };
    // The biggest face is the subject; `detections` still reports the others.
    const main = detections.reduce((a, b) => ((b.x1 - b.x0) * (b.y1 - b.y0) > (a.x1 - a.x0) * (a.y1 - a.y0) ? b : a));
    let m = runFaceMesh(this.models.mesh, frame, roiFromDetection(main));
    if (m.score < this.minMesh) return { mesh: null, lids: null, detections };
    // A second pass from the mesh's own crop: the detector's box is looser than the mesh's.
    const refined = runFaceMesh(this.models.mesh, frame, roiFromMesh(m.points));
    if (refined.score >= this.minMesh) m = refined;
    this.prev = m;
    return { mesh: m, lids: this.lids(frame, m), detections };
  }

  private lids(frame: RgbFrame, m: FaceMesh): Float32Array | null {
    return this.models.eyes ? runEyeLids(this.models.eyes, frame, roiFromMesh(m.points)) : null;
  }
}

