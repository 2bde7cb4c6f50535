/**
 * The popup's avatar library: the built-in avatar and every stored one, one click to choose,
 * and per stored avatar rename (inline, validated), export (a `.r2t` download of the stored
 * bytes, unchanged) and delete (asks first, inline: a modal dialog would close the popup).
 */
import type { BackgroundRequest, BackgroundResponse } from '../protocol/background.ts';
import { MAX_NAME_LENGTH, exportFileName, getAvatarFile, listAvatars, renameAvatar, type AvatarMeta } from '../shared/avatar-store.ts';

export const BUILT_IN_NAME = 'Built-in avatar';

export interface LibraryElements {
  list: HTMLUListElement;
  /** errors (role=alert) */
  error: HTMLElement;
  /** confirmations (role=status) */
  done: HTMLElement;
}

export interface LibraryHooks {
  chosen(): string | null;
  choose(id: string | null): Promise<void>;
}

/** "1.4 MB" / "820 KB": sizes a person reads, in decimal units like file managers show. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(n / 1e3))} KB`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function button(text: string, cls: string, onClick: () => void, label?: string): HTMLButtonElement {
  const b = el('button', { type: 'button', className: `btn small ${cls}`, textContent: text });
  if (label) b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

export class AvatarLibrary {
  constructor(
    private readonly db: IDBDatabase,
    private readonly ui: LibraryElements,
    private readonly hooks: LibraryHooks,
  ) {}

  async render(): Promise<AvatarMeta[]> {
    const stored = await listAvatars(this.db);
    const chosen = this.hooks.chosen();
    const rows = [this.row(null, BUILT_IN_NAME, 'Ships with the extension', chosen === null)];
    for (const a of stored) rows.push(this.row(a, a.name, `${formatBytes(a.bytes)} \u00b7 added ${new Date(a.addedAt).toLocaleDateString()}`, chosen === a.id));
    this.ui.list.replaceChildren(...rows);
    return stored;
  }

  private say(text: string): void {
    this.ui.error.textContent = '';
    this.ui.done.textContent = text;
  }

  private fail(text: string): void {
    this.ui.done.textContent = '';
    this.ui.error.textContent = text;
  }

  private row(meta: AvatarMeta | null, name: string, detail: string, chosen: boolean): HTMLLIElement {
    const id = meta?.id ?? null;
    const li = el('li');
    li.dataset.avatarId = id ?? 'built-in';
    li.classList.toggle('chosen', chosen);
    const radioId = `avatar-${id ?? 'built-in'}`;
    const radio = el('input', { type: 'radio', name: 'avatar', id: radioId, checked: chosen });
    radio.addEventListener('change', () => void this.hooks.choose(id).then(() => this.render()));
    const who = el('label', { className: 'who', htmlFor: radioId }, el('span', { className: 'name', textContent: name, title: name }), el('small', { textContent: detail }));
    li.append(radio, who);
    if (!meta) return li;
    const actions = el('div', { className: 'actions' });
    actions.append(
      button('Rename', 'quiet', () => this.startRename(li, meta), `Rename ${meta.name}`),
      button('Export', 'quiet', () => void this.exportOne(meta), `Export ${meta.name} as a .r2t file`),
      button('Delete', 'quiet danger', () => this.askDelete(li, meta), `Delete ${meta.name}`),
    );
    li.append(actions);
    return li;
  }

  private startRename(li: HTMLLIElement, meta: AvatarMeta): void {
    const input = el('input', { type: 'text', value: meta.name, maxLength: MAX_NAME_LENGTH + 20, className: 'rename-input' });
    input.setAttribute('aria-label', `New name for ${meta.name}`);
    const save = async (): Promise<void> => {
      try {
        const next = await renameAvatar(this.db, meta.id, input.value);
        await this.render();
        this.say(`Renamed to \u201c${next.name}\u201d.`);
      } catch (e) {
        this.fail(e instanceof Error ? e.message : String(e));
        input.focus();
      }
    };
    // Cancel puts the row back as it was, at once: nothing changed, so nothing to reload.
    const before = [...li.childNodes];
    const cancel = (): void => {
      this.ui.error.textContent = '';
      li.replaceChildren(...before);
      li.querySelector<HTMLButtonElement>('.actions button')?.focus();
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void save();
      if (e.key === 'Escape') cancel();
    });
    const edit = el('div', { className: 'edit' }, input, button('Save', 'primary rename-save', () => void save()), button('Cancel', 'rename-cancel', cancel));
    li.replaceChildren(edit);
    input.focus();
    input.select();
  }

  private async exportOne(meta: AvatarMeta): Promise<void> {
    const file = await getAvatarFile(this.db, meta.id);
    if (!file) {
      this.fail(`\u201c${meta.name}\u201d is no longer stored (deleted in another window?).`);
      await this.render();
      return;
    }
    const url = URL.createObjectURL(new Blob([file], { type: 'application/octet-stream' }));
    const name = exportFileName(meta.name);
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    // The download has taken its copy once the click's task is done; a minute is generous.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    this.say(`Exported \u201c${meta.name}\u201d as ${name} (${formatBytes(meta.bytes)}).`);
  }

  private askDelete(li: HTMLLIElement, meta: AvatarMeta): void {
    this.say('');
    li.querySelector('.confirm')?.remove();
    const confirm = el(
      'div',
      { className: 'confirm' },
      el('span', { textContent: `Delete \u201c${meta.name}\u201d? This cannot be undone.` }),
      button('Delete', 'danger solid delete-confirm', () => void this.deleteOne(meta)),
      // Keep only takes the question away, at once: nothing changed, so nothing to reload.
      button('Keep', 'delete-cancel', () => {
        confirm.remove();
        li.querySelector<HTMLButtonElement>('.actions .danger')?.focus();
      }),
    );
    li.append(confirm);
    li.querySelector<HTMLButtonElement>('.delete-cancel')?.focus();
  }

  private async deleteOne(meta: AvatarMeta): Promise<void> {
    // Through the service worker: it also moves the camera back to the built-in avatar when
    // the deleted one was chosen, even if this popup closes meanwhile.
    const r = await chrome.runtime.sendMessage<BackgroundResponse>({ kind: 'delete-avatar', id: meta.id } satisfies BackgroundRequest);
    if (r?.kind !== 'ok') {
      this.fail(`\u201c${meta.name}\u201d could not be deleted: ${r?.kind === 'error' ? r.message : 'the extension did not answer'}.`);
      return;
    }
    if (this.hooks.chosen() === meta.id) await this.hooks.choose(null);
    await this.render();
    this.say(`Deleted \u201c${meta.name}\u201d.`);
  }
}
