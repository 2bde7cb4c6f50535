/**
 * Device acquisition: the one place in the engine that calls `requestAdapter`. Everything else
 * receives a `GpuContext` (inject, don't reach), so tests and the browser worker can supply
 * their own `GPU` object (the Node `webgpu` package, `navigator.gpu`).
 */
import { GpuError } from '../errors.ts';

export interface GpuCapabilities {
  /** 'shader-f16' is available: weights can be stored as float16. */
  f16: boolean;
  /** 'timestamp-query' is available: per-stage GPU timing. */
  timestamps: boolean;
  /** The adapter is a software fallback (SwiftShader). */
  fallback: boolean;
  description: string;
}

export interface GpuContext {
  adapter: GPUAdapter;
  device: GPUDevice;
  caps: GpuCapabilities;
  /** Resolves when the device is lost (including by `device.destroy()`). */
  lost: Promise<GPUDeviceLostInfo>;
}

export interface AcquireOptions {
  /** The GPU entry point; defaults to `navigator.gpu` where it exists. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Do not request 'shader-f16' even where the adapter has it. */
  disableF16?: boolean;
}

function defaultGpu(): GPU | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu;
}

/** Limits worth raising above the WebGPU defaults when the adapter allows: big grids, many bindings. */
const WANTED_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX'] as const;

export async function acquireGpu(options: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = options.gpu ?? defaultGpu();
  if (!gpu) throw GpuError.unavailable('WebGPU: no GPU entry point (navigator.gpu is undefined and none was supplied)');
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  } catch (cause) {
    throw GpuError.unavailable('WebGPU: requestAdapter failed', cause);
  }
  if (!adapter) throw GpuError.unavailable('WebGPU: no adapter (requestAdapter returned null)');
  const features: GPUFeatureName[] = [];
  const f16 = !options.disableF16 && adapter.features.has('shader-f16');
  const timestamps = adapter.features.has('timestamp-query');
  if (f16) features.push('shader-f16');
  if (timestamps) features.push('timestamp-query');
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label: 'r2talker.device', requiredFeatures: features, requiredLimits });
  } catch (cause) {
    throw GpuError.unavailable('WebGPU: requestDevice failed', cause);
  }
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const description = info ? [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unknown adapter' : 'unknown adapter';
  const fallback = Boolean((adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter) || /swiftshader/i.test(description);
  return { adapter, device, caps: { f16, timestamps, fallback, description }, lost: device.lost };
}

/**
 * A new device after a loss: the caller's own `acquire` where it injects one (tests, the browser
 * worker), `acquireGpu` otherwise. Failing here is a device-loss error, not "unavailable": the
 * renderer had a device and lost it.
 */
export async function reacquireGpu(options: AcquireOptions & { acquire?: () => Promise<GpuContext> }): Promise<GpuContext> {
  try {
    return await (options.acquire ?? (() => acquireGpu(options)))();
  } catch (cause) {
    throw GpuError.deviceLost('WebGPU device lost and a new device could not be acquired', cause);
  }
}
