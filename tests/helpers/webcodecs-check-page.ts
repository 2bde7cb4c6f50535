/** Test page (tests/unit/prepare-webcodecs.test.ts): a recording decoded by demuxer + WebCodecs and by <video>, side by side. */
import { BlobVideo, decodeAudioBlob } from '../../extension/prepare/video-blob.ts';
import { sniffContainer } from '../../worker/prepare/demux.ts';
import { demuxMp4 } from '../../worker/prepare/demux-mp4.ts';
import { demuxWebm } from '../../worker/prepare/demux-webm.ts';
import { decodeAudioTrack } from '../../worker/prepare/webcodecs-audio.ts';
import { WebCodecsVideo } from '../../worker/prepare/webcodecs-video.ts';

(globalThis as unknown as Record<string, unknown>).r2tCheck = async (b64: string, times: number[]) => {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  const r = sniffContainer(bytes) === 'mp4' ? demuxMp4(bytes) : demuxWebm(bytes);
  const wc = await WebCodecsVideo.open(r.video);
  if (!wc) throw new Error(`WebCodecs cannot decode ${r.video.codec}`);
  const blob = new Blob([bytes]);
  const el = await BlobVideo.open(blob);
  let maxDiff = 0;
  let meanDiff = 0;
  const shifted: number[] = [];
  const mad = (a: Uint8Array, b: Uint8Array) => {
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
    return sum / a.length;
  };
  for (const t of times) {
    const a = await wc.grab(t);
    const b = await el.grab(t);
    meanDiff = Math.max(meanDiff, mad(a, b));
  }
  // Mean green of each slot's picture on both routes (the fixture's frame N is flat grey 16 + 37N mod 200).
  const mean = (a: Uint8Array) => a.filter((_, i) => i % 3 === 1).reduce((x, y) => x + y, 0) / (a.length / 3);
  for (const t of times) shifted.push(mean(await wc.grab(t)));
  // Back to the start: the decoder restarts from the key frame.
  const again = await wc.grab(times[0]);
  const first = await el.grab(times[0]);
  for (let i = 0; i < again.length; i++) maxDiff = Math.max(maxDiff, Math.abs(again[i] - first[i]));
  const pcm = await decodeAudioTrack(r.audio!, 16000);
  const ref = await decodeAudioBlob(blob, 16000);
  let rms = 0;
  let err = 0;
  const n = Math.min(pcm!.length, ref!.length);
  for (let i = 0; i < n; i++) {
    rms += ref![i] ** 2;
    err += (pcm![i] - ref![i]) ** 2;
  }
  wc.close();
  el.close();
  return { greens: shifted, codec: r.video.codec, audioCodec: r.audio?.codec, duration: wc.durationSeconds, meanDiff, maxDiffRestart: maxDiff, audioLen: pcm!.length, refLen: ref!.length, audioRelErr: Math.sqrt(err / rms) };
};
