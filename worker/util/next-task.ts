/** Resolves on a later task of the event loop, not a microtask: code that runs for seconds between
 * real awaits (the photometric searches) awaits this so that messages queued meanwhile, such as a
 * cancel posted to the worker, are handled and an AbortSignal can flip before the next check. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
