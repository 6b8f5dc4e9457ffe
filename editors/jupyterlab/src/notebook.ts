/**
 * What the extension reads from notebooks: the active cell's code and error, the notebook's kernel, and
 * where a line of the notebook's indexed text (its code cells joined by newlines, as Nexus indexes
 * notebooks) is, so a receipt's link opens the right cell.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICodeCellModel } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

export interface ICellTarget {
  panel: NotebookPanel;
  index: number;
  path: string;
  code: string;
  language: string;
  error: string | null;
}

// ANSI colour codes in tracebacks mean nothing to a model.
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function activeCell(tracker: INotebookTracker): ICellTarget | null {
  const panel = tracker.currentWidget;
  const notebook = panel?.content;
  const cell = notebook?.activeCell;
  if (!panel || !notebook || !cell) {
    return null;
  }
  return {
    panel,
    index: notebook.activeCellIndex,
    path: panel.context.path,
    code: cell.model.sharedModel.getSource(),
    language: kernelLanguage(panel),
    error: cell.model.type === 'code' ? cellError(cell.model as ICodeCellModel) : null
  };
}

/** The cell's error output as text (`ename: evalue` and the traceback), or null when it has none. */
export function cellError(model: ICodeCellModel): string | null {
  for (let i = 0; i < model.outputs.length; i++) {
    const output = model.outputs.get(i).toJSON() as any;
    if (output.output_type === 'error') {
      const trace = Array.isArray(output.traceback) ? output.traceback.join('\n') : '';
      return `${output.ename}: ${output.evalue}\n${trace}`.replace(ANSI, '').trim();
    }
  }
  return null;
}

export function kernelLanguage(panel: NotebookPanel): string {
  const info = panel.model?.getMetadata('language_info') as { name?: string } | undefined;
  return (info?.name || panel.sessionContext.session?.kernel?.name || 'python').toLowerCase();
}

export function kernelId(panel: NotebookPanel | null | undefined): string | null {
  return panel?.sessionContext.session?.kernel?.id ?? null;
}

/** The (cell index, line in the cell) of a 0-based line of the notebook's indexed text. */
export function cellOfLine(panel: NotebookPanel, line: number): [number, number] | null {
  const cells = panel.content.widgets;
  let start = 0;
  for (let i = 0; i < cells.length; i++) {
    const model = cells[i].model;
    if (model.type !== 'code') {
      continue;
    }
    const count = model.sharedModel.getSource().split('\n').length;
    if (line < start + count) {
      return [i, line - start];
    }
    start += count;
  }
  return null;
}

/** Open a workspace file at a 1-based line: a notebook's cell, or a text file's line. */
export async function openAt(app: JupyterFrontEnd, path: string, line: number): Promise<void> {
  const widget: any = await app.commands.execute('docmanager:open', { path });
  if (!widget) {
    return;
  }
  await widget.context?.ready;
  if (widget instanceof NotebookPanel) {
    const found = cellOfLine(widget, line - 1);
    if (found) {
      const [index, row] = found;
      widget.content.activeCellIndex = index;
      const cell = widget.content.widgets[index];
      await widget.content.scrollToItem(index);
      cell.editor?.setCursorPosition({ line: row, column: 0 });
    }
    return;
  }
  const editor = widget.content?.editor;
  if (editor) {
    editor.setCursorPosition({ line: Math.max(0, line - 1), column: 0 });
    editor.revealPosition?.({ line: Math.max(0, line - 1), column: 0 });
    editor.focus();
  }
}
