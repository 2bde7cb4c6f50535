/** Base64 <-> bytes inside the codec pages (Playwright carries strings, not typed arrays). */

export function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const STEP = 0x8000;
  for (let i = 0; i < bytes.length; i += STEP) parts.push(String.fromCharCode(...bytes.subarray(i, i + STEP)));
  return btoa(parts.join(''));
}
