/** The create page's guidance and checks: every threshold and sentence, exactly. */
import { describe, expect, it } from 'vitest';
import { durationProblem, formatDuration, framingHint, lightingHint, minRecordingSec, motionHint, storageProblem, timerHint, MIN_RECORDING_SEC } from '../../extension/ui/create/guidance.ts';
import { cliRoute } from '../../extension/ui/create/pipeline.ts';
import { prepareDetail, prepareFraction } from '../../extension/ui/create/prepare-adapter.ts';
import { READING_TEXT } from '../../extension/ui/create/reading-text.ts';
import { pickMimeType } from '../../extension/ui/create/recorder.ts';

describe('recording guidance', () => {
  it('formats the timer as m:ss', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65.9)).toBe('1:05');
    expect(formatDuration(300)).toBe('5:00');
    expect(formatDuration(-3)).toBe('0:00');
  });

  it('judges the light from the mean luma', () => {
    expect(lightingHint(30)).toEqual({ tone: 'bad', text: 'Too dark: turn on a light in front of you.' });
    expect(lightingHint(70).tone).toBe('warn');
    expect(lightingHint(130)).toEqual({ tone: 'ok', text: 'Lighting is good.' });
    expect(lightingHint(230).tone).toBe('bad');
    expect(lightingHint(NaN).tone).toBe('warn');
  });

  it('judges steadiness from the change between samples', () => {
    expect(motionHint(3).tone).toBe('ok');
    expect(motionHint(15).tone).toBe('warn');
    expect(motionHint(40)).toEqual({ tone: 'bad', text: 'Lots of movement: keep your head mostly still and the camera fixed.' });
  });

  it('judges framing from detected faces, or gives the general advice without a detector', () => {
    expect(framingHint(null).tone).toBe('warn');
    expect(framingHint([])).toEqual({ tone: 'bad', text: 'No face found: look at the camera.' });
    expect(framingHint([{ cx: 0.5, cy: 0.5, width: 0.3 }, { cx: 0.2, cy: 0.5, width: 0.2 }]).text).toBe('2 faces found: only you should be in the picture.');
    expect(framingHint([{ cx: 0.5, cy: 0.5, width: 0.1 }]).text).toBe('Your face is small: come closer to the camera.');
    expect(framingHint([{ cx: 0.5, cy: 0.5, width: 0.7 }]).text).toBe('Your face is very large: move back a little.');
    expect(framingHint([{ cx: 0.8, cy: 0.5, width: 0.3 }]).text).toBe('Move so your face is in the middle of the picture.');
    expect(framingHint([{ cx: 0.52, cy: 0.45, width: 0.3 }]).tone).toBe('ok');
  });

  it('counts down to the 2-minute minimum, then invites up to 5 minutes', () => {
    expect(timerHint(5)).toEqual({ tone: 'warn', text: 'Keep reading: 1:55 until the minimum of 2:00.' });
    expect(timerHint(150).tone).toBe('ok');
    expect(timerHint(300).text).toBe('5:00 recorded: that is the most the trainer uses.');
  });

  it('accepts 2 to 5 minutes of video and says what is wrong otherwise', () => {
    expect(durationProblem(125, 'x')).toBeNull();
    expect(durationProblem(300.5, 'x')).toBeNull();
    expect(durationProblem(30, 'The recording')).toBe('The recording is 0:30 long: at least 2:00 of you speaking is needed.');
    expect(durationProblem(400, '“a.webm”')).toBe('“a.webm” is 6:40 long: at most 5:00 is used; trim it first.');
    expect(durationProblem(Infinity, 'x')).toBe('x: its length cannot be read (is it a video?).');
  });
});

describe('storage check', () => {
  it('passes with room, stays quiet when the browser cannot say, and names both figures when short', () => {
    expect(storageProblem({ quota: 10e9, usage: 1e9 })).toBeNull();
    expect(storageProblem(null)).toBeNull();
    expect(storageProblem({})).toBeNull();
    expect(storageProblem({ quota: 1e9, usage: 0.8e9 })).toMatch(/needs about 1\.5 GB free .*; this browser can store 0\.2 GB more\./);
    expect(storageProblem({ quota: 1e9, usage: 2e9 })).toMatch(/can store 0\.0 GB more/);
  });
});

describe('pipeline and recorder pieces', () => {
  it('the command-line route names the downloaded take and every step to an import', () => {
    const r = cliRoute('take-abc.webm');
    expect(r).toContain('npx r2talker prepare --video take-abc.webm --out my-subject');
    expect(r).not.toContain('ffmpeg');
    expect(r).toContain('npx r2talker train --data my-subject --out me.r2t');
    expect(r).toContain('npx r2talker train-generator --data my-subject --avatar me.r2t');
    // where training runs in the page, the route stops at the prepared folder to import
    const p = cliRoute('take-abc.webm', true);
    expect(p).toContain('npx r2talker prepare --video take-abc.webm --out my-subject');
    expect(p).not.toContain('r2talker train');
    expect(p).toContain('Import a prepared folder');
  });

  it('records VP9 where possible, VP8 otherwise, and says when neither works', () => {
    expect(pickMimeType(() => true)).toBe('video/webm;codecs=vp9,opus');
    expect(pickMimeType((t) => !t.includes('vp9'))).toBe('video/webm;codecs=vp8,opus');
    expect(() => pickMimeType(() => false)).toThrow(/cannot record WebM video/);
  });

  it('the text to read is long enough for the minimum at a calm pace (130 words a minute)', () => {
    const words = READING_TEXT.join(' ').split(/\s+/).length;
    expect(words / 130).toBeGreaterThan(2.5);
  });
});

describe('developer minimum and preparation progress', () => {
  it('accepts a shorter minimum only within [5 s, 2 min]; anything else keeps 2 minutes', () => {
    expect(minRecordingSec(10)).toBe(10);
    for (const bad of [undefined, null, '10', 4, 121, Number.NaN, Infinity]) expect(minRecordingSec(bad)).toBe(MIN_RECORDING_SEC);
    expect(durationProblem(12, 'The recording', 10)).toBeNull();
    expect(durationProblem(8, 'The recording', 10)).toBe('The recording is 0:08 long: at least 0:10 of you speaking is needed.');
    expect(timerHint(4, 10).text).toBe('Keep reading: 0:06 until the minimum of 0:10.');
  });

  it('folds the preparation sub-stages into one rising fraction and names each', () => {
    const seq = [prepareFraction('decode', 0, 1), prepareFraction('decode', 1, 1), prepareFraction('track', 50, 100), prepareFraction('track', 100, 100), prepareFraction('fit', 1, 1), prepareFraction('background', 5, 10), prepareFraction('write', 100, 100)];
    for (let i = 1; i < seq.length; i++) expect(seq[i]).toBeGreaterThan(seq[i - 1]);
    expect(seq[0]).toBe(0);
    expect(seq.at(-1)).toBeCloseTo(1, 9);
    expect(prepareDetail('track', 3, 300)).toBe('finding the face in each frame (3 of 300)');
    expect(prepareDetail('fit', 0, 1)).toBe('fitting the head pose and the camera');
  });
});
