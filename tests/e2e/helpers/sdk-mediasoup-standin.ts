/**
 * A stand-in for a mediasoup server's WebRTC transport, in the browser (bundled into the SDK
 * test page): a plain RTCPeerConnection in a second page answers what mediasoup-client's real
 * Device sends. (A mediasoup server cannot be built offline: its worker build downloads its
 * dependencies.)
 *
 * A mediasoup transport is ICE-lite with ICE and DTLS parameters fixed before any SDP exists;
 * mediasoup-client writes its own SDP answer from them. The stand-in therefore fixes its
 * parameters first: its DTLS certificate is generated up front (so its fingerprint is known),
 * its ICE credentials are chosen up front and written into its answers, and it takes the DTLS
 * client role (mediasoup's dtlsParameters.role 'client', which makes the Device's side the
 * DTLS server, as a Chromium answerer expects). Its ICE candidates are only known once it has
 * answered, so they are trickled to the Device's RTCPeerConnection afterwards.
 *
 * Near side: `capturePeerConnections()` records the RTCPeerConnections the page creates (the
 * Device's handler creates one per transport), so the stand-in can read the offer it set.
 */

/** The far end (the stand-in's page). */
export interface StandInParameters {
  usernameFragment: string;
  password: string;
  fingerprint: { algorithm: 'sha-256'; value: string };
}

let far: { pc: RTCPeerConnection; params: StandInParameters; tracks: MediaStreamTrack[] } | null = null;

function randomToken(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/** Creates the stand-in's peer connection and returns the transport parameters a server would send. */
export async function prepareFarEnd(): Promise<StandInParameters> {
  const cert = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams);
  const fp = cert.getFingerprints().find((f) => f.algorithm === 'sha-256');
  if (!fp?.value) throw new Error('stand-in: the certificate has no sha-256 fingerprint');
  const pc = new RTCPeerConnection({ certificates: [cert], bundlePolicy: 'max-bundle' });
  const tracks: MediaStreamTrack[] = [];
  pc.ontrack = (e) => tracks.push(e.track);
  // ICE: ufrag >= 4 and password >= 22 characters of ice-char (RFC 8839).
  const params: StandInParameters = { usernameFragment: randomToken(8), password: randomToken(24), fingerprint: { algorithm: 'sha-256', value: fp.value } };
  far = { pc, params, tracks };
  return params;
}

function gathered(pc: RTCPeerConnection, ms = 10_000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ICE gathering did not complete in ${ms} ms`)), ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** Answers the Device's offer with the stand-in's fixed ICE credentials; returns its candidates. */
export async function answerOffer(sdp: string): Promise<string[]> {
  if (!far) throw new Error('stand-in: prepareFarEnd() first');
  const { pc, params } = far;
  await pc.setRemoteDescription({ type: 'offer', sdp });
  const answer = await pc.createAnswer();
  const munged = answer.sdp!.replace(/a=ice-ufrag:[^\r\n]*/g, `a=ice-ufrag:${params.usernameFragment}`).replace(/a=ice-pwd:[^\r\n]*/g, `a=ice-pwd:${params.password}`);
  await pc.setLocalDescription({ type: 'answer', sdp: munged });
  await gathered(pc);
  return pc.localDescription!.sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
}

/** What the stand-in receives: its tracks, connection state and inbound RTP counters. */
export async function farEndState(): Promise<{ connection: string; kinds: string[]; framesDecoded: number; audioPackets: number; width: number; height: number }> {
  if (!far) throw new Error('stand-in: prepareFarEnd() first');
  let framesDecoded = 0;
  let audioPackets = 0;
  let width = 0;
  let height = 0;
  (await far.pc.getStats()).forEach((r: { type: string; kind?: string; framesDecoded?: number; packetsReceived?: number; frameWidth?: number; frameHeight?: number }) => {
    if (r.type !== 'inbound-rtp') return;
    if (r.kind === 'video') {
      framesDecoded += r.framesDecoded ?? 0;
      width = r.frameWidth ?? width;
      height = r.frameHeight ?? height;
    } else if (r.kind === 'audio') audioPackets += r.packetsReceived ?? 0;
  });
  return { connection: far.pc.connectionState, kinds: far.tracks.map((t) => t.kind), framesDecoded, audioPackets, width, height };
}

export function farVideoTrack(): MediaStreamTrack {
  const t = far?.tracks.find((x) => x.kind === 'video');
  if (!t) throw new Error('stand-in: no video track received');
  return t;
}

export function closeFarEnd(): void {
  far?.pc.close();
  far = null;
}

/** Near side: every RTCPeerConnection the page creates from now on, newest last. */
export const nearPeerConnections: RTCPeerConnection[] = [];
let capturing = false;

export function capturePeerConnections(): void {
  if (capturing) return;
  capturing = true;
  const Native = globalThis.RTCPeerConnection;
  // A subclass keeps instanceof, static methods and the prototype the handler expects.
  class Recorded extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      nearPeerConnections.push(this);
    }
  }
  globalThis.RTCPeerConnection = Recorded;
}

/** The Device's current offer with its candidates (waits for gathering). */
export async function nearOffer(): Promise<string> {
  const pc = nearPeerConnections.at(-1);
  if (!pc?.localDescription) throw new Error('stand-in: the Device has not set an offer');
  await gathered(pc);
  return pc.localDescription!.sdp;
}

/** Trickles the stand-in's candidates to the Device's peer connection. */
export async function addFarCandidates(candidates: string[]): Promise<void> {
  const pc = nearPeerConnections.at(-1);
  if (!pc) throw new Error('stand-in: no near peer connection');
  for (const candidate of candidates) await pc.addIceCandidate({ candidate, sdpMLineIndex: 0 });
}
