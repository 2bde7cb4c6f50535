/**
 * Baseline RGB JPEG through libjpeg-turbo compiled to wasm (@cornerstonejs/codec-libjpeg-turbo-8bit:
 * ISC wrapper over libjpeg-turbo's IJG/BSD-3/zlib terms), for the subject writer in Node and in
 * the extension's prepare worker: ~6x faster than jpeg-js on a 512 px frame, which made JPEG
 * encoding the largest cost of writing a subject. Chroma stays at full resolution (4:4:4), as
 * jpeg-js wrote it, so the pixels the trainers see are of the same quality.
 *
 * The wasm is instantiated synchronously (allowed in Node and in workers) so encoding stays a
 * plain function, as ImageCodec.encodeJpeg is. Its Emscripten glue requires 'fs' on its Node
 * path, so browser bundles that only need jpeg-js import jpeg-encode.ts instead.
 */
import createTurboModule from '@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs';
import { encodeRgbJpegJs, type RgbJpegEncode } from './jpeg-encode.ts';

/** Where the wasm binary is inside its npm package (the extension build copies it; Node reads it). */
export const TURBO_JPEG_WASM = { pkg: '@cornerstonejs/codec-libjpeg-turbo-8bit', file: 'dist/libjpegturbowasm.wasm', bundled: 'prepare/libjpegturbowasm.wasm' } as const;

/**
 * An encoder over one libjpeg-turbo instance (its encoder object is reused: allocating one per
 * frame costs as much as the encode). `wasm` is the binary or an already compiled module.
 *
 * The wrapper's output buffer is as large as its input buffer, and libjpeg-turbo writes past it
 * when a JPEG comes out larger (noise at quality ~100: 1.4-1.8x the raw pixels), corrupting
 * the heap. The encoder ignores bitsPerSample for 8-bit input, so asking for 24 makes the
 * input buffer, and so the output one, three times the raw size: 9 bytes a pixel, above
 * TurboJPEG's own worst case for 4:4:4 (tjBufSize: 6 bytes a padded pixel + 2048). Images too
 * small for that margin go to jpeg-js.
 */
export function turboJpegEncoder(wasm: Uint8Array | WebAssembly.Module): RgbJpegEncode {
  const compiled = wasm instanceof WebAssembly.Module ? wasm : new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  let encoder: TurboJpegEncoderObject | null = null;
  return (rgb, width, height, quality) => {
    if (rgb.length !== width * height * 3) throw new Error(`jpeg: expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
    if (9 * width * height < worstJpegBytes(width, height)) return encodeRgbJpegJs(rgb, width, height, quality);
    encoder ??= newTurboEncoder(compiled);
    try {
      encoder.setQuality(quality);
      // A view into the wasm heap, valid until the next call into the module; its first
      // width*height*3 bytes are the pixels, the rest is the output's headroom (see above).
      encoder.getDecodedBuffer({ width, height, bitsPerSample: 24, componentCount: 3, isSigned: false }).set(rgb);
      encoder.encode();
      // A copy out of the heap, as a plain Uint8Array whatever typed array the wrapper returns.
      return new Uint8Array(encoder.getEncodedBuffer());
    } catch {
      // Not expected (see above); a trapped instance is left in an undefined state.
      encoder = null;
      return encodeRgbJpegJs(rgb, width, height, quality);
    }
  };
}

/** TurboJPEG's bound on a 4:4:4 JPEG: 6 bytes per pixel of the 8x8-padded image, plus headers. */
function worstJpegBytes(width: number, height: number): number {
  return 6 * Math.ceil(width / 8) * 8 * Math.ceil(height / 8) * 8 + 2048;
}

/** TurboJPEG's TJSAMP_444: chroma at full resolution. */
const TJSAMP_444 = 0;

function newTurboEncoder(compiled: WebAssembly.Module): TurboJpegEncoderObject {
  const mod: TurboModuleArg = {
    instantiateWasm(imports, done) {
      const instance = new WebAssembly.Instance(compiled, imports);
      done(instance, compiled);
      return instance.exports;
    },
  };
  // Resolves later, but with the instance supplied synchronously the classes exist on return.
  void createTurboModule(mod).catch(() => {});
  if (typeof mod.JPEGEncoder !== 'function') throw new Error('libjpeg-turbo wasm did not initialise synchronously');
  const encoder = new mod.JPEGEncoder();
  encoder.setSubSampling(TJSAMP_444);
  // Baseline, as every reader (jpeg-js in our trainer's loader, PIL/cv2 in the reference) takes.
  encoder.setProgressive(0);
  return encoder;
}

interface TurboModuleArg {
  instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void): WebAssembly.Exports;
  JPEGEncoder?: new () => TurboJpegEncoderObject;
}
interface TurboJpegEncoderObject {
  setQuality(quality: number): void;
  setSubSampling(subsampling: number): void;
  setProgressive(progressive: number): void;
  setProgressive(progressive: boolean): void;
  getDecodedBuffer(info: { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean }): Uint8Array;
  encode(): void;
  getEncodedBuffer(): ArrayLike<number>;
}
