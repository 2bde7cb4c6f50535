/**
 * Example: give a LiveKit Agents voice agent a face, self-hosted.
 *
 * With @livekit/agents (Node), in the agent's entry, before session.start():
 *
 *     const avatar = await wearAvatar(session, ctx.room, 'me.r2t');
 *
 * R2TalkerAvatarSession starts one `r2talker livekit-avatar` worker per agent session, with a
 * token that lets it publish on the agent's behalf, and sends the agent's speech to it
 * (tests/e2e/sdk-livekit-agents.test.ts runs this with a real AgentSession).
 *
 * Without the agents framework (an agent of your own speaking the avatar protocol), start the
 * worker yourself with startAvatarForAgent (tests/e2e/sdk-livekit-avatar.test.ts runs it).
 */
import type { ChildProcess } from 'node:child_process';
import type { voice } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';
import { R2TalkerAvatarSession } from '../sdk/node/agents-avatar-session.ts';
import { spawnAvatarWorker } from '../sdk/node/worker-process.ts';

/** The agents way: LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET come from the agent's environment. */
export async function wearAvatar(session: voice.AgentSession, room: Room, avatar: string, flags: string[] = []): Promise<R2TalkerAvatarSession> {
  const a = new R2TalkerAvatarSession({ avatar, flags });
  await a.start(session, room);
  return a;
}

export interface AvatarForAgentOptions {
  url: string;
  apiKey: string;
  apiSecret: string;
  room: string;
  /** The agent participant the worker serves (its speech arrives from it; RPCs go to it). */
  agentIdentity: string;
  /** The .r2t file, or "builtin". */
  avatar: string;
  /** Extra CLI flags (--backend, --render-side, --fps, ...). */
  flags?: string[];
}

/** Starts the worker process; it leaves when the room ends or it is sent SIGTERM. */
export async function startAvatarForAgent(o: AvatarForAgentOptions, identity = `${o.agentIdentity}-avatar`): Promise<{ identity: string; process: ChildProcess }> {
  return { identity, process: await spawnAvatarWorker({ ...o, identity }) };
}
