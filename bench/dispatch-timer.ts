/**
 * Times one compute dispatch: a warm-up run, then the best of `reps` runs by wall clock and by
 * process CPU time (a software adapter runs in this process, so its CPU time is what the
 * adapter burnt, robust to other load on a shared machine; NaN where there is no process).
 */
const cpuMs = () => {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  const u = p?.cpuUsage?.();
  return u ? (u.user + u.system) / 1000 : NaN;
};

export async function timeDispatch(device: GPUDevice, pipeline: GPUComputePipeline, group: GPUBindGroup, workgroups: number, reps = 3): Promise<{ wallMs: number; cpuMs: number }> {
  const run = async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(workgroups);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  let wallMs = Infinity;
  let cpu = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    await run();
    cpu = Math.min(cpu, cpuMs() - c0);
    wallMs = Math.min(wallMs, performance.now() - t0);
  }
  return { wallMs, cpuMs: cpu };
}
