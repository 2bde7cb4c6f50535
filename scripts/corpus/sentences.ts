/**
 * Seeded English sentence generator for the corpus: grammatical templates filled from a
 * vocabulary chosen to cover every mouth shape often (m/b/p, f/v, rounded and open vowels).
 * Held-out sentences come from a separate random stream and are checked not to repeat a
 * training sentence.
 */
import { makeRng } from '../../worker/landmarks/model.ts';

const W = {
  adj: 'big,small,happy,brave,pale,warm,cool,bright,famous,modest,purple,blue,old,young,quiet,busy,proud,funny,heavy,moody,lovely,public,open,rough,smooth,yellow,mobile,vivid,humble,polite'.split(','),
  noun: 'baby,pilot,farmer,mother,father,boat,moon,book,map,bottle,window,garden,valley,music,movie,puppy,apple,football,market,member,woman,rover,violin,office,river,food,pool,tower,ocean,teacher,machine,photo,mirror,museum,village,bubble,pumpkin,rope,shoe,voice'.split(','),
  verb: 'bought,moved,painted,opened,found,wanted,played,pushed,followed,watched,pulled,fixed,bumped,visited,measured,borrowed,carried,loved,improved,washed'.split(','),
  prep: 'by,from,over,beyond,above,behind,beneath,without,before,after,through,near'.split(','),
  adv: 'slowly,quickly,happily,often,maybe,perhaps,finally,always,never,mostly,usually,barely'.split(','),
  name: 'Bob,Maya,Peter,Fiona,Victor,Paula,Mike,Olivia,Hugo,Emma,Walter,Bella'.split(','),
  num: 'one,two,three,four,five,six,seven,eight,nine,ten,twenty,fifty,ninety,a hundred'.split(','),
  time: 'on Monday,in the morning,at noon,every evening,before lunch,after the movie,in May,by the pool'.split(','),
};

type Slot = keyof typeof W;

const TEMPLATES: string[] = [
  'The {adj} {noun} {verb} the {noun} {prep} the {noun}.',
  '{name} {adv} {verb} {num} {adj} {noun}s {time}.',
  'Why did the {noun} move {prep} the {adj} {noun}?',
  'My {noun} is {adj}, but your {noun} is {adj}.',
  '{name} and {name} {verb} a {adj} {noun}, {time}.',
  'Please put the {noun} {prep} the {noun}, {name}.',
  'We {adv} buy {num} {noun}s for the {adj} {noun}.',
  'Maybe the {noun} {verb} my {adj} {noun}; who knows?',
  'Five {adj} {noun}s moved over the {noun} {time}.',
  'Oh, {name}, the {noun} {verb} {num} {noun}s!',
  'Before the {noun}, {name} {verb} the {adj} {noun} {adv}.',
  'Could you bring me the {adj} {noun} from the {noun}?',
];

export function makeSentence(rng: () => number): string {
  const pick = <T>(a: T[]): T => a[Math.floor(rng() * a.length)];
  let s = pick(TEMPLATES).replace(/\{(\w+)\}/g, (_, k: string) => pick(W[k as Slot]));
  s = s.replace(/\ba ([aeiou])/gi, 'an $1');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * `count` distinct utterances of one or two sentences. Training and held-out draws use
 * different streams; `exclude` removes sentences already used elsewhere.
 */
export function makeUtterances(seed: number, count: number, exclude: Set<string> = new Set()): string[] {
  const rng = makeRng(seed);
  const seen = new Set<string>();
  const out: string[] = [];
  for (let tries = 0; out.length < count && tries < count * 50; tries++) {
    const n = rng() < 0.35 ? 2 : 1;
    const parts: string[] = [];
    for (let k = 0; k < n; k++) parts.push(makeSentence(rng));
    if (parts.some((p) => exclude.has(p) || seen.has(p))) continue;
    parts.forEach((p) => seen.add(p));
    out.push(parts.join(' '));
  }
  return out;
}

/** Every sentence in a list of utterances (to exclude them from another split). */
export function sentencesOf(utterances: string[]): Set<string> {
  const s = new Set<string>();
  for (const u of utterances) for (const p of u.match(/[^.?!]+[.?!]/g) ?? [u]) s.add(p.trim());
  return s;
}

/** Bound on the training stream the held-out sentences are checked against. */
const TRAIN_STREAM = 20_000;

/** Training utterances of corpus seed `seed` (the stream scripts/make-corpus.ts --split train uses). */
export const trainUtterances = (seed: number, count: number): string[] => makeUtterances(seed * 2 + 1, count);

/**
 * Held-out utterances of corpus seed `seed`: a separate stream, with every sentence of the
 * first 20,000 training utterances excluded (any synthesiser or voice can read them).
 */
export const heldoutUtterances = (seed: number, count: number): string[] =>
  makeUtterances(seed * 2 + 2 + 1_000_003, count, sentencesOf(makeUtterances(seed * 2 + 1, TRAIN_STREAM)));
