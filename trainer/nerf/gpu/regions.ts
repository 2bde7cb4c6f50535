/**
 * Packing of named float regions into one GPU buffer: every region starts on a multiple of 64
 * floats (256 bytes, WebGPU's minimum storage-buffer offset alignment), so each can be bound on
 * its own as a buffer slice.
 */

/** n rounded up to a multiple of 64 floats. */
export const align = (n: number): number => Math.ceil(n / 64) * 64;

/** Float offset of each region (in the order given) and the floats the buffer needs. */
export function regions(sizes: Record<string, number>): { at: Record<string, number>; total: number } {
  const at: Record<string, number> = {};
  let total = 0;
  for (const [k, v] of Object.entries(sizes)) {
    at[k] = total;
    total += align(Math.max(v, 1));
  }
  return { at, total };
}
