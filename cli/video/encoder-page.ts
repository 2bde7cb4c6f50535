/**
 * Runs inside headless Chromium: WebCodecs VideoEncoder (VP8/VP9) + AudioEncoder (Opus) into
 * webm-muxer. Bundled by chromium.ts pageScript(); Node drives it through EncoderPageApi.
 * Video frame t is stamped t/fps seconds and audio starts at 0, so the two stay aligned.
 */
import { ArrayBufferTarget, Muxer } from 'webm-muxer';
import { ENCODER_GLOBAL, type EncoderPageApi, type EncoderPageConfig } from './encoder-protocol.ts';
import { fromBase64, toBase64 } from './page-base64.ts';

/** frames queued in the video encoder before addFrame waits: bounds the page's memory */
const MAX_QUEUE = 4;
const VIDEO_CODECS = { vp8: { webcodecs: 'vp8', matroska: 'V_VP8' }, vp9: { webcodecs: 'vp09.00.10.08', matroska: 'V_VP9' } };

interface State {
  config: EncoderPageConfig;
  muxer: Muxer<ArrayBufferTarget>;
  video: VideoEncoder;
  audio: AudioEncoder | null;
  audioFrames: number;
  videoChunks: number;
  audioChunks: number;
  error: Error | null;
  result: Uint8Array | null;
}

let state: State | null = null;

function current(): State {
  if (!state) throw new Error('the encoder is not started');
  if (state.error) throw state.error;
  return state;
}

async function start(config: EncoderPageConfig): Promise<void> {
  if (state) throw new Error('the encoder is already started');
  const codec = VIDEO_CODECS[config.codec];
  const videoConfig: VideoEncoderConfig = { codec: codec.webcodecs, width: config.width, height: config.height, bitrate: config.videoBitrate, framerate: config.fps, latencyMode: 'quality' };
  const vs = await VideoEncoder.isConfigSupported(videoConfig);
  if (!vs.supported) throw new Error(`${config.codec} ${config.width}x${config.height} is not supported by this Chromium's VideoEncoder`);
  let audioConfig: AudioEncoderConfig | null = null;
  if (config.audio) {
    audioConfig = { codec: 'opus', sampleRate: config.audio.sampleRate, numberOfChannels: config.audio.channels, bitrate: config.audio.bitrate };
    const as = await AudioEncoder.isConfigSupported(audioConfig);
    if (!as.supported) throw new Error(`Opus ${config.audio.sampleRate} Hz x${config.audio.channels} is not supported by this Chromium's AudioEncoder`);
  }
  const muxer = new Muxer({
    target: new ArrayBufferTarget(),
    video: { codec: codec.matroska, width: config.width, height: config.height, frameRate: config.fps },
    audio: config.audio ? { codec: 'A_OPUS', numberOfChannels: config.audio.channels, sampleRate: config.audio.sampleRate } : undefined,
    // strict: both tracks must start at 0, which is what keeps them in sync
    firstTimestampBehavior: 'strict',
  });
  const fail = (e: unknown) => {
    if (state && !state.error) state.error = e instanceof Error ? e : new Error(String(e));
  };
  const video = new VideoEncoder({
    output: (chunk, meta) => {
      try {
        muxer.addVideoChunk(chunk, meta);
        if (state) state.videoChunks++;
      } catch (e) {
        fail(e);
      }
    },
    error: fail,
  });
  video.configure(videoConfig);
  let audio: AudioEncoder | null = null;
  if (audioConfig) {
    audio = new AudioEncoder({
      output: (chunk, meta) => {
        try {
          muxer.addAudioChunk(chunk, meta);
          if (state) state.audioChunks++;
        } catch (e) {
          fail(e);
        }
      },
      error: fail,
    });
    audio.configure(audioConfig);
  }
  state = { config, muxer, video, audio, audioFrames: 0, videoChunks: 0, audioChunks: 0, error: null, result: null };
}

function pushAudio(s: State, b64: string): void {
  if (!b64) return;
  if (!s.audio || !s.config.audio) throw new Error('audio given to an encoder started without audio');
  const bytes = fromBase64(b64);
  const { channels, sampleRate } = s.config.audio;
  const n = bytes.length / 4 / channels;
  if (!Number.isInteger(n)) throw new Error(`audio: expected a multiple of ${4 * channels} bytes, got ${bytes.length}`);
  const data = new AudioData({
    format: 'f32-planar',
    sampleRate,
    numberOfChannels: channels,
    numberOfFrames: n,
    timestamp: Math.round((s.audioFrames * 1e6) / sampleRate),
    data: bytes,
  });
  s.audio.encode(data);
  data.close();
  s.audioFrames += n;
}

async function addFrame(index: number, rgba: string, audio: string): Promise<void> {
  const s = current();
  const { width, height, fps, keyInterval } = s.config;
  const bytes = fromBase64(rgba);
  if (bytes.length !== width * height * 4) throw new Error(`frame ${index}: expected ${width * height * 4} RGBA bytes (${width}x${height}), got ${bytes.length}`);
  pushAudio(s, audio);
  const frame = new VideoFrame(bytes, {
    format: 'RGBA',
    codedWidth: width,
    codedHeight: height,
    timestamp: Math.round((index * 1e6) / fps),
    duration: Math.round(1e6 / fps),
  });
  s.video.encode(frame, { keyFrame: index % keyInterval === 0 });
  frame.close();
  while (s.video.encodeQueueSize > MAX_QUEUE && !s.error) {
    await new Promise((resolve) => s.video.addEventListener('dequeue', resolve, { once: true }));
  }
  current();
}

async function finish(tailAudio: string): Promise<{ bytes: number; videoChunks: number; audioChunks: number }> {
  const s = current();
  pushAudio(s, tailAudio);
  await s.video.flush();
  if (s.audio) await s.audio.flush();
  current();
  s.video.close();
  s.audio?.close();
  s.muxer.finalize();
  s.result = new Uint8Array(s.muxer.target.buffer);
  return { bytes: s.result.length, videoChunks: s.videoChunks, audioChunks: s.audioChunks };
}

function read(offset: number, length: number): string {
  const r = current().result;
  if (!r) throw new Error('the encoder is not finished');
  return toBase64(r.subarray(offset, offset + length));
}

const api: EncoderPageApi = { start, addFrame, finish, read };
(globalThis as unknown as Record<string, EncoderPageApi>)[ENCODER_GLOBAL] = api;
