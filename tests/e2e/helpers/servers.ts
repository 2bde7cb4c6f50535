/**
 * Tiny HTTP servers for the e2e tests: the fixture pages on 127.0.0.1 (with the response
 * headers each page's class of app uses), and a recording proxy that must stay silent.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const PAGES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/pages');

/** Response headers per page, reproducing the policies of real meeting apps. */
export const PAGE_HEADERS: Record<string, Record<string, string>> = {
  // Google Meet class: strict CSP with worker-src 'self' and Trusted Types enforced.
  'meet.html': {
    'Content-Security-Policy':
      "default-src 'self'; script-src 'self'; worker-src 'self'; frame-src 'self'; connect-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; object-src 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types meet-app",
  },
  // A page (or an embedding frame) that may not use the microphone: getUserMedia for audio
  // is refused whatever the user answered, the way a denied permission is.
  'no-mic.html': { 'Permissions-Policy': 'microphone=()' },
  // Zoom web class: cross-origin isolated.
  'zoom.html': { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
};

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css' };

export interface Running {
  url: string;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

export async function startPageServer(): Promise<Running> {
  const server = createServer(async (req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'basic.html';
    // Fixture names only: no traversal out of the pages folder.
    if (!/^[a-z0-9-]+\.(html|js|css)$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(path.join(PAGES_DIR, name));
      const headers: Record<string, string> = { 'Content-Type': TYPES[path.extname(name)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' };
      // Subresources of the isolated page must opt in to being embedded.
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
      res.writeHead(200, { ...headers, ...(PAGE_HEADERS[name] ?? {}) }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const url = await listen(server);
  return { url, close: closer(server) };
}

export interface Recorder extends Running {
  /** Every request that reached the proxy: "METHOD url". */
  requests: string[];
  /** host:port for --proxy-server. */
  hostPort: string;
}

/** A proxy that answers nothing useful and records everything; nothing should reach it. */
export async function startRecordingProxy(): Promise<Recorder> {
  const requests: string[] = [];
  const record = (req: IncomingMessage) => requests.push(`${req.method ?? '?'} ${req.url ?? '?'}`);
  const server = createServer((req, res) => {
    record(req);
    res.writeHead(502).end();
  });
  server.on('connect', (req, socket) => {
    record(req);
    // The CONNECT socket is ours from here: Chromium may reset it, and an 'error' with no
    // listener would be an uncaught exception that fails the whole run.
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
  const url = await listen(server);
  return { url, hostPort: url.replace('http://', ''), requests, close: closer(server) };
}
