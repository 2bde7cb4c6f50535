/**
 * createTalkingHead: the extension's engine (engine worker + render worker, WebGPU with the
 * CPU fallback, the speech -> landmarks path) driven from an app's own page, giving it a
 * video track of the face and the voice delayed to match.
 *
 * The page plays the part the extension's shim plays: it owns one engine session (a
 * MessagePort the engine paces frames on), writes the frames to a track, feeds the voice to
 * the engine, and measures lip sync to set the voice delay.
 */
import * as Comlink from 'comlink';
import type { EngineStatus, EngineWorkerApi } from '../worker/engine/protocol/engine-worker.ts';
import { isEngineToShim, type EngineToShim, type SessionStats, type ShimToEngine } from '../worker/engine/protocol/session.ts';
import { readAvatar } from '../worker/avatar/reader.ts';
import { TalkingHeadError } from './errors.ts';
import { checkAvatar, checkSize, resolveOptions, type AvatarInput, type OutputSize, type ResolvedOptions, type TalkingHeadOptions } from './options.ts';
import { requireSupport, type VideoSinkKind } from './support.ts';
import { createVideoSink, type VideoSink } from './video-sink.ts';
import { VoicePath } from './voice.ts';
import { copyBytes } from '../worker/util/bytes.ts';

/** An avatar file larger than this is refused before it is read (the largest real ones are ~60 MB). */
const MAX_AVATAR_BYTES = 512 * 1024 * 1024;
/** The engine's first frame may take a render or two on the CPU path. */
const ENGINE_START_TIMEOUT_MS = 30_000;

export interface TalkingHeadStats extends SessionStats {
  /** Frames written to the video track (new / repeated pixels). */
  framesWritten: number;
  framesRepeated: number;
  /** Median measured audio -> face latency, ms (null before speech). */
  lagMs: number | null;
  /** Delay applied to `audioTrack`, ms. */
  audioDelayMs: number;
  videoSink: VideoSinkKind;
  /** WebGPU adapter in use, or null on the CPU path. */
  adapter: string | null;
  size: OutputSize;
  frameRate: number;
}

export interface TalkingHead {
  /** The face. Stays the same track across setAvatar and setOutputSize. */
  readonly videoTrack: MediaStreamTrack;
  /** The input voice, delayed so it leaves together with the face made from it. */
  readonly audioTrack: MediaStreamTrack;
  /** Switches the avatar in place: the tracks keep running, the next frames show the new face. */
  setAvatar(avatar: AvatarInput): Promise<void>;
  setOutputSize(size: OutputSize, frameRate?: number): void;
  stats(): TalkingHeadStats;
  /** The engine's own report (renderer, adapter, problems). */
  engineStatus(): Promise<EngineStatus>;
  /** Ends both tracks, the engine workers, the audio graph and a microphone it opened. Idempotent. */
  stop(): Promise<void>;
  readonly stopped: boolean;
}

async function avatarBytes(avatar: AvatarInput): Promise<ArrayBuffer | null> {
  if (avatar === null) return null;
  let bytes: ArrayBuffer;
  if (avatar instanceof ArrayBuffer) bytes = avatar;
  else if (avatar instanceof Uint8Array) bytes = copyBytes(avatar);
  else if (typeof Blob === 'function' && avatar instanceof Blob) {
    if (avatar.size > MAX_AVATAR_BYTES) throw new TalkingHeadError('AVATAR_INVALID', `avatar: ${avatar.size} bytes, more than the ${MAX_AVATAR_BYTES} allowed`, 'avatar');
    bytes = await avatar.arrayBuffer();
  } else {
    const url = String(avatar);
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new TalkingHeadError('AVATAR_INVALID', `avatar: could not fetch ${url} (${e instanceof Error ? e.message : String(e)})`, 'avatar', { cause: e });
    }
    if (!res.ok) throw new TalkingHeadError('AVATAR_INVALID', `avatar: fetching ${url} answered HTTP ${res.status}`, 'avatar');
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_AVATAR_BYTES) throw new TalkingHeadError('AVATAR_INVALID', `avatar: ${url} is ${declared} bytes, more than the ${MAX_AVATAR_BYTES} allowed`, 'avatar');
    bytes = await res.arrayBuffer();
  }
  if (bytes.byteLength > MAX_AVATAR_BYTES) throw new TalkingHeadError('AVATAR_INVALID', `avatar: ${bytes.byteLength} bytes, more than the ${MAX_AVATAR_BYTES} allowed`, 'avatar');
  // Read it here too: the engine would otherwise fall back to the built-in avatar and the app
  // would learn only from a status string that its file is broken.
  try {
    await readAvatar(new Uint8Array(bytes));
  } catch (e) {
    throw new TalkingHeadError('AVATAR_INVALID', `avatar: not a valid .r2t file (${e instanceof Error ? e.message : String(e)})`, 'avatar', { cause: e });
  }
  return bytes;
}

