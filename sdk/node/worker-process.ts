/**
 * Starting `r2talker livekit-avatar` for a LiveKit Agents agent: the worker's access token
 * (it publishes on the agent's behalf) and the worker process. Used by R2TalkerAvatarSession
 * (agents-avatar-session.ts) and examples/livekit-agent-avatar.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccessToken } from 'livekit-server-sdk';
import { ConfigError } from '../../worker/errors.ts';

export interface AvatarWorkerLaunch {
  /** LiveKit server URL (ws:// or wss://). */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Room name. */
  room: string;
  /** The agent participant the worker serves (its speech arrives from it; RPCs go to it). */
  agentIdentity: string;
  /** Identity of the worker's own participant. */
  identity: string;
  /** The .r2t file, or "builtin". */
  avatar: string;
  /** Extra CLI flags (--backend, --render-side, --fps, ...). */
  flags?: string[];
}

function check(o: AvatarWorkerLaunch): void {
  if (!/^wss?:\/\//.test(o.url ?? '')) throw new ConfigError(`url: expected a ws:// or wss:// LiveKit URL, got ${JSON.stringify(o.url)}`);
  for (const k of ['apiKey', 'apiSecret', 'room', 'agentIdentity', 'identity', 'avatar'] as const) {
    if (typeof o[k] !== 'string' || o[k].length === 0) throw new ConfigError(`${k}: expected a non-empty string`);
  }
  if (o.identity === o.agentIdentity) throw new ConfigError(`identity: the avatar worker needs an identity of its own, not the agent's (${o.agentIdentity})`);
}

/** The worker's token: join and publish, update its own attributes (figures), publish on the agent's behalf. */
export async function avatarWorkerToken(o: AvatarWorkerLaunch): Promise<string> {
  check(o);
  const at = new AccessToken(o.apiKey, o.apiSecret, {
    identity: o.identity,
    name: `${o.agentIdentity} (avatar)`,
    // The agents framework reads this to treat the avatar's tracks as the agent's.
    attributes: { 'lk.publish_on_behalf': o.agentIdentity },
    ttl: '1h',
  });
  at.addGrant({ roomJoin: true, room: o.room, canPublish: true, canSubscribe: false, canPublishData: true, canUpdateOwnMetadata: true });
  return at.toJwt();
}

/**
 * Starts the worker through the `npx r2talker` launcher (it passes SIGTERM on, so the worker
 * leaves the room cleanly, and exits as the worker did). Its output is piped: read or drain it.
 */
export async function spawnAvatarWorker(o: AvatarWorkerLaunch): Promise<ChildProcess> {
  const token = await avatarWorkerToken(o);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  return spawn(process.execPath, [path.join(root, 'bin/r2talker.js'), 'livekit-avatar', '--url', o.url, '--token', token, '--avatar', o.avatar, ...(o.flags ?? [])], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
