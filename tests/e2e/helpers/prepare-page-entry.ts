/**
 * Bundled (esbuild) and evaluated in an extension page by tests/e2e/prepare-recording.test.ts:
 * the page-side glue exactly as the create page imports it, plus a driver that returns plain
 * data for assertions. The heavy part runs in the extension's own built prepare-worker.js.
 */
import { prepareRecording, subjectsDirectory } from '../../../extension/prepare/prepare-recording.ts';
import type { PrepareRecordingOptions } from '../../../extension/prepare/prepare-recording.ts';
import { openRecording } from '../../../extension/prepare/recording-decoder.ts';

function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function listSubjects(): Promise<string[]> {
  const names: string[] = [];
  const dir = (await subjectsDirectory()) as FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, unknown]> };
  for await (const [n] of dir.entries()) names.push(n);
  return names.sort();
}

/** `seconds` of the fake camera and microphone recorded with MediaRecorder, as the create page
 * records: its WebM carries no duration, which the decoding side must find by itself. */
async function recordFakeCamera(seconds: number): Promise<string> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  const rec = new MediaRecorder(stream, { mimeType: 'video/webm;codecs=vp8,opus' });
  const chunks: Blob[] = [];
  rec.ondataavailable = (e) => chunks.push(e.data);
  const stopped = new Promise((r) => (rec.onstop = r));
  rec.start(250);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  rec.stop();
  await stopped;
  for (const t of stream.getTracks()) t.stop();
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** How the demuxer + WebCodecs route reads a recording: its report, duration, and the mean of its last picture. */
async function decodeCheck(b64: string) {
  const r = await openRecording(new Blob([fromBase64(b64) as Uint8Array<ArrayBuffer>]));
  try {
    const last = await r.grab(r.duration - 0.02);
    const pcm = await r.audio(16000);
    return { report: { ...r.report }, duration: r.duration, size: [r.width, r.height], lastMean: last.reduce((a, b) => a + b, 0) / last.length, audioSeconds: (pcm?.length ?? 0) / 16000 };
  } finally {
    r.close();
  }
}

const driver = {
  listSubjects,
  recordFakeCamera,
  decodeCheck,
  async prepare(b64: string, name: string, opts: Omit<PrepareRecordingOptions, 'signal' | 'onProgress'> & { cancelAtTrackFrame?: number }) {
    const stages: string[] = [];
    const ctl = new AbortController();
    try {
      const r = await prepareRecording(new Blob([fromBase64(b64) as Uint8Array<ArrayBuffer>], { type: 'video/webm' }), name, {
        ...opts,
        signal: ctl.signal,
        onProgress: (stage, done) => {
          if (!stages.includes(stage)) stages.push(stage);
          if (stage === 'track' && opts.cancelAtTrackFrame !== undefined && done >= opts.cancelAtTrackFrame) ctl.abort();
        },
      });
      const frames = ['train', 'val'].flatMap((s) => r.subject.splits[s as 'train' | 'val']?.frames.map((f) => ({ split: s, imgId: f.imgId, lms: Array.from(f.lms) })) ?? []);
      const bc = await r.subject.loadBackground();
      return { ok: true as const, report: r.report, frames, stages, size: [r.subject.width, r.subject.height], bcBytes: bc.data.length, root: r.files.root };
    } catch (e) {
      return { ok: false as const, error: (e as Error).message, code: (e as { code?: string }).code ?? null, stages };
    }
  },
};

(globalThis as unknown as { r2tPrepareTest: typeof driver }).r2tPrepareTest = driver;
