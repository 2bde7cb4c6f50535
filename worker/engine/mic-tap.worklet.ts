/**
 * AudioWorklet that copies the mic's first channel in ~20 ms chunks to its port. Loaded by
 * the MAIN-world shim from the extension's URL (a page's strict CSP and Trusted Types allow
 * that where Blob workers and WASM are refused). Plain script: no imports.
 */

interface WorkletPort {
  postMessage(message: unknown, transfer?: unknown[]): void;
}

declare const sampleRate: number;
declare const currentTime: number;
declare function registerProcessor(name: string, ctor: new () => { port: WorkletPort; process(inputs: Float32Array[][]): boolean }): void;
declare const AudioWorkletProcessor: new () => { port: WorkletPort };

const CHUNK_SECONDS = 0.02;

class MicTapProcessor extends AudioWorkletProcessor {
  private buffer = new Float32Array(Math.max(128, Math.round(sampleRate * CHUNK_SECONDS)));
  private filled = 0;
  private chunkStart = 0;

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    let offset = 0;
    while (offset < channel.length) {
      if (this.filled === 0) this.chunkStart = currentTime + offset / sampleRate;
      const n = Math.min(channel.length - offset, this.buffer.length - this.filled);
      this.buffer.set(channel.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.buffer.length) {
        const out = this.buffer;
        // Allocate the next chunk before transferring: a transferred array reads as length 0.
        this.buffer = new Float32Array(out.length);
        this.filled = 0;
        this.port.postMessage({ samples: out, sampleRate, timeSec: this.chunkStart }, [out.buffer]);
      }
      if (n === 0) break; // unreachable with a non-empty buffer; never spin the audio thread
    }
    return true;
  }
}

registerProcessor('r2talker-mic-tap', MicTapProcessor);
