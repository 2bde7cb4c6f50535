/** The ground-truth subject of the photograph's test video (issue 10's training proof on the video
 * its focal, rotation, mouth and mask rows are measured on): the talking, blinking `canonical-upper`
 * astronaut head (tests/helpers/face-video.ts) turning on gentlePose over a static background with
 * a neck, shoulders and torso, every quantity known, written in the reference layout like
 * `r2talker synth-subject` writes the synthetic person. Test data only: the photograph is a real
 * person's, so nothing made from it ships (the subject and avatars stay in the work directory).
 * - transforms: headTransform of the true pose; focal: the render's;
 * - .lms: the true projections of the iBUG vertices; condition: those vertices in head coordinates
 *   minus the canonical face's (fit-video.ts idexp's convention, cm); eye ratio of the true .lms;
 * - parsing: renderTruthLabels; torso_imgs: the scene without the head (the neck continues behind
 *   the chin, as the reference's torso images do); bc.jpg: the background without the person;
 *   gt_imgs: the frames themselves (their background is bc's exactly);
 * - aud.wav: a voiced buzz whose loudness follows the mouth's opening.
 * At the default size the face is about 70 px wide in a 192 px frame, so prepare's crop (2.8 face
 * widths, clamped) is the whole frame and both subjects share one image plane.
 * Run: npx tsx bench/pose/photo-subject.ts --out <dir> [--size 192] [--frames 550] [--val-frames 50] [--overwrite] */
import { parseArgs } from 'node:util';
import { writePhotoSubject } from '../../tests/helpers/photo-subject.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, size: { type: 'string', default: '192' }, frames: { type: 'string', default: '550' }, 'val-frames': { type: 'string', default: '50' }, overwrite: { type: 'boolean', default: false } } });
if (!values.out) throw new Error('--out <dir> is required');
const [size, frames, valFrames] = [Number(values.size), Number(values.frames), Number(values['val-frames'])];
const { focal, torsoTop } = await writePhotoSubject(values.out, { size, frames, valFrames, overwrite: values.overwrite, onProgress: (k, n) => k % 50 === 0 && console.log(`photo-subject: frame ${k}/${n}`) });
console.log(`photo-subject: ${frames} frames (${valFrames} held out) at ${size} px, focal ${focal.toFixed(1)}, torso from ${(torsoTop * 100).toFixed(0)}% down -> ${values.out}`);
