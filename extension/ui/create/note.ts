/** The create page's one message shape (ui.css .note), in one of four tones. */
export function note(el: HTMLElement, tone: 'ok' | 'warn' | 'error' | '', text: string): void {
  el.className = `note ${tone}`.trim();
  el.textContent = text;
}
