/**
 * The create page: checks this computer (WebGPU, storage) up front, records 2-5 minutes from
 * the chosen camera and microphone with live guidance (timer, framing, light, steadiness, a
 * text to read) or imports a video, keeps the take in the origin-private file system, then
 * hands it to the creation pipeline — or, where that cannot run, shows the command-line route.
 */
import { formatBytes } from './avatar-library.ts';
import { byId } from './controls.ts';
import { DEV_MIN_KEY, durationProblem, formatDuration, framingHint, lightingHint, minRecordingSec, motionHint, storageProblem, timerHint, MAX_RECORDING_SEC, MIN_RECORDING_SEC, type FaceBox, type Hint } from './create/guidance.ts';
import { browserPrepare } from './create/prepare-adapter.ts';
import { note } from './create/note.ts';
import { BrowserPipeline, cliRoute } from './create/pipeline.ts';
import { READING_TEXT } from './create/reading-text.ts';
import { TakeRecorder, deleteRecording, listRecordings, loadRecording, openDevices, storeVideo } from './create/recorder.ts';
import { TrainingView } from './create/training-view.ts';

const MAX_IMPORT_BYTES = 4e9;
const SAMPLE_EVERY_MS = 500;
/** The shortest take accepted (MIN_RECORDING_SEC unless a developer override is stored). */
let minSec = MIN_RECORDING_SEC;
const pipeline = new BrowserPipeline(browserPrepare(() => minSec));

const video = byId<HTMLVideoElement>('camera-preview');
const cameraSelect = byId<HTMLSelectElement>('camera');
const micSelect = byId<HTMLSelectElement>('mic');
const recordError = byId('record-error');
const recorder = new TakeRecorder();
let stream: MediaStream | null = null;
let sampler: ReturnType<typeof setInterval> | null = null;
let ticker: ReturnType<typeof setInterval> | null = null;
let takeId: string | null = null;
/** What the command-line route names: the last take's download, once there is one. */
let takeFile = 'recording.webm';

function showHint(el: HTMLElement, h: Hint): void {
  el.textContent = h.text;
  el.className = h.tone === 'ok' ? 'ok' : h.tone === 'bad' ? 'bad' : '';
}

/** Where the command-line route is showing, whether it is the whole route or preparation only. */
let cliPrepareOnly = false;

function showCliRoute(why: string, prepareOnly = false): void {
  cliPrepareOnly = prepareOnly;
  byId('cli-route').hidden = false;
  byId('cli-why').textContent = why;
  byId('cli-commands').textContent = cliRoute(takeFile, prepareOnly);
}

async function checkWebGpu(): Promise<void> {
  const el = byId('webgpu-check');
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  let problem: string | null = null;
  let adapter: GPUAdapter | null = null;
  if (!gpu) problem = 'This browser offers no WebGPU, which creating an avatar here needs (Chrome, Edge or Brave 113 or newer, with hardware acceleration on).';
  else {
    adapter = await gpu.requestAdapter().catch(() => null);
    if (!adapter) problem = 'WebGPU is switched on but this browser found no GPU adapter for it (a blocked driver, or hardware acceleration off).';
  }
  if (problem) {
    note(el, 'error', `${problem} You can still record here; the avatar is then made with the command line.`);
    el.dataset.webgpu = 'no';
    showCliRoute(`${problem} Record or import a video here, download it, and run:`);
    return;
  }
  const info = adapter!.info;
  const what = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'a GPU';
  note(el, 'ok', `WebGPU available (${what}).`);
  el.dataset.webgpu = 'yes';
}

/** Resolves false when storage is short (recording is then blocked, with the reason shown). */
async function checkStorage(): Promise<boolean> {
  const el = byId('storage-check');
  const estimate = navigator.storage?.estimate ? await navigator.storage.estimate().catch(() => null) : null;
  const problem = storageProblem(estimate);
  if (problem) {
    note(el, 'error', problem);
    return false;
  }
  const free = estimate?.quota !== undefined ? ` (${((estimate.quota - (estimate.usage ?? 0)) / 1e9).toFixed(1)} GB free for R2 Talker)` : '';
  note(el, 'ok', `Enough storage${free}.`);
  return true;
}