async function openMicrophone(constraints: MediaTrackConstraints | true): Promise<MediaStreamTrack> {
  if (!navigator.mediaDevices?.getUserMedia) throw new TalkingHeadError('UNSUPPORTED_BROWSER', 'navigator.mediaDevices.getUserMedia is missing (an insecure origin?)', 'getUserMedia');
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: constraints, video: false });
    const track = stream.getAudioTracks()[0];
    if (!track) throw new TalkingHeadError('MICROPHONE_UNAVAILABLE', 'getUserMedia returned no audio track');
    return track;
  } catch (e) {
    if (e instanceof TalkingHeadError) throw e;
    const name = e instanceof DOMException ? e.name : '';
    if (name === 'NotAllowedError' || name === 'SecurityError') throw new TalkingHeadError('MICROPHONE_DENIED', `The microphone was refused (${name}).`, 'microphone', { cause: e });
    throw new TalkingHeadError('MICROPHONE_UNAVAILABLE', `The microphone could not be opened (${name || String(e)}).`, 'microphone', { cause: e });
  }
}

class Head implements TalkingHead {
  private port: MessagePort | null = null;
  private engineStats: SessionStats = { renderFps: 0, renders: 0, sentFps: 0, dropped: 0, source: 'none', audioSeconds: 0, avatar: null, problem: null, landmarks: 'none' };
  private adapter: string | null = null;
  private avatarSeq = 0;
  stopped = false;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly worker: Worker,
    private readonly engine: Comlink.Remote<EngineWorkerApi>,
    private readonly sink: VideoSink,
    private readonly voice: VoicePath,
    private readonly ownedInput: MediaStreamTrack | null,
    private size: OutputSize,
    private frameRate: number,
  ) {}

  get videoTrack(): MediaStreamTrack {
    return this.sink.track;
  }

  get audioTrack(): MediaStreamTrack {
    return this.voice.output;
  }

  /** Opens the engine session and resolves on its first frame. */
  async open(): Promise<void> {
    const channel = new MessageChannel();
    this.port = channel.port1;
    const first = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TalkingHeadError('ENGINE_FAILED', `the engine sent no frame within ${ENGINE_START_TIMEOUT_MS} ms`)), ENGINE_START_TIMEOUT_MS);
      channel.port1.onmessage = (e: MessageEvent) => {
        if (!isEngineToShim(e.data)) return;
        if (e.data.kind === 'frame') {
          clearTimeout(timer);
          resolve();
        }
        this.onEngine(e.data);
      };
    });
    channel.port1.start();
    await this.engine.openSession('sdk', { width: this.size.width, height: this.size.height, frameRate: this.frameRate, transport: 'bitmap' }, Comlink.transfer(channel.port2, [channel.port2]));
    await first;
    this.adapter = (await this.engine.status()).adapter;
  }

  pushAudio(samples: Float32Array, sampleRate: number, timeSec: number): void {
    this.toEngine({ kind: 'audio', samples, sampleRate, timeSec }, [samples.buffer]);
  }

  private toEngine(msg: ShimToEngine, transfer: Transferable[] = []): void {
    if (!this.stopped) this.port?.postMessage(msg, transfer);
  }

  private onEngine(msg: EngineToShim): void {
    switch (msg.kind) {
      case 'frame': {
        if (msg.pixels.type !== 'bitmap') return this.toEngine({ kind: 'ack', seq: msg.seq });
        const ts = this.voice.nowUs();
        // A write can fail only when the track ended (stop(), or the app stopped it): the
        // frame is dropped, and the ack still frees the engine's in-flight slot.
        void this.sink
          .show(msg.pixels.bitmap, ts)
          .catch(() => undefined)
          .finally(() => this.toEngine({ kind: 'ack', seq: msg.seq }));
        if (msg.audioTimeSec !== null) this.voice.onContent(msg.audioTimeSec);
        return;
      }
      case 'repeat':
        void this.sink
          .repeat(this.voice.nowUs())
          .catch(() => false)
          .finally(() => this.toEngine({ kind: 'ack', seq: msg.seq }));
        return;
      case 'stats':
        this.engineStats = msg.stats;
        return;
      case 'error':
        this.engineStats = { ...this.engineStats, problem: msg.message };
        return;
    }
  }

  private live(): void {
    if (this.stopped) throw new TalkingHeadError('STOPPED', 'this talking head was stopped');
  }

  async setAvatar(avatar: AvatarInput): Promise<void> {
    this.live();
    const bytes = await avatarBytes(checkAvatar(avatar));
    this.live();
    const id = `sdk-avatar-${++this.avatarSeq}`;
    // The engine rebuilds its renderer while the session keeps sending the old face, so the
    // track never stalls; the swap lands on the next rendered frame.
    const status = await this.engine.setAvatar({ id, bytes, problem: null });
    this.adapter = status.adapter;
  }

  setOutputSize(size: OutputSize, frameRate: number = this.frameRate): void {
    this.live();
    const next = checkSize(size);
    if (!Number.isInteger(frameRate) || frameRate < 1 || frameRate > 60) throw new TalkingHeadError('INVALID_OPTION', `frameRate: expected an integer in [1, 60], got ${frameRate}`, 'frameRate');
    this.size = next;
    this.frameRate = frameRate;
    this.sink.resize(next);
    this.toEngine({ kind: 'configure', width: next.width, height: next.height, frameRate });
  }

  stats(): TalkingHeadStats {
    const sync = this.voice.sync();
    return {
      ...this.engineStats,
      framesWritten: this.sink.written,
      framesRepeated: this.sink.repeated,
      lagMs: sync.lagMs,
      audioDelayMs: sync.delayMs,
      videoSink: this.sink.kind,
      adapter: this.adapter,
      size: { ...this.size },
      frameRate: this.frameRate,
    };
  }

  engineStatus(): Promise<EngineStatus> {
    this.live();
    return this.engine.status();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.toEngine({ kind: 'close' });
    this.stopped = true;
    this.port?.close();
    this.port = null;
    this.sink.close();
    await this.voice.close();
    this.ownedInput?.stop();
    // The render worker lives inside the engine worker: terminating the engine ends both
    // and frees the GPU device with them.
    this.engine[Comlink.releaseProxy]();
    this.worker.terminate();
  }
}

