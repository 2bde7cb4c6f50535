/**
 * Camera + microphone capture for the create page: MediaRecorder into a WebM, written to the
 * origin-private file system as it records (a 5-minute take never sits whole in memory), the
 * file committed only when the take ends (createWritable swaps in atomically on close), so a
 * crash leaves no half file under the final name.
 */

/** Picked in order: the first this browser's MediaRecorder supports. */
const MIME_TYPES = ['video/webm;codecs=vp9,opus', 'video/webm;codecs=vp8,opus', 'video/webm'];
/** About 4 Mbit/s: enough detail around the mouth at 720p for training, ~150 MB per 5 minutes. */
const VIDEO_BITS_PER_SECOND = 4_000_000;
const CHUNK_MS = 1000;
const RECORDINGS_DIR = 'recordings';

export function pickMimeType(isSupported: (t: string) => boolean): string {
  const t = MIME_TYPES.find((m) => isSupported(m));
  if (!t) throw new Error('This browser cannot record WebM video (MediaRecorder supports none of VP9, VP8).');
  return t;
}

/** Opens the chosen camera and microphone (ids from enumerateDevices; '' = the default). */
export async function openDevices(cameraId: string, micId: string): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({
    video: { deviceId: cameraId ? { exact: cameraId } : undefined, width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } },
    // The trainer wants the voice as it is: no processing that changes it from frame to frame.
    audio: { deviceId: micId ? { exact: micId } : undefined, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
}

async function recordingsDir(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(RECORDINGS_DIR, { create: true });
}

/** A stored recording by id, or null. */
export async function loadRecording(id: string): Promise<File | null> {
  try {
    const handle = await (await recordingsDir()).getFileHandle(`${id}.webm`);
    return await handle.getFile();
  } catch {
    return null;
  }
}

/** Stores an imported video under a new id (same atomic write as a recording). */
export async function storeVideo(file: Blob): Promise<string> {
  const id = `import-${Date.now().toString(36)}`;
  const handle = await (await recordingsDir()).getFileHandle(`${id}.webm`, { create: true });
  const w = await handle.createWritable();
  try {
    await file.stream().pipeTo(w);
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
  return id;
}

export class TakeRecorder {
  private recorder: MediaRecorder | null = null;
  private writable: FileSystemWritableFileStream | null = null;
  private writes: Promise<void> = Promise.resolve();
  private startedAt = 0;
  private failure: unknown = null;
  id = '';

  get recording(): boolean {
    return this.recorder?.state === 'recording';
  }

  get elapsedSec(): number {
    return this.recording ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  async start(stream: MediaStream): Promise<void> {
    if (this.recorder) throw new Error('already recording');
    const mimeType = pickMimeType((t) => MediaRecorder.isTypeSupported(t));
    this.id = `take-${Date.now().toString(36)}`;
    const handle = await (await recordingsDir()).getFileHandle(`${this.id}.webm`, { create: true });
    this.writable = await handle.createWritable();
    const recorder = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: VIDEO_BITS_PER_SECOND, audioBitsPerSecond: 128_000 });
    recorder.ondataavailable = (e) => {
      if (e.data.size === 0 || !this.writable) return;
      const w = this.writable;
      // In order, one at a time: the writable is a stream, chunks must not interleave.
      this.writes = this.writes.then(() => w.write(e.data)).catch((err: unknown) => {
        this.failure ??= err;
      });
    };
    this.recorder = recorder;
    recorder.start(CHUNK_MS);
    this.startedAt = performance.now();
  }

  /** Ends the take and commits the file; resolves with its id and length in seconds. */
  async stop(): Promise<{ id: string; seconds: number; bytes: number }> {
    const recorder = this.recorder;
    if (!recorder || !this.writable) throw new Error('not recording');
    const seconds = this.elapsedSec;
    await new Promise<void>((resolve) => {
      recorder.addEventListener('stop', () => resolve(), { once: true });
      recorder.stop();
    });
    await this.writes;
    const w = this.writable;
    this.recorder = null;
    this.writable = null;
    if (this.failure) {
      await w.abort().catch(() => undefined);
      const e = this.failure;
      this.failure = null;
      throw new Error(`The recording could not be saved: ${e instanceof Error ? e.message : String(e)}`);
    }
    await w.close();
    const file = await loadRecording(this.id);
    return { id: this.id, seconds, bytes: file?.size ?? 0 };
  }

  /** Drops a take in progress (page closing, device lost): nothing is committed. */
  async cancel(): Promise<void> {
    const r = this.recorder;
    this.recorder = null;
    if (r && r.state !== 'inactive') r.stop();
    await this.writable?.abort().catch(() => undefined);
    this.writable = null;
  }
}

export interface StoredTake {
  id: string;
  file: File;
}

/**
 * The takes kept from earlier visits, newest first. A take cut off by a closed tab never
 * committed, so its file is empty: those are removed here, the rest are the user's.
 */
export async function listRecordings(): Promise<StoredTake[]> {
  const dir = await recordingsDir();
  const out: StoredTake[] = [];
  for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (handle.kind !== 'file' || !name.endsWith('.webm')) continue;
    const file = await (handle as FileSystemFileHandle).getFile();
    if (file.size === 0) {
      await dir.removeEntry(name).catch(() => undefined);
      continue;
    }
    out.push({ id: name.slice(0, -'.webm'.length), file });
  }
  return out.sort((a, b) => b.file.lastModified - a.file.lastModified);
}

export async function deleteRecording(id: string): Promise<void> {
  await (await recordingsDir()).removeEntry(`${id}.webm`);
}
