import type { TrainIo } from '../../trainer/nerf/loop.ts';

/** The training loop's files in memory: the last checkpoint and the .r2t of each completed stage. */
export function memoryIo(checkpoint: Uint8Array | null = null): TrainIo & { checkpoint: Uint8Array | null; avatars: Map<string, Uint8Array> } {
  const io = {
    checkpoint,
    avatars: new Map<string, Uint8Array>(),
    readCheckpoint: async () => io.checkpoint,
    writeCheckpoint: async (b: Uint8Array) => {
      io.checkpoint = b.slice();
    },
    writeAvatar: async (b: Uint8Array, stage: string) => {
      io.avatars.set(stage, b.slice());
    },
  };
  return io;
}
