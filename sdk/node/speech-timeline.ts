/**
 * The avatar worker's speech timeline: segments of speech (a file, or an agent's
 * lk.audio_stream) queued for playout at 48 kHz, their landmark frames computed as the audio
 * arrives (worker/landmarks/stream.ts, usually well ahead of playout since agents send TTS
 * faster than real time), and the face for any playout instant.
 *
 * Time is counted in output samples: `pull()` hands out the next 10 ms for the audio track
 * and advances the clock; a segment's place on that clock is fixed when its first sample is
 * pulled (silence fills the gaps between segments). The video loop asks `windowAt(sample)`
 * for the conditioning window of the instant the audio track is playing.
 */
import { StreamingResampler } from '../../worker/audio/resample.ts';
import type { LandmarkStats } from '../../worker/avatar/types.ts';
import { ConfigError } from '../../worker/errors.ts';
import { LANDMARK_DIM, LANDMARK_FPS, type LandmarkGenerator } from '../../worker/landmarks/model.ts';
import { LandmarkStream } from '../../worker/landmarks/stream.ts';

export const OUTPUT_RATE = 48000;
/** One audio frame of the published track. */
export const CHUNK_SAMPLES = OUTPUT_RATE / 100;
const SAMPLES_PER_LANDMARK = OUTPUT_RATE / LANDMARK_FPS;
/** An agent's segment longer than this is cut (bounds memory: 10 min of 48 kHz float). */
export const MAX_SEGMENT_SECONDS = 600;

export interface SegmentEvents {
  /** The first sample of segment `id` went to the audio track. */
  started(id: number): void;
  /** Segment `id` has been played to its end (interrupted: cut by clear()). */
  finished(id: number, playedSec: number, interrupted: boolean): void;
}

/** A recording resampled to the output rate with its landmark frames. */
export interface PreparedSegment {
  audio: Float32Array;
  landmarks: Float32Array;
  frames: number;
}

interface Segment {
  id: number;
  /** Queued output samples (48 kHz mono), appended as they arrive. */
  audio: Float32Array;
  length: number;
  landmarks: Float32Array;
  frames: number;
  ended: boolean;
  /** Output-clock sample where playout began, or -1 before. */
  start: number;
  /** Samples of this segment pulled so far. */
  played: number;
  resampler: StreamingResampler | null;
  stream: LandmarkStream;
}

export class SpeechTimeline {
  private readonly queue: Segment[] = [];
  /** Output samples handed out so far. */
  private clock = 0;
  private nextId = 1;
  /** Recently finished segments, kept for the frames still being rendered of their tail. */
  private readonly recent: Segment[] = [];

  constructor(
    private readonly generator: LandmarkGenerator,
    private readonly stats: LandmarkStats | null,
    private readonly window: number,
    private readonly events: SegmentEvents,
  ) {
    if (!Number.isInteger(window) || window < 1 || window % 2 !== 1 || window > 15) throw new ConfigError(`window: expected an odd integer in [1, 15], got ${window}`);
  }

  /** Output-clock position, samples (what the audio track has been handed). */
  get position(): number {
    return this.clock;
  }

  /** True while any segment is queued or playing. */
  get speaking(): boolean {
    return this.queue.length > 0;
  }

  /** Starts a segment; returns its id. Audio is appended with push() and closed with end(). */
  begin(): number {
    const s = this.newSegment(this.nextId++);
    this.queue.push(s);
    return s.id;
  }

  private newSegment(id: number): Segment {
    return { id, audio: new Float32Array(OUTPUT_RATE), length: 0, landmarks: new Float32Array(LANDMARK_DIM * 64), frames: 0, ended: false, start: -1, played: 0, resampler: null, stream: new LandmarkStream(this.generator, { stats: this.stats }) };
  }

  private segment(id: number): Segment {
    const s = this.queue.find((q) => q.id === id);
    if (!s) throw new ConfigError(`segment ${id}: not queued (cleared or finished)`);
    if (s.ended) throw new ConfigError(`segment ${id}: already ended`);
    return s;
  }

