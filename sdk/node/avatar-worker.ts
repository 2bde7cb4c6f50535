/**
 * The LiveKit avatar worker (Node): joins a room with @livekit/rtc-node, renders the avatar
 * with the engine's AvatarRenderer (WebGPU through the `webgpu` package, or the CPU
 * reference), and publishes face and voice in sync.
 *
 * Speech comes from a file (`speech`) or, following the LiveKit Agents avatar protocol,
 * from an agent: one `lk.audio_stream` byte stream per segment (int16 PCM, `sample_rate`
 * and `num_channels` attributes; the stream's end is the segment's end), `lk.clear_buffer`
 * RPC to interrupt, and `lk.playback_started` / `lk.playback_finished`
 * ({playback_position, interrupted}) RPCs back to the agent.
 *
 * Sync: the audio loop hands 10 ms frames to an AudioSource whose small queue paces it in
 * real time; the video loop renders the face for the instant in the middle of the frame's
 * time on screen: the voice playing now, plus the measured render time (when the frame leaves),
 * plus half the measured frame interval (how long the viewer then sees it). See face-schedule.ts.
 */
import {
  AudioFrame,
  AudioSource,
  LocalAudioTrack,
  LocalVideoTrack,
  Room,
  RoomEvent,
  TrackPublishOptions,
  TrackSource,
  VideoBufferType,
  VideoFrame,
  VideoSource,
  type ByteStreamReader,
} from '@livekit/rtc-node';
import type { Avatar } from '../../worker/avatar/types.ts';
import { BlinkSchedule } from '../../worker/engine/blinks.ts';
import { ConfigError } from '../../worker/errors.ts';
import type { LandmarkGenerator } from '../../worker/landmarks/model.ts';
import { FaceSchedule } from './face-schedule.ts';
import { ThreadRenderer } from './thread-renderer.ts';
import { CHUNK_SAMPLES, OUTPUT_RATE, SpeechTimeline, pcm16ToMono, type PreparedSegment } from './speech-timeline.ts';

export const AUDIO_STREAM_TOPIC = 'lk.audio_stream';
export const RPC_CLEAR_BUFFER = 'lk.clear_buffer';
export const RPC_PLAYBACK_STARTED = 'lk.playback_started';
export const RPC_PLAYBACK_FINISHED = 'lk.playback_finished';

/**
 * Audio queued inside the AudioSource. Renders run on this thread (the CPU reference blocks
 * it for a whole frame), so the queue must outlast the slowest render; clear_buffer empties
 * it at once, so its length costs no interruption latency, and the video loop subtracts it
 * when it picks the instant to show.
 */
const AUDIO_QUEUE_MS = 500;
/**
 * The face is rendered at most this far ahead of the voice playing (render time + half a
 * frame interval: 1.5 s is a render of a second, where lip sync has long been lost anyway).
 * Speech not yet received shows as rest, so a larger lead would only show rest early.
 */
const MAX_FACE_LEAD_MS = 1500;
/**
 * The voice's extra path to a LiveKit viewer (see FaceSchedule.audioPathMs), calibrated on the
 * far end of tests/e2e/sdk-livekit-avatar.test.ts: with no allowance the mouth opened a median
 * 55-70 ms before the voice at 4.5-9.5 renders/s (render side 32), where half a frame
 * interval leaves the least room for error. 40 ms keeps the face a little early, the side the
 * lip-sync window (+45 / -125 ms) tolerates.
 */
export const AUDIO_PATH_MS = 40;
const STATS_EVERY_MS = 2000;

export interface AvatarWorkerOptions {
  url: string;
  token: string;
  avatar: Avatar;
  /** The hand-made test head of worker/avatar/synthetic.ts (its landmark statistics come from its reference track). */
  isDemo: boolean;
  generator: LandmarkGenerator;
  backend: 'auto' | 'cpu';
  /** Longest side rendered (integer downscale of the avatar's camera). */
  renderMaxSide: number;
  /** Upper bound of the published frame rate. */
  frameRate: number;
  /** Speak this (mono float) instead of waiting for an agent. */
  speech?: { samples: Float32Array; sampleRate: number; loop: boolean };
  idleBlinks?: boolean;
  idleHeadMotion?: boolean;
  log?: (line: string) => void;
}

