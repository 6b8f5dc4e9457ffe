/**
 * The Nexus side panel: ask about the workspace and the active notebook, see the answer stream in and
 * the context receipt (every file and line the model was shown, each a link that opens the file or the
 * notebook cell). Without a provider the answers are retrieval-only, and the panel says how to configure
 * one.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { IAnswer, NexusClient, NexusError } from './api';
import { activeCell, kernelId, openAt } from './notebook';

export const CONFIGURE_URL = 'https://pypi.org/project/nexus-ide/#ai-assistant';
export const HOW_TO_CONFIGURE =
  'No AI provider is configured: answers are the most relevant code of the workspace (retrieval-only). ' +
  'Set ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY (or NEXUS_LOCAL_BASE_URL and NEXUS_LOCAL_MODEL) ' +
  'for the Jupyter server, or [providers] in nexus.toml, and restart it.';

export interface IAskRequest {
  title: string;
  payload: Record<string, unknown>;
  /** Called with the cell's new text when a fix or docstring comes back with one. */
  apply?: (text: string) => void;
}

export class ChatPanel extends Widget {
  constructor(
    private readonly app: JupyterFrontEnd,
    private readonly client: NexusClient,
    private readonly tracker: INotebookTracker
  ) {
    super();
    this.id = 'nexus-chat';
    this.title.caption = 'Nexus';
    this.title.label = 'Nexus';
    this.addClass('nexus-Chat');
    const node = this.node;
    node.innerHTML = `
      <div class="nexus-Chat-header">Nexus</div>
      <div class="nexus-Chat-notice" hidden></div>
      <div class="nexus-Chat-log" role="log" aria-live="polite"></div>
      <form class="nexus-Chat-form">
        <textarea class="nexus-Chat-input" rows="3" placeholder="Ask about this notebook and the workspace"></textarea>
        <label><input type="checkbox" class="nexus-Chat-selection"> Include selection</label>
        <label><input type="checkbox" class="nexus-Chat-kernel" checked> Kernel variables</label>
        <div class="nexus-Chat-buttons">
          <button type="submit" class="jp-mod-styled jp-mod-accept nexus-Chat-send">Ask</button>
          <button type="button" class="jp-mod-styled nexus-Chat-stop" disabled>Stop</button>
        </div>
      </form>`;
    this._log = node.querySelector('.nexus-Chat-log') as HTMLElement;
    this._notice = node.querySelector('.nexus-Chat-notice') as HTMLElement;
    this._input = node.querySelector('.nexus-Chat-input') as HTMLTextAreaElement;
    const form = node.querySelector('form') as HTMLFormElement;
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.askQuestion();
    });
    this._input.addEventListener('keydown', event => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        void this.askQuestion();
      }
    });
    (node.querySelector('.nexus-Chat-stop') as HTMLButtonElement).addEventListener('click', () =>
      this._abort?.abort()
    );
  }

  /** Show whether answers are model-generated, and how to configure a provider when not. */
  setProviderAvailable(available: boolean): void {
    this._notice.hidden = available;
    if (!available) {
      this._notice.innerHTML = '';
      this._notice.append(HOW_TO_CONFIGURE + ' ');
      const link = document.createElement('a');
      link.href = CONFIGURE_URL;
      link.target = '_blank';
      link.rel = 'noopener';
      link.textContent = 'How to configure a provider';
      this._notice.append(link);
    }
  }

  /** Ask the question typed in the box, with the active notebook (and its selection, if asked). */
  async askQuestion(): Promise<void> {
    const question = this._input.value.trim();
    if (!question || this._abort) {
      return;
    }
    this._input.value = '';
    const payload: Record<string, unknown> = { task: 'chat', prompt: question };
    const panel = this.tracker.currentWidget;
    const cell = activeCell(this.tracker);
    const withSelection = (this.node.querySelector('.nexus-Chat-selection') as HTMLInputElement).checked;
    if (withSelection && cell) {
      const selected = selectedText(cell.panel) || cell.code;
      payload.prompt = `${question}\n\nSelected code (${cell.path}, cell ${cell.index + 1}):\n${selected}`;
    }
    if (panel) {
      payload.openFiles = [panel.context.path];
    }
    const withKernel = (this.node.querySelector('.nexus-Chat-kernel') as HTMLInputElement).checked;
    const id = kernelId(panel);
    if (withKernel && id && (cell?.language ?? 'python') === 'python') {
      payload.kernelId = id;
    }
    await this.ask({ title: question, payload });
  }

  /** Send one `ai:ask` and render its stream, receipt and (for a fix) an Apply button. */
  async ask(request: IAskRequest): Promise<IAnswer | null> {
    this._abort?.abort();
    const abort = (this._abort = new AbortController());
    const stop = this.node.querySelector('.nexus-Chat-stop') as HTMLButtonElement;
    stop.disabled = false;
    const entry = document.createElement('div');
    entry.className = 'nexus-Chat-entry';
    const asked = document.createElement('div');
    asked.className = 'nexus-Chat-question';
    asked.textContent = request.title;
    const answer = document.createElement('div');
    answer.className = 'nexus-Chat-answer nexus-mod-streaming';
    entry.append(asked, answer);
    this._log.append(entry);
    let text = '';
    try {
      const result: IAnswer = await this.client.call(
        'ai:ask',
        request.payload,
        (type, data) => {
          if (type === 'ai:delta') {
            text += data.text;
            answer.textContent = text;
            this._log.scrollTop = this._log.scrollHeight;
          }
        },
        abort.signal
      );
      answer.textContent = result.response;
      answer.classList.remove('nexus-mod-streaming');
      answer.classList.toggle('nexus-mod-retrieval', !result.generated);
      if (!result.generated) {
        this.setProviderAvailable(false);
      }
      entry.append(this._receipt(result));
      if (result.edit && request.apply) {
        const apply = document.createElement('button');
        apply.className = 'jp-mod-styled jp-mod-accept nexus-Chat-apply';
        apply.textContent = 'Apply to cell';
        apply.addEventListener('click', () => {
          request.apply?.(result.edit as string);
          apply.disabled = true;
        });
        entry.append(apply);
      }
      return result;
    } catch (error) {
      answer.classList.remove('nexus-mod-streaming');
      answer.classList.add('nexus-mod-error');
      const reason = error instanceof NexusError ? error.message : String(error);
      answer.textContent = text ? `${text}\n\n(${reason})` : reason;
      if (error instanceof NexusError && error.code === 'unavailable') {
        this.setProviderAvailable(false);
      }
      return null;
    } finally {
      if (this._abort === abort) {
        this._abort = null;
        stop.disabled = true;
      }
      this._log.scrollTop = this._log.scrollHeight;
    }
  }

  private _receipt(result: IAnswer): HTMLElement {
    const details = document.createElement('details');
    details.className = 'nexus-Chat-receipt';
    details.open = true;
    const summary = document.createElement('summary');
    const pieces = result.receipt?.pieces ?? [];
    const source = result.generated ? `${result.provider} ${result.model}`.trim() : 'retrieval-only';
    summary.textContent = `Context receipt: ${pieces.length} piece${pieces.length === 1 ? '' : 's'} (${source})`;
    details.append(summary);
    const list = document.createElement('ul');
    for (const piece of pieces) {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = '#';
      link.className = 'nexus-Chat-link';
      const lines = piece.endLine > piece.startLine ? `${piece.startLine}-${piece.endLine}` : `${piece.startLine}`;
      link.textContent = piece.path ? `${piece.path}:${lines}` : '(repo map)';
      link.title = piece.reason;
      link.addEventListener('click', event => {
        event.preventDefault();
        if (piece.path) {
          void openAt(this.app, piece.path, piece.startLine);
        }
      });
      item.append(link, ` ${piece.kind}, ${piece.tokens} tokens: ${piece.reason}`);
      list.append(item);
    }
    details.append(list);
    return details;
  }

  private _log: HTMLElement;
  private _notice: HTMLElement;
  private _input: HTMLTextAreaElement;
  private _abort: AbortController | null = null;
}

function selectedText(panel: { content: { activeCell: any } }): string {
  const editor = panel.content.activeCell?.editor;
  if (!editor) {
    return '';
  }
  const selection = editor.getSelection();
  const start = editor.getOffsetAt(selection.start);
  const end = editor.getOffsetAt(selection.end);
  return editor.model.sharedModel.getSource().slice(Math.min(start, end), Math.max(start, end));
}