async function fillDevices(): Promise<void> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const fill = (select: HTMLSelectElement, kind: MediaDeviceKind, fallback: string) => {
    const keep = select.value;
    const opts = devices.filter((d) => d.kind === kind).map((d, i) => new Option(d.label || `${fallback} ${i + 1}`, d.deviceId));
    select.replaceChildren(...(opts.length ? opts : [new Option(`Default ${fallback.toLowerCase()}`, '')]));
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  };
  fill(cameraSelect, 'videoinput', 'Camera');
  fill(micSelect, 'audioinput', 'Microphone');
}

/** Light and steadiness from a 64x48 copy of the picture; faces where the browser can find them. */
function startSampling(): void {
  const canvas = new OffscreenCanvas(64, 48);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  let previous: Float32Array | null = null;
  type Detector = { detect(v: HTMLVideoElement): Promise<{ boundingBox: DOMRectReadOnly }[]> };
  const Ctor = (globalThis as unknown as { FaceDetector?: new () => Detector }).FaceDetector;
  const detector = Ctor ? new Ctor() : null;
  if (sampler !== null) clearInterval(sampler);
  sampler = setInterval(async () => {
    if (video.readyState < 2) return;
    ctx.drawImage(video, 0, 0, 64, 48);
    const d = ctx.getImageData(0, 0, 64, 48).data;
    const luma = new Float32Array(64 * 48);
    let sum = 0;
    for (let i = 0; i < luma.length; i++) sum += luma[i] = 0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2];
    let change = NaN;
    if (previous) {
      change = 0;
      for (let i = 0; i < luma.length; i++) change += Math.abs(luma[i] - previous[i]);
      change /= luma.length;
    }
    previous = luma;
    showHint(byId('hint-light'), lightingHint(sum / luma.length));
    showHint(byId('hint-motion'), motionHint(change));
    let faces: FaceBox[] | null = null;
    if (detector) {
      const found = await detector.detect(video).catch(() => null);
      faces = found?.map((f) => ({ cx: (f.boundingBox.x + f.boundingBox.width / 2) / video.videoWidth, cy: (f.boundingBox.y + f.boundingBox.height / 2) / video.videoHeight, width: f.boundingBox.width / video.videoWidth })) ?? null;
    }
    showHint(byId('hint-framing'), framingHint(faces));
  }, SAMPLE_EVERY_MS);
}

async function startCamera(): Promise<void> {
  recordError.textContent = '';
  for (const t of stream?.getTracks() ?? []) t.stop();
  stream = null;
  try {
    stream = await openDevices(cameraSelect.value, micSelect.value);
  } catch (e) {
    const name = e instanceof DOMException ? e.name : '';
    const why =
      name === 'NotAllowedError' ? 'Camera or microphone not allowed: allow both for R2 Talker (the camera icon in the address bar) and try again.'
      : name === 'NotFoundError' || name === 'OverconstrainedError' ? 'The chosen camera or microphone is not connected: pick another one.'
      : name === 'NotReadableError' ? 'The camera or microphone is in use by another program: close it and try again.'
      : `The camera could not start: ${e instanceof Error ? e.message : String(e)}`;
    note(recordError, 'error', why);
    return;
  }
  video.srcObject = stream;
  await video.play().catch(() => undefined);
  await fillDevices();
  byId<HTMLButtonElement>('record-start').disabled = false;
  byId('camera-start').textContent = 'Restart camera';
  startSampling();
}

function tick(): void {
  const sec = recorder.elapsedSec;
  byId('timer').textContent = `${formatDuration(sec)} / ${formatDuration(MAX_RECORDING_SEC)}`;
  const h = timerHint(sec, minSec);
  note(byId('timer-hint'), h.tone === 'ok' ? 'ok' : 'warn', h.text);
  if (sec >= MAX_RECORDING_SEC) void stopRecording();
}

