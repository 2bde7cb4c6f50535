/**
 * The R2 Talker avatar for LiveKit Agents (Node), the way the hosted avatar plugins plug in:
 *
 *     const avatar = new R2TalkerAvatarSession({ avatar: 'me.r2t' });
 *     await avatar.start(session, ctx.room);   // before session.start()
 *
 * start() launches a self-hosted `r2talker livekit-avatar` worker for the room (its own
 * process: rendering never competes with the agent's event loop) with a token that lets it
 * publish on the agent's behalf, and routes the agent's speech to it over the avatar protocol
 * (agents' DataStreamAudioOutput: lk.audio_stream out, lk.playback_* RPCs back). aclose()
 * (also run at job shutdown) stops the worker.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { voice } from '@livekit/agents';
import { TrackKind, type Room } from '@livekit/rtc-node';
import { ConfigError } from '../../worker/errors.ts';
import { spawnAvatarWorker } from './worker-process.ts';

export interface R2TalkerAvatarOptions {
  /** The .r2t file, or "builtin". */
  avatar: string;
  /** LiveKit server URL and API credentials; default LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET. */
  url?: string;
  apiKey?: string;
  apiSecret?: string;
  /** The worker's participant identity (default `<agent identity>-avatar`). */
  identity?: string;
  /** Extra `livekit-avatar` flags (--backend, --render-side, --fps, ...). */
  flags?: string[];
  /** Sample rate the agent's speech is streamed at (default 24 kHz, what TTS plugins produce). */
  sampleRate?: number;
  /** Called with each line the worker logs (default: dropped). */
  onLog?: (line: string) => void;
}

/**
 * SIGKILL for a worker that ignored SIGTERM. The launcher runs the worker in a process group of
 * its own (bin/r2talker.js), led by the launcher's one child; killing the launcher alone would
 * orphan it, so that group goes first (Linux lists a process's children in /proc).
 */
function killWorkerGroup(launcher: ChildProcess): void {
  try {
    const kids = readFileSync(`/proc/${launcher.pid}/task/${launcher.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const k of kids) process.kill(-Number(k), 'SIGKILL');
  } catch {
    // Not Linux, or already gone: the launcher is all there is to kill.
  }
  launcher.kill('SIGKILL');
}

/** How long aclose() waits for the worker to leave after SIGTERM before killing it. */
const STOP_GRACE_MS = 10_000;

export class R2TalkerAvatarSession extends voice.AvatarSession {
  private worker: ChildProcess | null = null;
  private identity: string | null = null;

  constructor(private readonly opts: R2TalkerAvatarOptions) {
    super();
    if (typeof opts?.avatar !== 'string' || opts.avatar.length === 0) throw new ConfigError('avatar: expected an .r2t path or "builtin"');
    if (opts.sampleRate !== undefined && (!Number.isInteger(opts.sampleRate) || opts.sampleRate < 8000 || opts.sampleRate > 48000)) {
      throw new ConfigError(`sampleRate: expected an integer in [8000, 48000], got ${opts.sampleRate}`);
    }
  }

  override get avatarIdentity(): string {
    return this.identity ?? 'unknown';
  }

  override get provider(): string {
    return 'r2talker';
  }

  /** The worker process (null before start() and after aclose()). */
  get process(): ChildProcess | null {
    return this.worker;
  }

  override async start(agentSession: voice.AgentSession, room: Room): Promise<void> {
    const url = this.opts.url ?? process.env.LIVEKIT_URL;
    const apiKey = this.opts.apiKey ?? process.env.LIVEKIT_API_KEY;
    const apiSecret = this.opts.apiSecret ?? process.env.LIVEKIT_API_SECRET;
    if (!url || !apiKey || !apiSecret) throw new ConfigError('R2TalkerAvatarSession: url, apiKey and apiSecret (or LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET) are required');
    const agentIdentity = room.localParticipant?.identity;
    if (!room.name || !agentIdentity) throw new ConfigError('R2TalkerAvatarSession.start: the room must be connected (its name and the agent identity name the worker)');
    if (this.worker) throw new ConfigError('R2TalkerAvatarSession.start: already started');
    // Identity first: the base class waits for the avatar participant by it.
    this.identity = this.opts.identity ?? `${agentIdentity}-avatar`;
    await super.start(agentSession, room);
    const child = await spawnAvatarWorker({ url, apiKey, apiSecret, room: room.name, agentIdentity, identity: this.identity, avatar: this.opts.avatar, flags: this.opts.flags });
    this.worker = child;
    const onLog = this.opts.onLog;
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => onLog?.(d.toString()));
    child.once('exit', () => {
      if (this.worker === child) this.worker = null;
    });
    agentSession.output.audio = new voice.DataStreamAudioOutput({
      room,
      destinationIdentity: this.identity,
      sampleRate: this.opts.sampleRate ?? 24000,
      // Speech waits until the face is published, and "started" is the worker's own report.
      waitRemoteTrack: TrackKind.KIND_VIDEO,
      waitPlaybackStart: true,
    });
  }

  override async aclose(): Promise<void> {
    const child = this.worker;
    this.worker = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), STOP_GRACE_MS))]);
      if (late) killWorkerGroup(child);
    }
    await super.aclose();
  }
}
