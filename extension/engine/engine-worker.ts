/**
 * Engine worker entry (dedicated worker of the engine iframe). Owns the frame hub and the
 * sessions; the iframe drives it through comlink (protocol/engine-worker.ts).
 */
import * as Comlink from 'comlink';
import type { EngineOptions } from '../protocol/bridge-engine.ts';
import type { EngineStatus, EngineWorkerApi } from '../protocol/engine-worker.ts';
import { isSessionRequest, type SessionRequest } from '../protocol/shim-bridge.ts';
import { FrameHub } from './frame-hub.ts';
import type { Clock, Timers } from './pacer.ts';
import { Session } from './session.ts';
import { createSources } from './sources.ts';

const MAX_SESSIONS = 8;

const clock: Clock = { now: () => performance.now() };
const timers: Timers = {
  setTimeout: (cb, ms) => setTimeout(cb, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

class Engine implements EngineWorkerApi {
  private options: EngineOptions = { avatarId: null, idleBlinks: true, idleHeadMotion: true };
  private hub: FrameHub | null = null;
  private hubReady: Promise<FrameHub> | null = null;
  private problem: string | null = null;
  private readonly sessions = new Map<string, Session>();

  async setOptions(options: EngineOptions): Promise<EngineStatus> {
    const avatarChanged = options.avatarId !== this.options.avatarId;
    this.options = { ...options };
    if (this.hub) {
      this.hub.setOptions(this.options);
      if (avatarChanged) {
        const sources = await createSources(this.options);
        this.problem = sources.problem;
        sources.landmarks.destroy();
        this.hub.setRenderer(sources.renderer);
      }
    }
    return this.status();
  }

  private getHub(): Promise<FrameHub> {
    this.hubReady ??= createSources(this.options).then((s) => {
      this.problem = s.problem;
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
    );
    this.sessions.set(sessionId, session);
    this.updateHub();
  }

  async closeSession(sessionId: string): Promise<void> {
    this.sessions.get(sessionId)?.close();
  }

  async status(): Promise<EngineStatus> {
    return {
      source: this.hub?.sourceName ?? 'none',
      problem: this.hub?.lastError ? `Renderer failed: ${this.hub.lastError.message}` : this.problem,
      sessions: this.sessions.size,
    };
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

Comlink.expose(new Engine());
