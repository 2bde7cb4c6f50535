/**
 * A real LiveKit SFU (v1.13.5, built by scripts/livekit-server.sh) for the conferencing
 * tests, in a network namespace of the test's own.
 *
 * Why a namespace: libwebrtc (inside @livekit/rtc-node, and Chromium without
 * --allow-loopback-in-peer-connection) never gathers loopback candidates, so a server on
 * 127.0.0.1 is unreachable for media. A veth pair whose far end lives in a fresh namespace
 * gives both sides an ordinary interface on a test address (198.18.0.0/15, the benchmarking
 * range) while every packet stays on this machine. The namespace is held by a `sleep`
 * process: when it dies (stop() or a crashed test) the kernel deletes the namespace and the
 * veth pair with it, so nothing is left behind. Needs root (CI and these machines are).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccessToken, type VideoGrant } from 'livekit-server-sdk';
import { ROOT } from './browser.ts';

export const API_KEY = 'devkey';
export const API_SECRET = 'secret';

export interface LiveKitServer {
  /** ws://<server address>:7880 */
  url: string;
  /** The server's address inside its namespace. */
  serverIp: string;
  /** A join token for `identity` in `room`, with extra grants merged in. */
  token(identity: string, room: string, grant?: Partial<VideoGrant>, attributes?: Record<string, string>): Promise<string>;
  /** Everything the server logged so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** Path of the cached server binary; builds it (minutes) when missing. */
export function livekitServerBinary(): string {
  const out = execFileSync('bash', [path.join(ROOT, 'scripts/livekit-server.sh')], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const bin = out.trim().split('\n').pop() ?? '';
  if (!bin) throw new Error('scripts/livekit-server.sh printed no binary path');
  return bin;
}

function waitForLine(child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: exited with ${code}`));
    });
  });
}

async function waitHttpOk(url: string, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`LiveKit server at ${url} not ready within ${timeoutMs} ms (${last}); log:\n${logs().slice(-3000)}`);
}

export async function startLiveKitServer(): Promise<LiveKitServer> {
  if (process.getuid?.() !== 0) throw new Error('the LiveKit tests need root: they make a network namespace and a veth pair');
  const bin = livekitServerBinary();
  // A random /30 and interface names, so parallel runs on one machine never collide.
  const net = `198.18.${randomInt(1, 254)}.${4 * randomInt(0, 63)}`;
  const [a, b, c] = net.split('.').map(Number) as [number, number, number, number];
  const base = Number(net.split('.')[3]);
  const serverIp = `${a}.${b}.${c}.${base + 1}`;
  const hostIp = `${a}.${b}.${c}.${base + 2}`;
  const tag = randomInt(0, 0xffffff).toString(16).padStart(6, '0');
  const hostIf = `r2t${tag}h`;
  const nsIf = `r2t${tag}n`;

  const holder = spawn('unshare', ['-n', '--', 'sh', '-c', 'echo up; exec sleep 3600'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const cleanup: (() => void)[] = [() => holder.kill('SIGKILL')];
  const dir = mkdtempSync(path.join(tmpdir(), 'r2t-livekit-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  let server: ChildProcess | null = null;
  let logText = '';
  try {
    await waitForLine(holder, 'unshare -n', 5000);
    const pid = String(holder.pid);
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const nsip = (...args: string[]) => execFileSync('nsenter', ['-t', pid, '-n', 'ip', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', pid);
    cleanup.push(() => {
      try {
        ip('link', 'del', hostIf);
      } catch {
        // Already gone with the namespace.
      }
    });
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    nsip('link', 'set', 'lo', 'up');
    nsip('addr', 'add', `${serverIp}/30`, 'dev', nsIf);
    nsip('link', 'set', nsIf, 'up');

    // Ports are the namespace's own, so the --dev defaults cannot collide with anything.
    const config = [
      'port: 7880',
      `bind_addresses: ["${serverIp}"]`,
      'rtc:',
      '  tcp_port: 7881',
      '  udp_port: 7882',
      `  node_ip: ${serverIp}`,
      '  use_external_ip: false',
      '  interfaces:',
      `    includes: ["${nsIf}"]`,
      'logging:',
      '  level: info',
      '',
    ].join('\n');
    const configPath = path.join(dir, 'livekit.yaml');
    writeFileSync(configPath, config);
    server = spawn('nsenter', ['-t', pid, '-n', bin, '--dev', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (d: Buffer) => {
      logText = (logText + d.toString('utf8')).slice(-200_000);
    };
    server.stdout?.on('data', append);
    server.stderr?.on('data', append);
    const srv = server;
    cleanup.unshift(() => srv.kill('SIGKILL'));
    await waitHttpOk(`http://${serverIp}:7880/`, 30_000, () => logText);
  } catch (e) {
    for (const f of cleanup) f();
    throw e;
  }

  let stopped = false;
  const srv = server;
  return {
    url: `ws://${serverIp}:7880`,
    serverIp,
    async token(identity, room, grant = {}, attributes) {
      const at = new AccessToken(API_KEY, API_SECRET, { identity, ttl: '10m', attributes });
      // canUpdateOwnMetadata: the avatar worker publishes its figures as participant attributes.
      at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true, canUpdateOwnMetadata: true, ...grant });
      return at.toJwt();
    },
    log: () => logText,
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise<void>((r) => (srv.exitCode !== null ? r() : srv.once('exit', () => r())));
      srv.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      for (const f of cleanup) f();
    },
  };
}
