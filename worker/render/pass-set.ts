/**
 * What the exact (renderer.ts) and fast (fast-renderer.ts) WebGPU renderers both do with their
 * passes: build them together inside one GPU error scope, destroy whatever a half-finished build
 * left, and notice that their device was lost so the next frame rebuilds them on a new one.
 */
import type { GpuContext } from '../gpu/device.ts';
import { withGpuErrors } from '../gpu/scope.ts';

interface Destroyable {
  destroy(): void;
}

function isDestroyable(v: unknown): v is Destroyable {
  return typeof v === 'object' && v !== null && typeof (v as Destroyable).destroy === 'function';
}

/**
 * Destroys every pass, buffer and map of passes a pass set holds, last made first (the frame
 * buffers, made first and bound by every pass, go last). A build that failed half way leaves
 * some members undefined: those are skipped.
 */
export function destroyPasses(p: object): void {
  for (const v of Object.values(p).reverse()) {
    if (v instanceof Map) {
      for (const c of v.values()) if (isDestroyable(c)) c.destroy();
      v.clear();
    } else if (isDestroyable(v)) {
      v.destroy();
    }
  }
}

/**
 * Builds a pass set inside a GPU error scope: `make` adds each pass to `made` as it creates it.
 * When it throws, the passes made so far are destroyed, and those still compiling have their
 * `ready` outcome swallowed (it no longer matters, and must not surface as an unhandled rejection).
 */
export async function buildPasses<P extends object>(device: GPUDevice, label: string, make: (made: Partial<P>) => Promise<P>): Promise<P> {
  const made: Partial<P> = {};
  try {
    return await withGpuErrors(device, label, () => make(made));
  } catch (e) {
    for (const v of Object.values(made)) {
      const ready = (v as { ready?: unknown } | null)?.ready;
      if (ready instanceof Promise) void ready.catch(() => undefined);
    }
    destroyPasses(made);
    throw e;
  }
}

/** Whether a device was lost, for the device the renderer uses now (a loss of an older one does not count). */
export class LossWatch {
  private current: GpuContext | null = null;
  private flag = false;

  get lost(): boolean {
    return this.flag;
  }

  /** Watches `ctx` from now on (after a build or a recovery); clears the flag. */
  watch(ctx: GpuContext): void {
    this.current = ctx;
    this.flag = false;
    void ctx.lost.then(() => {
      if (this.current === ctx) this.flag = true;
    });
  }

  /** True when the watched device is lost already, even if its lost promise has not been seen yet. */
  async check(): Promise<boolean> {
    if (this.flag || !this.current) return this.flag;
    const marker = Symbol('pending');
    const r = await Promise.race([this.current.lost, Promise.resolve(marker)]);
    return r !== marker;
  }
}
