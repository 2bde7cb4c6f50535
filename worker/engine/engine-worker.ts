/**
 * Engine worker entry (dedicated worker of the engine iframe). Owns the frame hub, the
 * speech path and the sessions; the iframe drives it through comlink (protocol/engine-worker.ts).
 */
import * as Comlink from 'comlink';
import type { AvatarPayload, EngineOptions } from './protocol/engine-worker.ts';
import type { EngineStatus, EngineWorkerApi } from './protocol/engine-worker.ts';
import { isSessionRequest, type SessionRequest } from './protocol/session.ts';
import { FrameHub } from './frame-hub.ts';
import type { Clock, Timers } from './pacer.ts';
import { RemoteRenderer } from './remote-renderer.ts';
import { Session } from './session.ts';
import { createSources, type Sources } from './sources.ts';

const MAX_SESSIONS = 8;

const clock: Clock = { now: () => performance.now() };
const timers: Timers = {
  setTimeout: (cb, ms) => setTimeout(cb, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

type Described = Omit<Sources, 'renderer' | 'landmarks'>;

class Engine implements EngineWorkerApi {
  private options: EngineOptions = { avatarId: null, idleBlinks: true, idleHeadMotion: true, backend: 'auto', renderMaxSide: 256 };
  private avatar: AvatarPayload = { id: null, bytes: null, problem: null };
  private hub: FrameHub | null = null;
  private hubReady: Promise<FrameHub> | null = null;
  private described: Described | null = null;
  /** Bumped by every rebuild so a slow, superseded build is discarded. */
  private generation = 0;
  private sync: { lagMs: number; delayMs: number } | null = null;
  private lastAudioAt = -1;
  private readonly sessions = new Map<string, Session>();

  async setOptions(options: EngineOptions): Promise<EngineStatus> {
    const rebuild = options.backend !== this.options.backend || options.renderMaxSide !== this.options.renderMaxSide || options.quality !== this.options.quality || options.cpuThreads !== this.options.cpuThreads;
    this.options = { ...options };
    this.hub?.setOptions(this.options);
    if (rebuild) await this.rebuild();
    return this.status();
  }

  async setAvatar(avatar: AvatarPayload): Promise<EngineStatus> {
    const changed = avatar.id !== this.avatar.id || avatar.problem !== this.avatar.problem || (avatar.bytes?.byteLength ?? -1) !== (this.avatar.bytes?.byteLength ?? -1);
    this.avatar = { id: avatar.id, bytes: avatar.bytes, problem: avatar.problem, name: avatar.name ?? null };
    if (changed) await this.rebuild();
    return this.status();
  }

  /** Swaps in sources for the current avatar/options; sessions keep running on the old ones meanwhile. */
  private async rebuild(): Promise<void> {
    if (!this.hubReady) return; // built lazily on the first session
    const gen = ++this.generation;
    const sources = await createSources(this.options, this.avatar, clock);
    const hub = await this.hubReady;
    if (gen !== this.generation) {
      sources.renderer.destroy();
      sources.landmarks.destroy();
      return;
    }
    this.described = describe(sources);
    hub.setRenderer(sources.renderer, sources.landmarks);
  }

  private getHub(): Promise<FrameHub> {
    this.hubReady ??= createSources(this.options, this.avatar, clock).then((s) => {
      this.described = describe(s);
      this.hub = new FrameHub(s.renderer, s.landmarks, clock, timers, this.options);
      return this.hub;
    });
    return this.hubReady;
  }

  async openSession(sessionId: string, request: SessionRequest, port: MessagePort): Promise<void> {
    if (typeof sessionId !== 'string' || sessionId.length > 64) throw new TypeError('sessionId: expected a string of at most 64 characters');
    if (!isSessionRequest(request)) throw new TypeError('request: expected { width, height, frameRate, transport } within bounds');
    if (!(port instanceof MessagePort)) throw new TypeError('port: expected a MessagePort');
    if (this.sessions.has(sessionId)) throw new Error(`session ${sessionId} is already open`);
    if (this.sessions.size >= MAX_SESSIONS) {
      // An app that re-requests the camera without stopping old tracks must not exhaust us:
      // retire the oldest session (its track keeps its last frame) to admit the new one.
      const oldest = this.sessions.values().next().value;
      oldest?.close();
    }
    const hub = await this.getHub();
    const session = new Session(
      sessionId,
      port,
      request,
      hub,
      clock,
      timers,
      (id) => this.onSessionClosed(id),
      () => this.updateHub(),
      (lagMs, delayMs) => {
        this.sync = { lagMs, delayMs };
      },
      () => ({ avatar: this.described?.avatarName ?? null, problem: this.problem() }),
    );
    this.sessions.set(sessionId, session);
    this.updateHub();
  }

  async closeSession(sessionId: string): Promise<void> {
    this.sessions.get(sessionId)?.close();
  }

  private problem(): string | null {
    const parts: string[] = [];
    if (this.described?.problem) parts.push(this.described.problem);
    if (this.hub?.lastError) parts.push(`Renderer failed: ${this.hub.lastError.message}`);
    return parts.length > 0 ? parts.join(' ') : null;
  }

  async status(): Promise<EngineStatus> {
    // Chunks, not voice level: silence is a working mic, no chunks is a denied or ended one.
    for (const s of this.sessions.values()) this.lastAudioAt = Math.max(this.lastAudioAt, s.lastAudioAt);
    const r = this.hub?.rendererForTests;
    const gpuRecoveries = r instanceof RemoteRenderer ? await r.recoveries().catch(() => 0) : 0;
    const gpuBytes = r instanceof RemoteRenderer ? await r.gpuBytes().catch(() => 0) : 0;
    const qualityState = r instanceof RemoteRenderer ? ((await r.quality().catch(() => null)) ?? undefined) : undefined;
    return {
      quality: qualityState?.quality,
      qualityState,
      gpuRecoveries,
      gpuBytes,
      source: this.hub?.sourceName ?? 'none',
      avatar: this.described?.avatarName ?? null,
      adapter: this.described?.adapter ?? null,
      gpuProblem: this.described?.gpuProblem ?? null,
      problem: this.problem(),
      sessions: this.sessions.size,
      renderFps: this.hub?.renderRate() ?? 0,
      lagMs: this.sync?.lagMs ?? null,
      micDelayMs: this.sync?.delayMs ?? null,
      micIdleSec: this.lastAudioAt < 0 ? null : (clock.now() - this.lastAudioAt) / 1000,
    };
  }

  async loseDevice(): Promise<boolean> {
    const r = this.hub?.rendererForTests;
    return r instanceof RemoteRenderer ? r.loseDevice() : false;
  }

  private onSessionClosed(id: string): void {
    this.sessions.delete(id);
    this.updateHub();
  }

  private updateHub(): void {
    const hub = this.hub;
    if (!hub) return;
    if (this.sessions.size === 0) {
      void hub.stop();
      return;
    }
    let rate = 1;
    for (const s of this.sessions.values()) rate = Math.max(rate, s.frameRate);
    hub.setMaxRate(rate);
    hub.start();
  }
}

function describe(s: Sources): Described {
  return { problem: s.problem, avatarName: s.avatarName, adapter: s.adapter, gpuProblem: s.gpuProblem };
}

Comlink.expose(new Engine());