export interface AvatarWorkerStats {
  /** Frames published per second over the last stats window. */
  fps: number;
  /** Median render time, ms. */
  renderMs: number;
  /**
   * Median audio-to-face offset a viewer sees, ms (positive: the face shows older speech than
   * the voice heard with it), counting the time each frame stays on screen; network excluded.
   */
  avLagMs: number | null;
  /** How far ahead of the voice playing each frame is rendered (render time + half the frame interval, capped), ms. */
  faceLeadMs: number;
  /** "webgpu (adapter)" or "cpu-reference". */
  gpu: string;
  width: number;
  height: number;
  framesPublished: number;
  segmentsStarted: number;
  segmentsFinished: number;
  interruptions: number;
}

export class LiveKitAvatarWorker {
  private running = true;
  private agent: string | null = null;
  private readonly schedule: FaceSchedule;
  private framesPublished = 0;
  private windowFrames = 0;
  private windowStart = performance.now();
  private lastStats: AvatarWorkerStats;
  private segmentsStarted = 0;
  private segmentsFinished = 0;
  private interruptions = 0;
  private fileSegment: number | null = null;
  private readonly loops: Promise<void>[] = [];
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  private constructor(
    private readonly opts: AvatarWorkerOptions,
    private readonly room: Room,
    private readonly renderer: ThreadRenderer,
    private readonly timeline: SpeechTimeline,
    private readonly audio: AudioSource,
    private readonly video: VideoSource,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.schedule = new FaceSchedule({ nominalIntervalMs: 1000 / opts.frameRate, maxLeadMs: MAX_FACE_LEAD_MS, audioPathMs: AUDIO_PATH_MS });
    const { width, height } = renderer.info;
    this.lastStats = { fps: 0, renderMs: 0, avLagMs: null, faceLeadMs: 0, gpu: this.gpuName, width, height, framesPublished: 0, segmentsStarted: 0, segmentsFinished: 0, interruptions: 0 };
  }

  private get gpuName(): string {
    return this.renderer.info.backend === 'webgpu' ? `webgpu (${this.renderer.info.adapter})` : 'cpu-reference';
  }

