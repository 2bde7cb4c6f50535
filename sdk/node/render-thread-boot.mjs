// Worker threads do not inherit tsx's module hooks from the main thread, so the render
// thread registers them itself before loading its TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./render-thread.ts');