  /** Resamples and analyses a whole recording once, for enqueue() (a file spoken in a loop). */
  prepare(pcm: Float32Array, sampleRate: number): PreparedSegment {
    const s = this.newSegment(0);
    s.resampler = new StreamingResampler(sampleRate, OUTPUT_RATE);
    this.append(s, s.resampler.push(pcm));
    this.append(s, s.resampler.finish(), true);
    return { audio: s.audio.slice(0, s.length), landmarks: s.landmarks.slice(0, s.frames * LANDMARK_DIM), frames: s.frames };
  }

  /** Queues a prepared recording as a complete segment; returns its id. */
  enqueue(p: PreparedSegment): number {
    const s = this.newSegment(this.nextId++);
    s.audio = p.audio;
    s.length = p.audio.length;
    s.landmarks = p.landmarks;
    s.frames = p.frames;
    s.ended = true;
    this.queue.push(s);
    return s.id;
  }

  /** Appends mono float PCM at `sampleRate` to segment `id`. Returns false when the segment is gone (cleared). */
  push(id: number, pcm: Float32Array, sampleRate: number): boolean {
    const s = this.queue.find((q) => q.id === id);
    if (!s || s.ended) return false;
    if (s.resampler && s.resampler.inRate !== sampleRate) throw new ConfigError(`segment ${id}: sample rate changed from ${s.resampler.inRate} to ${sampleRate} Hz mid-segment`);
    s.resampler ??= new StreamingResampler(sampleRate, OUTPUT_RATE);
    this.append(s, s.resampler.push(pcm));
    return true;
  }

  /** Closes segment `id`: flushes the resampler and the landmark look-ahead. */
  end(id: number): void {
    const s = this.segment(id);
    if (s.resampler) this.append(s, s.resampler.finish(), true);
    else this.adoptFrames(s, s.stream.finish());
    s.ended = true;
  }

  private append(s: Segment, out: Float32Array, last = false): void {
    const room = Math.max(0, MAX_SEGMENT_SECONDS * OUTPUT_RATE - s.length);
    const add = out.length > room ? out.subarray(0, room) : out;
    if (s.length + add.length > s.audio.length) {
      const grown = new Float32Array(Math.max(s.audio.length * 2, s.length + add.length));
      grown.set(s.audio.subarray(0, s.length));
      s.audio = grown;
    }
    s.audio.set(add, s.length);
    s.length += add.length;
    this.adoptFrames(s, s.stream.push(add, OUTPUT_RATE));
    if (last) this.adoptFrames(s, s.stream.finish());
  }

  private adoptFrames(s: Segment, frames: { landmarks: Float32Array }[]): void {
    for (const f of frames) {
      if ((s.frames + 1) * LANDMARK_DIM > s.landmarks.length) {
        const grown = new Float32Array(s.landmarks.length * 2);
        grown.set(s.landmarks);
        s.landmarks = grown;
      }
      s.landmarks.set(f.landmarks, s.frames * LANDMARK_DIM);
      s.frames++;
    }
  }

  /**
   * The next `n` output samples (silence where nothing is queued, or while the playing
   * segment waits for audio that has not arrived), advancing the clock.
   */
  pull(n = CHUNK_SAMPLES): Float32Array {
    const out = new Float32Array(n);
    let filled = 0;
    while (filled < n) {
      const s = this.queue[0];
      if (!s) break;
      const avail = s.length - s.played;
      if (avail <= 0) {
        if (!s.ended) break; // starved: the agent is slower than real time; wait in silence
        this.finish(s);
        continue;
      }
      if (s.start < 0) {
        s.start = this.clock + filled;
        this.events.started(s.id);
      }
      const k = Math.min(avail, n - filled);
      out.set(s.audio.subarray(s.played, s.played + k), filled);
      s.played += k;
      filled += k;
    }
    // A segment that just ran out is reported on the next pull, once its end has been handed out.
    const head = this.queue[0];
    if (head && head.ended && head.played >= head.length && head.start >= 0) this.finish(head);
    this.clock += n;
    return out;
  }

