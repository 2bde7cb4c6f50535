/**
 * R2TalkerAvatarSession (sdk/node/agents-avatar-session.ts) with the real @livekit/agents
 * framework: a real voice.AgentSession in a real room, started as the example tells an agent
 * to (examples/livekit-agent-avatar.ts). Its speech goes through agents' own
 * DataStreamAudioOutput to our `r2talker livekit-avatar` worker, and agents' own playback
 * events must come back from the worker: started, finished at the segment's length, and
 * interrupted by clearBuffer (lk.clear_buffer).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializeLogger, voice } from '@livekit/agents';
import { AudioFrame, Room, type RemoteParticipant } from '@livekit/rtc-node';
import { readWav } from '../../worker/io/wav.ts';
import { resample } from '../../worker/audio/resample.ts';
import { wearAvatar } from '../../examples/livekit-agent-avatar.ts';
import { R2TalkerAvatarSession } from '../../sdk/node/agents-avatar-session.ts';
import { API_KEY, API_SECRET, startLiveKitServer, type LiveKitServer } from './helpers/livekit-server.ts';
import { Viewer } from './helpers/livekit-viewer.ts';
import { makeSyllablesWav } from './helpers/onsets.ts';
import { RENDER_SIDE } from './helpers/reference.ts';

let server: LiveKitServer;
let dir: string;
let speech24k: Int16Array;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2t-lk-agents-'));
  const w = readWav(new Uint8Array(readFileSync(makeSyllablesWav(dir))));
  const pcm = resample(w.samples, w.sampleRate, 24000);
  speech24k = Int16Array.from(pcm, (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32767))));
  // The agents framework logs through a logger its CLI normally sets up.
  initializeLogger({ pretty: false, level: 'warn' });
  server = await startLiveKitServer();
}, 600_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Streams `seconds` of the speech as the agent's TTS would (10 ms frames, faster than real time), then ends the segment. */
async function speak(out: voice.AudioOutput, seconds: number): Promise<number> {
  const n = Math.min(speech24k.length, Math.round(seconds * 24000));
  for (let o = 0; o < n; o += 240) {
    const k = Math.min(240, n - o);
    await out.captureFrame(new AudioFrame(speech24k.slice(o, o + k), 24000, 1, k));
  }
  out.flush();
  return n / 24000;
}

describe('R2TalkerAvatarSession with @livekit/agents', () => {
  it('a real AgentSession wears the avatar: its speech plays on the worker with agents\' own playback events, and clearBuffer interrupts', async () => {
    const roomName = 'agents-avatar';
    const room = new Room();
    await room.connect(server.url, await server.token('agent', roomName), { autoSubscribe: false, dynacast: false });
    const viewer = await Viewer.join(server, roomName);
    const session = new voice.AgentSession({});
    const logs: string[] = [];
    process.env.LIVEKIT_URL = server.url;
    process.env.LIVEKIT_API_KEY = API_KEY;
    process.env.LIVEKIT_API_SECRET = API_SECRET;
    const avatar = await wearAvatar(session, room, 'builtin', ['--backend', 'cpu', '--render-side', String(RENDER_SIDE), '--no-idle']);
    try {
      expect(avatar).toBeInstanceOf(R2TalkerAvatarSession);
      expect(avatar).toBeInstanceOf(voice.AvatarSession);
      expect(avatar.provider).toBe('r2talker');
      expect(avatar.avatarIdentity).toBe('agent-avatar');
      avatar.process!.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
      await avatar.waitForJoin({ timeout: 180_000 });
      // The worker joined on the agent's behalf and publishes the face as a camera.
      const video = await viewer.track('agent-avatar', 'video');
      expect(video.source).toBe('camera');
      const worker = viewer.room.remoteParticipants.get('agent-avatar') as RemoteParticipant | undefined;
      expect(worker?.attributes['lk.publish_on_behalf']).toBe('agent');

      const out = session.output.audio!;
      expect(out).toBeInstanceOf(voice.DataStreamAudioOutput);
      const started: number[] = [];
      out.on(voice.AudioOutput.EVENT_PLAYBACK_STARTED, () => started.push(performance.now()));

      // Segment 1 plays to its end: agents hears so from the worker (lk.playback_finished).
      const len1 = await speak(out, 3);
      const done1 = await out.waitForPlayout();
      expect(done1.interrupted).toBe(false);
      expect(Math.abs(done1.playbackPosition - len1)).toBeLessThan(0.05);
      // Started came from the worker's lk.playback_started (waitPlaybackStart), before the end.
      expect(started.length).toBe(1);

      // Segment 2 is interrupted a second after it starts.
      const len2 = await speak(out, 12);
      const deadline = Date.now() + 20_000;
      while (started.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(started.length, logs.join('')).toBe(2);
      await new Promise((r) => setTimeout(r, 1000));
      out.clearBuffer();
      const done2 = await out.waitForPlayout();
      console.log(`[agents] segment 1: ${done1.playbackPosition.toFixed(2)} of ${len1.toFixed(2)} s; segment 2 interrupted at ${done2.playbackPosition.toFixed(2)} of ${len2.toFixed(2)} s`);
      expect(done2.interrupted).toBe(true);
      expect(done2.playbackPosition).toBeGreaterThan(0.3);
      expect(done2.playbackPosition).toBeLessThan(len2 - 2);
    } finally {
      const child = avatar.process;
      const exited = !child ? Promise.resolve<number | null>(null) : child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      await avatar.aclose();
      // The worker left cleanly on aclose(): the launcher relayed its exit code 0.
      expect(await exited, logs.join('')).toBe(0);
      expect(avatar.process).toBeNull();
      await viewer.leave();
      await room.disconnect();
    }
  }, 300_000);
});
