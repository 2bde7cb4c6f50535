/**
 * The avatar worker's speech timeline: segment playout on the output clock, the agent
 * protocol's events (started on the first sample out, finished with the position reached,
 * interrupted by clear), and which face each playout instant gets.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_SAMPLES, OUTPUT_RATE, SpeechTimeline, pcm16ToMono } from '../../sdk/node/speech-timeline.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import type { LandmarkGenerator } from '../../worker/landmarks/model.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let generator: LandmarkGenerator;

beforeAll(() => {
  generator = generatorFromOnnx(new Uint8Array(readFileSync(path.join(ROOT, 'assets/generator/default.onnx'))));
});

/** A 220 Hz tone, `seconds` long, at `rate`. */
function tone(seconds: number, rate: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate);
  return x;
}

/** The tone switched on and off every 120 ms: a face that changes over the segment. */
function bursts(seconds: number, rate: number): Float32Array {
  const x = tone(seconds, rate);
  for (let i = 0; i < x.length; i++) if (Math.floor(i / (0.12 * rate)) % 2 === 1) x[i] = 0;
  return x;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function timeline(): { tl: SpeechTimeline; events: string[] } {
  const events: string[] = [];
  const tl = new SpeechTimeline(generator, null, 5, {
    started: (id) => events.push(`started ${id}`),
    finished: (id, sec, interrupted) => events.push(`finished ${id} ${sec.toFixed(2)} ${interrupted}`),
  });
  return { tl, events };
}

function pullSeconds(tl: SpeechTimeline, seconds: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < Math.round((seconds * OUTPUT_RATE) / CHUNK_SAMPLES); i++) out.push(tl.pull());
  return out;
}

