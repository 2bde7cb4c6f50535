/**
 * Bundled (esbuild) into the SDK test page: the SDK as an app would import it, livekit-client
 * and mediasoup-client, and a small driver the tests call through page.evaluate. Every
 * microphone the page opens is recorded so a test can see that stop() released it.
 */
import * as sdk from '../../../sdk/index.ts';
import * as livekit from 'livekit-client';
import * as mediasoup from 'mediasoup-client';
import * as fakeParameters from 'mediasoup-client/fakeParameters';
import * as example from '../../../examples/livekit-app.ts';
import * as mediasoupExample from '../../../examples/mediasoup-app.ts';
import * as standin from './sdk-mediasoup-standin.ts';

const opened: MediaStreamTrack[] = [];
const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (c?: MediaStreamConstraints) => {
  const s = await gum(c);
  opened.push(...s.getTracks());
  return s;
};

/** Summary of a track's state for assertions. */
function trackState(t: MediaStreamTrack | null | undefined): { readyState: string; kind: string } | null {
  return t ? { readyState: t.readyState, kind: t.kind } : null;
}

/** The video track's next frame as RGBA (base64), via MediaStreamTrackProcessor on a clone. */
async function grab(track: MediaStreamTrack): Promise<{ width: number; height: number; b64: string }> {
  const Processor = (globalThis as unknown as { MediaStreamTrackProcessor: new (o: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> } }).MediaStreamTrackProcessor;
  const clone = track.clone();
  const reader = new Processor({ track: clone }).readable.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  clone.stop();
  if (!value) throw new Error('no frame');
  const width = value.displayWidth;
  const height = value.displayHeight;
  const ctx = new OffscreenCanvas(width, height).getContext('2d')!;
  ctx.drawImage(value, 0, 0);
  value.close();
  const bytes = new Uint8Array(ctx.getImageData(0, 0, width, height).data.buffer);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { width, height, b64: btoa(bin) };
}

(window as unknown as Record<string, unknown>).t = { sdk, livekit, mediasoup, fakeParameters, example, mediasoupExample, standin, opened, trackState, grab };