async function startRecording(): Promise<void> {
  if (!stream) return;
  recordError.textContent = '';
  byId('recording-result').hidden = true;
  try {
    await recorder.start(stream);
  } catch (e) {
    note(recordError, 'error', `Recording could not start: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  // A camera unplugged or taken by another program ends its track: keep what was recorded.
  for (const t of stream.getTracks()) {
    t.addEventListener('ended', () => {
      if (!recorder.recording) return;
      void stopRecording().then(() => note(recordError, 'error', `The ${t.kind === 'video' ? 'camera' : 'microphone'} stopped during the take (unplugged, or taken by another program): what was recorded is kept.`));
    }, { once: true });
  }
  byId('record-start').hidden = true;
  byId('record-stop').hidden = false;
  cameraSelect.disabled = micSelect.disabled = true;
  ticker = setInterval(tick, 250);
  tick();
}

async function stopRecording(): Promise<void> {
  if (!recorder.recording) return;
  if (ticker !== null) clearInterval(ticker);
  ticker = null;
  byId('record-stop').hidden = true;
  byId('record-start').hidden = false;
  cameraSelect.disabled = micSelect.disabled = false;
  try {
    const take = await recorder.stop();
    await offerTake(take.id, take.seconds, 'The recording');
  } catch (e) {
    note(recordError, 'error', e instanceof Error ? e.message : String(e));
  }
}

/** Shows a stored take: usable (continue) or not (why), downloadable either way. */
async function offerTake(id: string, seconds: number, what: string): Promise<void> {
  const file = await loadRecording(id);
  if (!file) {
    note(recordError, 'error', `${what} was not saved (storage full or blocked?).`);
    return;
  }
  const problem = durationProblem(seconds, what, minSec);
  const result = byId('recording-result');
  result.hidden = false;
  const link = byId<HTMLAnchorElement>('recording-download');
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(file);
  link.download = `${id}.webm`;
  takeFile = `${id}.webm`;
  byId('cli-commands').textContent = cliRoute(takeFile, cliPrepareOnly);
  if (problem) {
    note(byId('recording-summary'), 'error', problem);
    byId<HTMLButtonElement>('continue').disabled = true;
    takeId = null;
    return;
  }
  note(byId('recording-summary'), 'ok', `${what}: ${formatDuration(seconds)}, ${formatBytes(file.size)}, kept on this computer.`);
  byId<HTMLButtonElement>('continue').disabled = false;
  takeId = id;
}

/** A video's length from its metadata, read by a detached <video>; rejects with a reason. */
function videoDuration(file: Blob): Promise<number> {
  return new Promise((resolve, reject) => {
    const v = document.createElement('video');
    const url = URL.createObjectURL(file);
    const done = (f: () => void) => {
      clearTimeout(timer);
      URL.revokeObjectURL(url);
      v.removeAttribute('src');
      f();
    };
    const timer = setTimeout(() => done(() => reject(new Error('its length could not be read within 15 s'))), 15_000);
    v.preload = 'metadata';
    v.onloadedmetadata = () => {
      // WebM from MediaRecorder may say Infinity until it is seeked to the end.
      if (Number.isFinite(v.duration)) return done(() => resolve(v.duration));
      v.ontimeupdate = () => done(() => resolve(v.duration));
      v.currentTime = 1e7;
    };
    v.onerror = () => done(() => reject(new Error('the browser cannot play it (not a video, or an unsupported codec)')));
    v.src = url;
  });
}

async function importVideo(file: File): Promise<void> {
  recordError.textContent = '';
  const what = `\u201c${file.name}\u201d`;
  if (file.size === 0) return note(recordError, 'error', `${what} is empty.`);
  if (!file.type.startsWith('video/') && !/\.(webm|mp4|mov|mkv)$/i.test(file.name)) return note(recordError, 'error', `${what} is not a video file (${file.type || 'unknown type'}).`);
  if (file.size > MAX_IMPORT_BYTES) return note(recordError, 'error', `${what} is ${(file.size / 1e9).toFixed(1)} GB: at most ${MAX_IMPORT_BYTES / 1e9} GB can be imported.`);
  let seconds: number;
  try {
    seconds = await videoDuration(file);
  } catch (e) {
    return note(recordError, 'error', `${what} cannot be used: ${e instanceof Error ? e.message : String(e)}.`);
  }
  const problem = durationProblem(seconds, what, minSec);
  if (problem) return note(recordError, 'error', problem);
  try {
    const id = await storeVideo(file);
    await offerTake(id, seconds, what);
  } catch (e) {
    note(recordError, 'error', `${what} could not be stored: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const training = new TrainingView({
  pipeline,
  loadRecording,
  showCliRoute,
  webgpu: () => byId('webgpu-check').dataset.webgpu === 'yes',
  checkStorage,
});

async function runPipeline(): Promise<void> {
  if (!takeId) return;
  if (byId('webgpu-check').dataset.webgpu !== 'yes') {
    byId('train').hidden = false;
    byId('training').hidden = true;
    byId('train-settings').hidden = true;
    for (const id of ['train-start', 'train-pause', 'train-resume', 'import-subject-label']) byId(id).hidden = true;
    note(byId('train-status'), 'warn', 'This browser cannot train here (no WebGPU): create the avatar from the downloaded recording with the command line, then import the .r2t in the popup.');
    showCliRoute('Create the avatar from the downloaded recording:');
    byId('cli-route').scrollIntoView({ behavior: 'smooth' });
    return;
  }
  await training.openFor(takeId);
  byId('train').scrollIntoView({ behavior: 'smooth' });
}

/** Lists the takes kept from earlier visits, each usable, downloadable and deletable. */
async function showKept(): Promise<void> {
  const takes = await listRecordings().catch(() => []);
  const card = byId('kept');
  card.hidden = takes.length === 0;
  byId('kept-list').replaceChildren(
    ...takes.map(({ id, file }) => {
      const li = document.createElement('li');
      li.dataset.takeId = id;
      const who = document.createElement('div');
      who.className = 'who';
      who.append(Object.assign(document.createElement('span'), { className: 'name', textContent: `${id}.webm` }), Object.assign(document.createElement('small'), { textContent: `${formatBytes(file.size)} \u00b7 ${new Date(file.lastModified).toLocaleString()}` }));
      const actions = document.createElement('div');
      actions.className = 'actions';
      const use = Object.assign(document.createElement('button'), { type: 'button', className: 'btn small primary kept-use', textContent: 'Use this one' });
      use.addEventListener('click', async () => {
        recordError.textContent = '';
        try {
          await offerTake(id, await videoDuration(file), 'The kept recording');
        } catch (e) {
          note(recordError, 'error', `The kept recording cannot be used: ${e instanceof Error ? e.message : String(e)}.`);
        }
      });
      const download = Object.assign(document.createElement('a'), { className: 'btn small', textContent: 'Download', download: `${id}.webm`, href: URL.createObjectURL(file) });
      const del = Object.assign(document.createElement('button'), { type: 'button', className: 'btn small quiet danger kept-delete', textContent: 'Delete' });
      del.addEventListener('click', async () => {
        await deleteRecording(id).catch(() => undefined);
        if (takeId === id) {
          takeId = null;
          byId('recording-result').hidden = true;
        }
        await showKept();
      });
      actions.append(use, download, del);
      li.append(who, actions);
      return li;
    }),
  );
}

function main(): void {
  void chrome.storage.local.get(DEV_MIN_KEY).then((v: Record<string, unknown>) => (minSec = minRecordingSec(v[DEV_MIN_KEY]))).catch(() => undefined);
  byId('reading').replaceChildren(...READING_TEXT.map((t) => Object.assign(document.createElement('p'), { textContent: t })));
  byId('timer').textContent = `0:00 / ${formatDuration(MAX_RECORDING_SEC)}`;
  note(byId('timer-hint'), '', 'Start the camera, check the hints, then start recording and read the text below.');
  byId('camera-start').addEventListener('click', () => void startCamera());
  byId('record-start').addEventListener('click', () => void startRecording());
  byId('record-stop').addEventListener('click', () => void stopRecording());
  byId('continue').addEventListener('click', () => void runPipeline());
  cameraSelect.addEventListener('change', () => stream && void startCamera());
  micSelect.addEventListener('change', () => stream && void startCamera());
  const input = byId<HTMLInputElement>('import-video');
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    input.value = '';
    if (f) void importVideo(f);
  });
  window.addEventListener('pagehide', () => void recorder.cancel());
  void showKept();
  void training.listUnfinished();
  void checkWebGpu();
  void checkStorage().then((ok) => {
    if (ok) return;
    for (const id of ['camera-start', 'record-start']) byId<HTMLButtonElement>(id).disabled = true;
    byId<HTMLInputElement>('import-video').disabled = true;
  });
}

main();