/**
 * Starts the engine and resolves once the first frame is on `videoTrack`. Errors are
 * TalkingHeadErrors; nothing is left running when it rejects.
 */
export async function createTalkingHead(options: TalkingHeadOptions): Promise<TalkingHead> {
  const opts = resolveOptions(options);
  const sinkKind = requireSupport(opts.videoSink);
  const bytes = await avatarBytes(opts.avatar);

  const cleanup: (() => void | Promise<void>)[] = [];
  try {
    let input: MediaStreamTrack;
    let owned: MediaStreamTrack | null = null;
    if (opts.audio.kind === 'microphone') {
      input = owned = await openMicrophone(opts.audio.constraints);
      cleanup.push(() => owned?.stop());
    } else {
      input = opts.audio.track;
    }

    let worker: Worker;
    try {
      worker = new Worker(new URL('engine-worker.js', opts.engineUrl));
    } catch (e) {
      throw new TalkingHeadError('ENGINE_FAILED', `could not start ${new URL('engine-worker.js', opts.engineUrl).href} (${e instanceof Error ? e.message : String(e)})`, null, { cause: e });
    }
    cleanup.push(() => worker.terminate());
    const workerFailed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (e) => reject(new TalkingHeadError('ENGINE_FAILED', `the engine worker failed to load from ${opts.engineUrl.href} (${e.message || 'script error'})`)), { once: true });
    });
    const engine = Comlink.wrap<EngineWorkerApi>(worker);
    await Promise.race([
      (async () => {
        await engine.setAvatar({ id: 'sdk-avatar-0', bytes, problem: null });
        await engine.setOptions({ avatarId: 'sdk-avatar-0', idleBlinks: opts.idleBlinks, idleHeadMotion: opts.idleHeadMotion, backend: opts.backend, renderMaxSide: opts.renderMaxSide, quality: opts.quality });
      })(),
      workerFailed,
    ]);

    const sink = createVideoSink(sinkKind, opts.size, opts.frameRate);
    cleanup.push(() => sink.close());
    let head: Head | null = null;
    let voice: VoicePath;
    try {
      voice = await VoicePath.start(input, new URL('mic-tap.js', opts.engineUrl), opts.lipSyncOffsetMs, (s, rate, t) => head?.pushAudio(s, rate, t));
    } catch (e) {
      throw new TalkingHeadError('ENGINE_FAILED', `the audio path could not start (${e instanceof Error ? e.message : String(e)})`, null, { cause: e });
    }
    cleanup.push(() => voice.close());
    head = new Head(opts, worker, engine, sink, voice, owned, opts.size, opts.frameRate);
    await Promise.race([head.open(), workerFailed]);
    return head;
  } catch (e) {
    for (const f of cleanup.reverse()) await f();
    throw e instanceof TalkingHeadError ? e : new TalkingHeadError('ENGINE_FAILED', `the engine failed to start (${e instanceof Error ? e.message : String(e)})`, null, { cause: e });
  }
}
