/**
 * The few chrome.* extension APIs this extension uses, typed here rather than pulling in
 * @types/chrome: the surface is small and a local declaration keeps what we depend on visible.
 */
declare namespace chrome {
  namespace runtime {
    interface MessageSender {
      id?: string;
      url?: string;
      origin?: string;
      tab?: { id?: number; url?: string };
      frameId?: number;
    }
    const id: string;
    const lastError: { message?: string } | undefined;
    function getURL(path: string): string;
    function sendMessage<R = unknown>(message: unknown): Promise<R>;
    const onMessage: {
      addListener(cb: (message: unknown, sender: MessageSender, sendResponse: (response?: unknown) => void) => boolean | void): void;
    };
    const onInstalled: { addListener(cb: (details: { reason: string }) => void): void };
    function openOptionsPage(): Promise<void>;
  }
  namespace storage {
    interface StorageChange {
      oldValue?: unknown;
      newValue?: unknown;
    }
    interface StorageArea {
      get(keys: string | string[] | null): Promise<Record<string, unknown>>;
      set(items: Record<string, unknown>): Promise<void>;
      remove(keys: string | string[]): Promise<void>;
    }
    const local: StorageArea;
    const onChanged: {
      addListener(cb: (changes: Record<string, StorageChange>, areaName: string) => void): void;
      removeListener(cb: (changes: Record<string, StorageChange>, areaName: string) => void): void;
    };
  }
}