  private finish(s: Segment): void {
    this.queue.splice(this.queue.indexOf(s), 1);
    this.recent.push(s);
    if (this.recent.length > 4) this.recent.shift();
    this.events.finished(s.id, s.played / OUTPUT_RATE, false);
  }

  /**
   * lk.clear_buffer: drops every queued segment; the playing one is reported interrupted.
   * `heardUpTo` (output-clock sample the listener has heard, default the clock) makes the
   * reported position what was heard: samples handed out but still queued for playout are
   * dropped with the segment, so they were never played.
   */
  clear(heardUpTo = this.clock): void {
    for (const s of this.queue.splice(0)) {
      const heard = s.start < 0 ? 0 : Math.min(s.played, Math.max(0, heardUpTo - s.start));
      this.events.finished(s.id, heard / OUTPUT_RATE, true);
    }
    // Cut short: its remaining landmarks must not be shown either.
    this.recent.length = 0;
  }

  /**
   * Where each queued segment starts on the output clock: its actual start once pulled, else
   * where it will start. The video loop renders the face up to a frame interval plus a render
   * ahead of the voice playing, which may lie beyond what has been pulled: a segment not yet
   * started begins right after what is queued before it has been handed out (silence only
   * fills a starved segment, so once every segment ahead has ended, their remaining samples go
   * out back to back from the clock). Behind a segment still streaming in, starts are unknown.
   */
  private projectedStarts(): (readonly [Segment, number])[] {
    const out: (readonly [Segment, number])[] = [];
    let next = this.clock;
    for (const s of this.queue) {
      const start = s.start >= 0 ? s.start : next;
      out.push([s, start] as const);
      if (!s.ended) break;
      next = s.start >= 0 ? this.clock + (s.length - s.played) : start + s.length;
    }
    return out;
  }

  /**
   * The conditioning window (window x 204, oldest first) for output sample `at`, or null
   * when no speech plays there (the face rests). Frames outside the segment are clamped to
   * its first and last landmark frame. Instants beyond the clock are answered from the
   * projected starts of queued segments.
   */
  windowAt(at: number): Float32Array | null {
    for (const [s, start] of [...this.projectedStarts(), ...this.recent.map((r) => [r, r.start] as const)]) {
      if (at < start) continue;
      const rel = at - start;
      // Landmarks exist for all audio received, so an instant ahead of the pull (the video
      // loop looks ahead by its render time and half a frame interval) is answered too.
      if (rel >= s.length) continue;
      if (s.frames === 0) return null;
      const centre = Math.floor(rel / SAMPLES_PER_LANDMARK);
      const half = Math.floor(this.window / 2);
      const out = new Float32Array(this.window * LANDMARK_DIM);
      for (let j = 0; j < this.window; j++) {
        const f = Math.max(0, Math.min(s.frames - 1, centre - half + j));
        out.set(s.landmarks.subarray(f * LANDMARK_DIM, (f + 1) * LANDMARK_DIM), j * LANDMARK_DIM);
      }
      return out;
    }
    return null;
  }
}

/** int16 little-endian PCM bytes (interleaved) -> mono float. Odd trailing bytes are carried by the caller. */
export function pcm16ToMono(bytes: Uint8Array, channels: number): Float32Array {
  if (!Number.isInteger(channels) || channels < 1 || channels > 8) throw new ConfigError(`num_channels: expected an integer in [1, 8], got ${channels}`);
  const frames = Math.floor(bytes.length / (2 * channels));
  const view = new DataView(bytes.buffer, bytes.byteOffset, frames * 2 * channels);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += view.getInt16((i * channels + c) * 2, true);
    out[i] = s / channels / 32768;
  }
  return out;
}
