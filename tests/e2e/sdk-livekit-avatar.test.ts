/**
 * `r2talker livekit-avatar` (the Node avatar worker) in a real LiveKit room, as a separate
 * process exactly as a user runs it. An @livekit/rtc-node participant in the test is the far
 * end, and for the agent path also the agent: it streams speech segments as lk.audio_stream,
 * interrupts with lk.clear_buffer, and records the worker's lk.playback_* RPCs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Room, type RemoteParticipant } from '@livekit/rtc-node';
import { readWav } from '../../worker/io/wav.ts';
import { resample } from '../../worker/audio/resample.ts';
import { ROOT } from './helpers/browser.ts';
import { API_KEY, API_SECRET, startLiveKitServer, type LiveKitServer } from './helpers/livekit-server.ts';
import { startAvatarForAgent } from '../../examples/livekit-agent-avatar.ts';
import { AUDIO_PATH_MS } from '../../sdk/node/avatar-worker.ts';
import { Viewer } from './helpers/livekit-viewer.ts';
import { SYLLABLES, halfPeakOnsets, makeSyllablesWav, median, pairOffsets } from './helpers/onsets.ts';
import { RENDER_SIDE, holdResample, modelSignals, mouthBox, renderSteady, silenceFrame, upsample25 } from './helpers/reference.ts';
import { boxLuma, downscale, psnr } from './helpers/sdk-pixels.ts';

let server: LiveKitServer;
let dir: string;
let wav: string;
const children: ChildProcess[] = [];
const silenceRender = renderSteady(silenceFrame());
const mouth = mouthBox();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2t-lk-avatar-'));
  wav = makeSyllablesWav(dir);
  server = await startLiveKitServer();
}, 600_000);

afterAll(async () => {
  // A test that failed may leave a worker running: SIGTERM through its launcher (which passes
  // it on; SIGKILL would stop the launcher alone), SIGKILL only if that does not end it.
  await Promise.all(
    children
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map(async (c) => {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        if ((await Promise.race([gone, new Promise((r) => setTimeout(() => r('late'), 10_000))])) === 'late') c.kill('SIGKILL');
      }),
  );
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts the CLI worker; resolves once it says it joined. Its stderr is kept for failure messages. */
function startWorker(args: string[]): Promise<{ child: ChildProcess; log: () => string; exited: Promise<number | null> }> {
  // Through the launcher, as `npx r2talker` runs it: SIGTERM to it must reach the worker's
  // own handler (a clean leave, exit code 0 relayed).
  return watchWorker(spawn(process.execPath, [path.join(ROOT, 'bin/r2talker.js'), 'livekit-avatar', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function watchWorker(child: ChildProcess): Promise<{ child: ChildProcess; log: () => string; exited: Promise<number | null> }> {
  children.push(child);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 120_000;
  while (!/joined as /.test(text)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`livekit-avatar did not join:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, log: () => text, exited };
}

interface Recording {
  video: { t: number; luma: number; db: number }[];
  audio: [number, number][];
}

async function record(viewer: Viewer, identity: string): Promise<Recording> {
  const rec: Recording = { video: [], audio: [] };
  const v = await viewer.track(identity, 'video');
  const a = await viewer.track(identity, 'audio');
  expect(v.source).toBe('camera');
  expect(a.source).toBe('microphone');
  viewer.watchVideo(v.track, (t, rgba, w, h) => rec.video.push({ t, luma: boxLuma(rgba, w, h, mouth), db: psnr(downscale(rgba, w, h, RENDER_SIDE), silenceRender) }));
  viewer.watchAudio(a.track, (t, rms) => rec.audio.push([t, rms]));
  return rec;
}

const COMMON = ['--avatar', 'builtin', '--backend', 'cpu', '--render-side', String(RENDER_SIDE), '--no-idle'];

describe('r2talker livekit-avatar', () => {
  it('--audio --loop: the far end sees the avatar speak the file in sync, and the worker reports its figures', async (ctx) => {
    const room = 'worker-file';
    const viewer = await Viewer.join(server, room);
    const w = await startWorker(['--url', server.url, '--token', await server.token('avatar', room), '--audio', wav, '--loop', '--seconds', '60', ...COMMON]);
    try {
      const rec = await record(viewer, 'avatar');
      // The far end's first frames may be the encoder's black ones: wait for the avatar.
      await viewer.until('a still frame of the avatar (PSNR >= 25 dB)', () => rec.video.some((f) => f.db >= 25), 180_000);
      const period = SYLLABLES * 1.5;
      const from = performance.now();
      // At a few frames a second each mouth onset reaches the far end anywhere within a frame
      // interval (~+-170 ms at 3 fps): the median then needs about twice the onsets to be
      // resolved to the window, so slow renders record the file twice over.
      const early = (viewer.room.remoteParticipants.get('avatar') as RemoteParticipant | undefined)?.attributes ?? {};
      const slow = Number(early['r2talker.fps'] ?? 0) < 6;
      await new Promise((r) => setTimeout(r, Math.round(period * 1000 * (slow ? 3.1 : 1.6))));

      const best = Math.max(...rec.video.map((f) => f.db));
      const vids: [number, number][] = rec.video.filter((f) => f.t >= from).map((f) => [f.t, f.luma]);
      const auds = rec.audio.filter(([t]) => t >= from);
      const t0 = Math.max(vids[0]![0], auds[0]![0]);
      const n = Math.floor((Math.min(vids.at(-1)![0], auds.at(-1)![0]) - t0) / 10);
      const env = holdResample(auds, t0, n);
      const luma = holdResample(vids, t0, n);
      const base = median(luma);
      const opening = luma.map((x) => Math.max(0, base - x));
      const audioOn = halfPeakOnsets(env, Math.max(...env) * 0.05, 40, 30);
      const videoOn = halfPeakOnsets(opening, Math.max(...opening) * 0.1, 30, 60);
      const far = pairOffsets(audioOn, videoOn, 30, 60).map((x) => x * 10);
      const model = modelSignals(wav);
      const mOpen = upsample25(model.opening);
      const mBase = median(mOpen);
      const mOpening = mOpen.map((x) => Math.max(0, x - mBase));
      const own = pairOffsets(halfPeakOnsets(model.envelope, Math.max(...model.envelope) * 0.05, 40, 30), halfPeakOnsets(mOpening, Math.max(...mOpening) * 0.1, 30, 60), 30, 60).map((x) => x * 10);
      const offset = median(far) - median(own);
      const quiet = env.map((e, i) => [e, opening[i]!] as const).sort((x, y) => x[0] - y[0]).slice(0, Math.floor(env.length / 10));
      const attrs = (viewer.room.remoteParticipants.get('avatar') as RemoteParticipant | undefined)?.attributes ?? {};
      const fps = Number(attrs['r2talker.fps'] ?? 0);
      console.log(`[livekit-avatar] attributes ${JSON.stringify(attrs)}`);
      console.log(`[livekit-avatar] still-frame PSNR ${best.toFixed(1)} dB; ${audioOn.length} voice onsets, ${videoOn.length} mouth onsets, paired ${JSON.stringify(far)} ms; model ${JSON.stringify(own)}; pipeline offset ${offset} ms`);
      expect(best).toBeGreaterThanOrEqual(25);
      expect(attrs['r2talker.gpu']).toBe('cpu-reference');
      expect(Number(attrs['r2talker.render_ms'])).toBeGreaterThan(0);
      expect(fps).toBeGreaterThan(0);
      expect(attrs['r2talker.face_lead_ms']).toMatch(/^\d+$/);
      expect(attrs['r2talker.av_lag_ms']).toMatch(/^-?\d+$/);
      expect(audioOn.length).toBeGreaterThanOrEqual(SYLLABLES);
      // Between syllables the mouth rests (the quietest tenth of the voice shows a closed mouth).
      expect(median(quiet.map((q) => q[1]))).toBeLessThan(Math.max(2, Math.max(...opening) * 0.1));
      if (fps < 3) {
        console.log(`[livekit-avatar] inconclusive: ${fps} fps < 3; the machine is too loaded to resolve the sync window`);
        ctx.skip();
        return;
      }
      // Where the frame rate resolves syllables: the mouth opens with each, inside the sync window.
      expect(Math.max(...opening)).toBeGreaterThan(5);
      // Below 6 frames/s a frame spans more than a sixth of a second and a short "bah" can fall
      // between two frames: half the syllables must still open the mouth in the window there,
      // three quarters where frames come often enough to catch each one.
      expect(far.length).toBeGreaterThanOrEqual(Math.floor(audioOn.length * (fps >= 6 ? 0.75 : 0.5)));
      expect(offset).toBeLessThanOrEqual(45);
      expect(offset).toBeGreaterThanOrEqual(-125);
      // The worker reports its own A/V figures: how far ahead of the voice it renders the face
      // (render time + half the frame interval, so each frame is centred on its time on
      // screen, less the voice's extra path to the viewer), and the audio-to-face offset that
      // leaves it (network excluded), in the window. At 17 renders/s half an interval is under
      // that allowance, so the lead is not bounded by the render time alone.
      expect(Number(attrs['r2talker.face_lead_ms'])).toBeGreaterThanOrEqual(Number(attrs['r2talker.render_ms']) - AUDIO_PATH_MS);
      expect(Number(attrs['r2talker.av_lag_ms'])).toBeLessThanOrEqual(45);
      expect(Number(attrs['r2talker.av_lag_ms'])).toBeGreaterThanOrEqual(-125);
    } finally {
      w.child.kill('SIGTERM');
      const code = await w.exited;
      await viewer.leave();
      expect(code, w.log()).toBe(0);
      expect(w.log()).toMatch(/livekit-avatar: published \d+ frames \(64x64, cpu-reference\)/);
    }
  }, 300_000);

  it('agent protocol: segments play with playback_started/finished RPCs; lk.clear_buffer interrupts and the face stops talking', async () => {
    const roomName = 'worker-agent';
    const agent = new Room();
    const calls: { method: string; payload: string; at: number }[] = [];
    const viewer = await Viewer.join(server, roomName);
    await agent.connect(server.url, await server.token('agent', roomName), { autoSubscribe: false, dynacast: false });
    for (const method of ['lk.playback_started', 'lk.playback_finished']) {
      agent.localParticipant!.registerRpcMethod(method, async (d) => {
        calls.push({ method, payload: d.payload, at: performance.now() });
        return '';
      });
    }
    // Started the way examples/livekit-agent-avatar.ts tells a deployment to.
    const started = await startAvatarForAgent({ url: server.url, apiKey: API_KEY, apiSecret: API_SECRET, room: roomName, agentIdentity: 'agent', avatar: 'builtin', flags: COMMON.slice(2) }, 'avatar-worker');
    const w = await watchWorker(started.process);
    try {
      const rec = await record(viewer, 'avatar-worker');
      // The agent's speech: the syllables file at 24 kHz int16, as TTS plugins send it.
      const speech = readWav(new Uint8Array(readFileSync(wav)));
      const pcm24 = resample(speech.samples, speech.sampleRate, 24000);
      const int16 = new Int16Array(pcm24.length);
      for (let i = 0; i < pcm24.length; i++) int16[i] = Math.max(-32768, Math.min(32767, Math.round(pcm24[i]! * 32767)));
      const send = async (seconds: number) => {
        const writer = await agent.localParticipant!.streamBytes({ topic: 'lk.audio_stream', destinationIdentities: ['avatar-worker'], attributes: { sample_rate: '24000', num_channels: '1' } });
        const bytes = new Uint8Array(int16.buffer, 0, Math.min(int16.length, Math.round(seconds * 24000)) * 2);
        // Odd-sized chunks: samples split across chunks must survive.
        for (let o = 0; o < bytes.length; o += 9601) await writer.write(bytes.subarray(o, Math.min(bytes.length, o + 9601)));
        await writer.close();
        return bytes.length / 2 / 24000;
      };

      // The idle face, before any speech.
      // (The far end's first frames may be the encoder's black ones: only frames of the avatar count.)
      await viewer.until('idle frames of the avatar', () => rec.video.filter((f) => f.db >= 20).length >= 2, 120_000);
      const idle = rec.video.filter((f) => f.db >= 20);
      // Segment 1 plays to its end.
      const len1 = await send(3);
      await viewer.until('playback_finished of segment 1', () => calls.some((c) => c.method === 'lk.playback_finished'), 20_000);
      expect(calls.map((c) => c.method)).toEqual(['lk.playback_started', 'lk.playback_finished']);
      const done1 = JSON.parse(calls[1]!.payload) as { playback_position: number; interrupted: boolean };
      expect(done1.interrupted).toBe(false);
      expect(Math.abs(done1.playback_position - len1)).toBeLessThan(0.05);
      // It took real time to play: about its length after it started.
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThan(len1 * 1000 - 300);

      // Segment 2 is interrupted after ~3 s.
      const len2 = await send(12);
      await viewer.until('playback_started of segment 2', () => calls.filter((c) => c.method === 'lk.playback_started').length === 2, 10_000);
      await new Promise((r) => setTimeout(r, 3000));
      const beforeClear = performance.now();
      const speaking = rec.video.filter((f) => f.t > beforeClear - 3000 && f.t <= beforeClear);
      const reply = await agent.localParticipant!.performRpc({ destinationIdentity: 'avatar-worker', method: 'lk.clear_buffer', payload: '' });
      expect(reply).toBe('ok');
      await viewer.until('playback_finished of segment 2', () => calls.filter((c) => c.method === 'lk.playback_finished').length === 2, 10_000);
      const done2 = JSON.parse(calls.at(-1)!.payload) as { playback_position: number; interrupted: boolean };
      expect(done2.interrupted).toBe(true);
      // Cut mid-segment (how far it got depends on how fast this machine analyses the speech).
      expect(done2.playback_position).toBeGreaterThan(0.5);
      expect(done2.playback_position).toBeLessThan(len2 - 2);

      // After the interruption the face rests: frames rendered after clear_buffer show the
      // idle face the worker showed before any speech (mouth-box luma at its rest level).
      const attrs = (viewer.room.remoteParticipants.get('avatar-worker') as RemoteParticipant | undefined)?.attributes ?? {};
      const renderMs = Number(attrs['r2talker.render_ms'] ?? 0);
      const fps = Number(attrs['r2talker.fps'] ?? 0);
      const settle = beforeClear + renderMs + 600;
      await viewer.until('3 frames rendered after clear_buffer', () => rec.video.filter((f) => f.t > settle).length >= 3, 60_000);
      const after = rec.video.filter((f) => f.t > settle);
      const rest = median(idle.map((f) => f.luma));
      const openBefore = Math.max(...speaking.map((f) => rest - f.luma));
      const openAfter = Math.max(...after.map((f) => Math.abs(rest - f.luma)));
      console.log(`[livekit-avatar] agent path: ${fps} fps, render ${renderMs} ms; mouth opening ${openBefore.toFixed(1)} while speaking (${speaking.length} frames), ${openAfter.toFixed(1)} after clear_buffer (${after.length} frames); segment 2 stopped at ${done2.playback_position.toFixed(2)} s of ${len2.toFixed(2)} s`);
      expect(idle.length).toBeGreaterThan(0);
      // Within codec noise of the idle face (a few luma levels at this size and bitrate),
      // and far from the talking face.
      expect(openAfter).toBeLessThan(Math.max(4, openBefore * 0.2));
      // At a few frames a second a syllable may fall between two renders: the talking face is
      // only required where the frame rate can resolve it.
      if (fps >= 3) expect(openBefore).toBeGreaterThan(5);
      else console.log(`[livekit-avatar] mouth-while-speaking check inconclusive at ${fps} fps`);
      // And the voice stopped too.
      const audioAfter = rec.audio.filter(([t]) => t > beforeClear + 800).map(([, r]) => r);
      expect(Math.max(...audioAfter)).toBeLessThan(0.01);
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
      await agent.disconnect();
      await viewer.leave();
    }
  }, 300_000);

  it('refuses bad arguments with a specific message before joining', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(process.execPath, [path.join(ROOT, 'bin/r2talker.js'), 'livekit-avatar', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        c.once('exit', (code) => resolve({ code, err }));
      });
    const token = await server.token('x', 'r');
    expect((await run(['--url', 'http://x', '--token', token, '--avatar', 'builtin'])).err).toMatch(/--url: expected a ws:\/\/ or wss:\/\//);
    expect((await run(['--url', server.url, '--token', 'nope', '--avatar', 'builtin'])).err).toMatch(/--token: expected a LiveKit access token/);
    expect((await run(['--url', server.url, '--token', token, '--avatar', 'builtin', '--loop'])).err).toMatch(/--loop: only used with --audio/);
    expect((await run(['--url', server.url, '--token', token, '--avatar', 'builtin', '--fps', '0'])).err).toMatch(/--fps: expected an integer in \[1, 60\]/);
    const missing = await run(['--url', server.url, '--token', token, '--avatar', path.join(dir, 'none.r2t')]);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/none\.r2t/);
  }, 300_000);
});