  static async start(opts: AvatarWorkerOptions): Promise<LiveKitAvatarWorker> {
    if (!/^wss?:\/\//.test(opts.url)) throw new ConfigError(`--url: expected a ws:// or wss:// LiveKit URL, got ${JSON.stringify(opts.url)}`);
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(opts.token)) throw new ConfigError('--token: expected a LiveKit access token (a JWT: three base64url parts)');
    if (!Number.isInteger(opts.frameRate) || opts.frameRate < 1 || opts.frameRate > 60) throw new ConfigError(`--fps: expected an integer in [1, 60], got ${opts.frameRate}`);
    const renderer = await ThreadRenderer.start({
      avatar: opts.avatar,
      isDemo: opts.isDemo,
      choice: { backend: opts.backend, maxSide: opts.renderMaxSide, cpuMaxSide: opts.renderMaxSide },
      webgpu: opts.backend === 'auto',
    });
    if (opts.backend === 'auto' && renderer.gpuNote) (opts.log ?? console.error)(`[livekit-avatar] WebGPU not used: ${renderer.gpuNote}`);
    const room = new Room();
    try {
      // Events must be wired before connect: a segment may be streamed the moment we join.
      let worker: LiveKitAvatarWorker | null = null;
      const timeline = new SpeechTimeline(opts.generator, renderer.info.stats, renderer.info.window, {
        started: (id) => worker?.onStarted(id),
        finished: (id, sec, interrupted) => worker?.onFinished(id, sec, interrupted),
      });
      const audio = new AudioSource(OUTPUT_RATE, 1, AUDIO_QUEUE_MS);
      const video = new VideoSource(renderer.info.width, renderer.info.height);
      worker = new LiveKitAvatarWorker(opts, room, renderer, timeline, audio, video);
      // Before joining: nobody waits on a silent participant while the file is analysed.
      if (opts.speech) worker.prepared = timeline.prepare(opts.speech.samples, opts.speech.sampleRate);
      worker.wireProtocol();
      await room.connect(opts.url, opts.token, { autoSubscribe: false, dynacast: false });
      worker.wireRpc();
      await worker.publish();
      worker.loops.push(worker.audioLoop(), worker.videoLoop(), worker.statsLoop());
      room.on(RoomEvent.Disconnected, () => void worker?.stop());
      return worker;
    } catch (e) {
      await renderer.destroy();
      await room.disconnect().catch(() => undefined);
      throw e;
    }
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`[livekit-avatar] ${line}`);
  }

  private async publish(): Promise<void> {
    const lp = this.room.localParticipant!;
    const videoTrack = LocalVideoTrack.createVideoTrack('r2talker-face', this.video);
    const audioTrack = LocalAudioTrack.createAudioTrack('r2talker-voice', this.audio);
    await lp.publishTrack(videoTrack, new TrackPublishOptions({ source: TrackSource.SOURCE_CAMERA, simulcast: false }));
    await lp.publishTrack(audioTrack, new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }));
    const { width, height } = this.renderer.info;
    this.log(`joined as ${lp.identity}; publishing ${width}x${height} up to ${this.opts.frameRate} fps rendered with ${this.gpuName}`);
    if (this.opts.speech) this.queueFile();
  }

  /** The file's audio and landmarks, computed once (seconds of CPU for a long file) and replayed for --loop. */
  private prepared: PreparedSegment | null = null;

  private queueFile(): void {
    const s = this.opts.speech!;
    this.prepared ??= this.timeline.prepare(s.samples, s.sampleRate);
    this.fileSegment = this.timeline.enqueue(this.prepared);
  }

  private wireProtocol(): void {
    this.room.registerByteStreamHandler(AUDIO_STREAM_TOPIC, (reader, participant) => {
      void this.readSegment(reader, participant.identity).catch((e: unknown) => this.log(`audio stream from ${participant.identity} failed: ${e instanceof Error ? e.message : String(e)}`));
    });
  }

  /** RPC methods live on the local participant, which exists only once connected. */
  private wireRpc(): void {
    this.room.localParticipant!.registerRpcMethod(RPC_CLEAR_BUFFER, async (data) => {
      this.agent ??= data.callerIdentity;
      this.interruptions++;
      this.interrupt();
      return 'ok';
    });
  }

  private async readSegment(reader: ByteStreamReader, identity: string): Promise<void> {
    this.agent = identity;
    const attrs = reader.info.attributes ?? {};
    const sampleRate = Number(attrs.sample_rate ?? 24000);
    const channels = Number(attrs.num_channels ?? 1);
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192000) throw new ConfigError(`lk.audio_stream: sample_rate attribute ${JSON.stringify(attrs.sample_rate)} is not a rate in [8000, 192000]`);
    if (!Number.isInteger(channels) || channels < 1 || channels > 8) throw new ConfigError(`lk.audio_stream: num_channels attribute ${JSON.stringify(attrs.num_channels)} is not in [1, 8]`);
    const id = this.timeline.begin();
    let carry = new Uint8Array(0);
    const frameBytes = 2 * channels;
    for await (const chunk of reader) {
      // Chunks may split a sample: keep the partial frame for the next chunk.
      const joined = new Uint8Array(carry.length + chunk.length);
      joined.set(carry);
      joined.set(chunk, carry.length);
      const whole = joined.length - (joined.length % frameBytes);
      carry = joined.slice(whole);
      if (!this.timeline.push(id, pcm16ToMono(joined.subarray(0, whole), channels), sampleRate)) return; // cleared meanwhile
      // Landmarks are computed here, on the main thread, and an agent sends its TTS in bursts
      // far faster than real time (agents' DataStreamAudioOutput: one chunk per 10 ms frame)
      // that the stream hands over without returning to the event loop: yield after each
      // chunk so the audio loop, RPCs (lk.clear_buffer) and timers keep running meanwhile.
      await new Promise((r) => setImmediate(r));
    }
    try {
      this.timeline.end(id);
    } catch {
      // Cleared while the stream was finishing: nothing to end.
    }
  }

  /**
   * Playback reports wait until the listener hears what they report: a segment's first and
   * last samples leave the timeline an audio queue (AUDIO_QUEUE_MS) before they are played.
   * Reports not yet sent, by segment.
   */
  private readonly reports = new Map<number, { started?: NodeJS.Timeout; finished?: { timer: NodeJS.Timeout; playedSec: number; endSample: number } }>();

  private report(id: number): { started?: NodeJS.Timeout; finished?: { timer: NodeJS.Timeout; playedSec: number; endSample: number } } {
    let r = this.reports.get(id);
    if (!r) this.reports.set(id, (r = {}));
    return r;
  }

  /** Sends a pending started report now (a segment cut before it was heard still started). */
  private startedNow(id: number): void {
    const r = this.reports.get(id);
    if (r?.started) {
      clearTimeout(r.started);
      r.started = undefined;
      this.rpc(RPC_PLAYBACK_STARTED, '');
    }
  }

  private finishedNow(id: number, playbackPosition: number, interrupted: boolean): void {
    this.startedNow(id);
    this.reports.delete(id);
    this.rpc(RPC_PLAYBACK_FINISHED, JSON.stringify({ playback_position: playbackPosition, interrupted }));
  }

  private onStarted(id: number): void {
    this.segmentsStarted++;
    if (!this.agent || id === this.fileSegment) return;
    const r = this.report(id);
    r.started = setTimeout(() => this.startedNow(id), this.audio.queuedDuration);
  }

  private onFinished(id: number, playedSec: number, interrupted: boolean): void {
    this.segmentsFinished++;
    if (id === this.fileSegment) {
      this.fileSegment = null;
      if (this.opts.speech?.loop && this.running && !interrupted) this.queueFile();
      return;
    }
    if (!this.agent) return;
    // Interrupted: the timeline already counted only what was heard (clear(heardUpTo)).
    if (interrupted) return this.finishedNow(id, playedSec, true);
    const r = this.report(id);
    r.finished = { timer: setTimeout(() => this.finishedNow(id, playedSec, false), this.audio.queuedDuration), playedSec, endSample: this.timeline.position };
  }

  /** lk.clear_buffer: the voice stops now; every report says how much of its segment was heard. */
  private interrupt(): void {
    const heard = this.playingSample();
    // Segments handed out to their end whose tail still waits in the audio queue: cut too.
    for (const [id, r] of [...this.reports]) {
      if (!r.finished) continue;
      clearTimeout(r.finished.timer);
      const unheardSec = Math.max(0, (r.finished.endSample - heard) / OUTPUT_RATE);
      this.finishedNow(id, Math.max(0, r.finished.playedSec - unheardSec), unheardSec > 0.01);
    }
    this.timeline.clear(heard);
    this.audio.clearQueue();
  }

  private rpc(method: string, payload: string): void {
    const agent = this.agent;
    if (!agent || !this.room.localParticipant) return;
    this.room.localParticipant.performRpc({ destinationIdentity: agent, method, payload, responseTimeout: 5000 }).catch((e: unknown) => {
      this.log(`${method} to ${agent} failed: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  private async audioLoop(): Promise<void> {
    const pcm = new Int16Array(CHUNK_SAMPLES);
    while (this.running) {
      const chunk = this.timeline.pull(CHUNK_SAMPLES);
      for (let i = 0; i < chunk.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(chunk[i]! * 32767)));
      // Resolves once the source's queue has room: this is what paces the loop in real time.
      await this.audio.captureFrame(new AudioFrame(pcm.slice(), OUTPUT_RATE, 1, CHUNK_SAMPLES)).catch(() => undefined);
    }
  }

  /** Output sample the far end hears now: what was handed out minus what still waits in the queue. */
  private playingSample(): number {
    return this.timeline.position - Math.round((this.audio.queuedDuration * OUTPUT_RATE) / 1000);
  }

  private async videoLoop(): Promise<void> {
    const interval = 1000 / this.opts.frameRate;
    const blinks = new BlinkSchedule(1);
    const t0 = performance.now();
    const { width, height } = this.renderer.info;
    while (this.running) {
      const start = performance.now();
      const target = this.playingSample() + Math.round((this.schedule.leadMs() * OUTPUT_RATE) / 1000);
      const elapsed = start - t0;
      const poseIndex = this.opts.idleHeadMotion === false ? 0 : Math.floor((elapsed / 1000) * 25);
      const eye = this.opts.idleBlinks === false ? null : blinks.valueAt(elapsed);
      let frame;
      try {
        frame = await this.renderer.render({ timestampUs: Math.round(elapsed * 1000), landmarks: this.timeline.windowAt(target), poseIndex, eye, audioLevel: 0 });
      } catch (e) {
        if (!this.running) return;
        this.log(`render failed: ${e instanceof Error ? e.message : String(e)}`);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (!this.running) return;
      const rgba = new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
      const publishedAt = performance.now();
      this.video.captureFrame(new VideoFrame(rgba, width, height, VideoBufferType.RGBA), BigInt(Math.round((publishedAt - t0) * 1000)));
      this.framesPublished++;
      this.windowFrames++;
      this.schedule.published(start, publishedAt, (target * 1000) / OUTPUT_RATE, (this.playingSample() * 1000) / OUTPUT_RATE);
      // Always yield to the event loop: a CPU render resolves without one, and a loop of
      // renders slower than the frame interval would otherwise starve the audio, RPCs and timers.
      const wait = interval - (performance.now() - start);
      await new Promise((r) => (wait > 1 ? setTimeout(r, wait) : setImmediate(r)));
    }
  }

  private async statsLoop(): Promise<void> {
    while (this.running) {
      await new Promise((r) => setTimeout(r, STATS_EVERY_MS));
      if (!this.running) return;
      const now = performance.now();
      const fps = (this.windowFrames * 1000) / (now - this.windowStart);
      this.windowFrames = 0;
      this.windowStart = now;
      const { width, height } = this.renderer.info;
      this.lastStats = {
        fps,
        renderMs: this.schedule.renderMs(),
        avLagMs: this.schedule.offsetMs(),
        faceLeadMs: this.schedule.leadMs(),
        gpu: this.gpuName,
        width,
        height,
        framesPublished: this.framesPublished,
        segmentsStarted: this.segmentsStarted,
        segmentsFinished: this.segmentsFinished,
        interruptions: this.interruptions,
      };
      const s = this.lastStats;
      this.log(`${s.fps.toFixed(1)} fps, render ${s.renderMs.toFixed(0)} ms, face rendered ${s.faceLeadMs.toFixed(0)} ms ahead of the voice, audio-to-face ${s.avLagMs === null ? 'n/a' : `${s.avLagMs.toFixed(0)} ms`}, ${s.gpu}`);
      await this.room.localParticipant
        ?.setAttributes({
          'r2talker.fps': s.fps.toFixed(1),
          'r2talker.render_ms': s.renderMs.toFixed(0),
          'r2talker.av_lag_ms': s.avLagMs === null ? '' : s.avLagMs.toFixed(0),
          'r2talker.face_lead_ms': s.faceLeadMs.toFixed(0),
          'r2talker.gpu': s.gpu,
        })
        .catch(() => undefined);
    }
  }

  stats(): AvatarWorkerStats {
    return { ...this.lastStats, framesPublished: this.framesPublished, segmentsStarted: this.segmentsStarted, segmentsFinished: this.segmentsFinished, interruptions: this.interruptions };
  }

  /** Leaves the room and frees the renderer. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return this.done;
    this.running = false;
    for (const r of this.reports.values()) {
      clearTimeout(r.started);
      clearTimeout(r.finished?.timer);
    }
    this.reports.clear();
    this.audio.clearQueue();
    await Promise.race([Promise.allSettled(this.loops), new Promise((r) => setTimeout(r, 3000))]);
    await this.room.disconnect().catch(() => undefined);
    await this.audio.close().catch(() => undefined);
    await this.renderer.destroy();
    this.resolveDone();
    return this.done;
  }
}
