/**
 * Inline completion (ghost text) from Nexus on JupyterLab's inline completer API: `ai:complete` with the
 * cell's text and cursor. Requests are debounced, and a newer request (the next keystroke) cancels the
 * one in flight, on the server too (its model request is closed).
 */
import {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionList,
  IInlineCompletionProvider
} from '@jupyterlab/completer';
import { NotebookPanel } from '@jupyterlab/notebook';

import { NexusClient } from './api';

export const INLINE_ID = 'nexus';
const DEBOUNCE_MS = 250;

export class NexusInlineProvider implements IInlineCompletionProvider {
  readonly identifier = INLINE_ID;
  readonly name = 'Nexus';
  readonly schema = {
    default: { enabled: true, debouncerDelay: 0, timeout: 20000 }
  };

  constructor(private readonly client: NexusClient) {}

  async fetch(request: CompletionHandler.IRequest, context: IInlineCompletionContext): Promise<IInlineCompletionList> {
    this._current?.abort();
    const abort = (this._current = new AbortController());
    await new Promise(resolve => setTimeout(resolve, DEBOUNCE_MS));
    if (abort.signal.aborted) {
      return { items: [] };
    }
    const before = request.text.slice(0, request.offset);
    const line = before.split('\n').length - 1;
    const character = before.length - (before.lastIndexOf('\n') + 1);
    const widget = context.widget;
    const path = widget instanceof NotebookPanel ? widget.context.path : ((widget as any).context?.path ?? 'untitled');
    const language = widget instanceof NotebookPanel ? notebookLanguage(widget) : undefined;
    try {
      const found = await this.client.call(
        'ai:complete',
        { document: { path, text: request.text, ...(language ? { language } : {}) }, cursor: [line, character] },
        undefined,
        abort.signal
      );
      return { items: found?.text ? [{ insertText: found.text }] : [] };
    } catch {
      return { items: [] }; // cancelled by the next keystroke, or no provider: no ghost text
    } finally {
      if (this._current === abort) {
        this._current = null;
      }
    }
  }

  private _current: AbortController | null = null;
}

function notebookLanguage(panel: NotebookPanel): string {
  const info = panel.model?.getMetadata('language_info') as { name?: string } | undefined;
  return (info?.name || 'python').toLowerCase();
}