describe('SpeechTimeline', () => {
  it('plays a segment on the output clock and reports its start and its whole length', () => {
    const { tl, events } = timeline();
    pullSeconds(tl, 0.1); // silence before anything is queued
    expect(tl.windowAt(tl.position)).toBeNull();
    const id = tl.begin();
    expect(tl.push(id, tone(0.5, 24000), 24000)).toBe(true);
    tl.end(id);
    const first = tl.pull();
    expect(events).toEqual([`started ${id}`]);
    expect(Math.max(...first.map(Math.abs))).toBeGreaterThan(0.2); // the tone, resampled to 48 kHz
    const w = tl.windowAt(tl.position - CHUNK_SAMPLES / 2);
    expect(w).not.toBeNull();
    expect(w!.length).toBe(5 * 204);
    pullSeconds(tl, 0.6);
    expect(events).toEqual([`started ${id}`, `finished ${id} 0.50 false`]);
    expect(tl.speaking).toBe(false);
    // Silence again after it, and no face for it any more once well past its end.
    expect(Math.max(...tl.pull().map(Math.abs))).toBe(0);
    expect(tl.windowAt(tl.position + OUTPUT_RATE)).toBeNull();
  });

  it('waits in silence for a slow agent without finishing the segment', () => {
    const { tl, events } = timeline();
    const id = tl.begin();
    tl.push(id, tone(0.05, 48000), 48000);
    pullSeconds(tl, 0.3);
    expect(events).toEqual([`started ${id}`]);
    expect(tl.speaking).toBe(true);
    tl.push(id, tone(0.05, 48000), 48000);
    tl.end(id);
    pullSeconds(tl, 0.2);
    expect(events).toEqual([`started ${id}`, `finished ${id} 0.10 false`]);
  });

  it('clear() interrupts the playing segment at the position reached and drops the queued ones', () => {
    const { tl, events } = timeline();
    const a = tl.begin();
    tl.push(a, tone(2, 48000), 48000);
    tl.end(a);
    const b = tl.begin();
    tl.push(b, tone(1, 48000), 48000);
    pullSeconds(tl, 0.7);
    expect(tl.windowAt(tl.position - 100)).not.toBeNull();
    tl.clear();
    expect(events).toEqual([`started ${a}`, `finished ${a} 0.70 true`, `finished ${b} 0.00 true`]);
    // The face of the cut speech is gone at once, and the voice too.
    expect(tl.windowAt(tl.position - 100)).toBeNull();
    expect(Math.max(...tl.pull().map(Math.abs))).toBe(0);
    // Audio still streaming in for a cleared segment is refused, not played.
    expect(tl.push(b, tone(0.1, 48000), 48000)).toBe(false);
  });

  it('clear(heardUpTo) reports what the listener heard, not what was handed to the audio queue', () => {
    const { tl, events } = timeline();
    pullSeconds(tl, 0.2);
    const a = tl.enqueue(tl.prepare(tone(2, 48000), 48000));
    const b = tl.enqueue(tl.prepare(tone(1, 48000), 48000));
    pullSeconds(tl, 1);
    // 1 s of `a` handed out; the last 0.4 s of it still waits in the queue.
    tl.clear(tl.position - Math.round(0.4 * OUTPUT_RATE));
    expect(events).toEqual([`started ${a}`, `finished ${a} 0.60 true`, `finished ${b} 0.00 true`]);
    // Heard up to before the segment began: nothing of it was played.
    const { tl: t2, events: e2 } = timeline();
    const c = t2.enqueue(t2.prepare(tone(1, 48000), 48000));
    pullSeconds(t2, 0.3);
    t2.clear(t2.position - Math.round(0.5 * OUTPUT_RATE));
    expect(e2).toEqual([`started ${c}`, `finished ${c} 0.00 true`]);
  });

  it('a prepared recording replays with the landmarks the streaming path computes', () => {
    const { tl } = timeline();
    const speech = tone(0.6, 16000);
    const prepared = tl.prepare(speech, 16000);
    expect(prepared.audio.length).toBe(Math.round(0.6 * OUTPUT_RATE));
    expect(prepared.frames).toBe(15); // 25 fps
    const id = tl.begin();
    for (let o = 0; o < speech.length; o += 777) tl.push(id, speech.subarray(o, o + 777), 16000);
    tl.end(id);
    const streamed = tl.pull();
    const streamedWindow = tl.windowAt(tl.position)!;
    pullSeconds(tl, 1);
    const again = tl.enqueue(prepared);
    expect(again).toBeGreaterThan(id);
    tl.pull();
    const replayed = tl.windowAt(tl.position)!;
    expect(streamed.length).toBe(CHUNK_SAMPLES);
    for (let i = 0; i < replayed.length; i++) expect(replayed[i]).toBeCloseTo(streamedWindow[i]!, 5);
  });

  it('answers instants beyond the clock where queued segments will play (the face is rendered ahead of the voice)', () => {
    const { tl } = timeline();
    pullSeconds(tl, 0.2);
    const a = tl.enqueue(tl.prepare(bursts(0.5, 48000), 48000));
    // Not pulled yet: it will start at the clock, so 100 ms past the clock is 100 ms into it.
    const ahead = tl.windowAt(tl.position + 4800);
    expect(ahead).not.toBeNull();
    // (The face changes along the segment, so matching faces below mean matching instants.)
    expect(maxDiff(ahead!, tl.windowAt(tl.position + 4800 + 9600)!)).toBeGreaterThan(1e-3);
    const quietTail = tl.windowAt(tl.position + OUTPUT_RATE); // past its end: rest
    expect(quietTail).toBeNull();
    pullSeconds(tl, 0.1);
    // The same instant once pulled: same face (the projection was exact).
    const played = tl.windowAt(tl.position);
    for (let i = 0; i < played!.length; i++) expect(played![i]).toBeCloseTo(ahead![i]!, 6);
    // A second segment queued behind the playing one starts where the first's rest ends.
    const b = tl.enqueue(tl.prepare(bursts(0.3, 48000), 48000));
    expect(b).toBeGreaterThan(a);
    const bStart = tl.position + Math.round(0.4 * OUTPUT_RATE);
    const bAhead = tl.windowAt(bStart + 2400)!;
    expect(maxDiff(bAhead, tl.windowAt(bStart + 2400 + 9600)!)).toBeGreaterThan(1e-3);
    pullSeconds(tl, 0.45);
    const bPlayed = tl.windowAt(bStart + 2400)!;
    for (let i = 0; i < bPlayed.length; i++) expect(bPlayed[i]).toBeCloseTo(bAhead[i]!, 6);
    // Behind a segment still streaming in, where the next one starts is unknown: rest.
    const { tl: t2 } = timeline();
    const s1 = t2.begin();
    t2.push(s1, tone(0.2, 48000), 48000);
    t2.enqueue(t2.prepare(tone(0.5, 48000), 48000));
    expect(t2.windowAt(t2.position + Math.round(0.3 * OUTPUT_RATE))).toBeNull();
    expect(t2.windowAt(t2.position + 2400)).not.toBeNull(); // inside the streaming one
  });

  it('refuses a sample-rate change mid-segment, a second end, and a bad window', () => {
    const { tl } = timeline();
    const id = tl.begin();
    tl.push(id, tone(0.1, 24000), 24000);
    expect(() => tl.push(id, tone(0.1, 16000), 16000)).toThrow(/sample rate changed from 24000 to 16000/);
    tl.end(id);
    expect(() => tl.end(id)).toThrow(/not queued|already ended/);
    expect(() => new SpeechTimeline(generator, null, 4, { started() {}, finished() {} })).toThrow(/window: expected an odd integer/);
  });
});

describe('pcm16ToMono', () => {
  it('averages interleaved channels and ignores a partial trailing frame', () => {
    const b = new Uint8Array(10);
    const v = new DataView(b.buffer);
    v.setInt16(0, 16384, true);
    v.setInt16(2, -16384, true);
    v.setInt16(4, 32767, true);
    v.setInt16(6, 32767, true);
    expect(Array.from(pcm16ToMono(b, 2))).toEqual([0, 32767 / 32768]);
    expect(() => pcm16ToMono(b, 0)).toThrow(/num_channels/);
  });
});
