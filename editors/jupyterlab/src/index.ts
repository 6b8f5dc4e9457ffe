/**
 * Nexus in JupyterLab: the chat side panel, cell commands (Explain, Fix this error, Add docstring) in the
 * cell toolbar, the context menu and the palette, inline completion, and a status bar item. Every call
 * goes to the Nexus API of the Jupyter server this page came from (see ./api.ts).
 */
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { bugIcon, editIcon, infoIcon, LabIcon } from '@jupyterlab/ui-components';

import { NexusClient } from './api';
import { NexusInlineProvider } from './inline';
import { activeCell, kernelId } from './notebook';
import { ChatPanel } from './panel';
import { StatusItem } from './status';

const PLUGIN_ID = 'nexus-jupyterlab:plugin';

export const nexusIcon = new LabIcon({
  name: 'nexus:logo',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<circle cx="5" cy="12" r="2.5"/><circle cx="19" cy="5" r="2.5"/><circle cx="19" cy="19" r="2.5"/>' +
    '<path d="M6.8 10.9 17.2 5.9l.6 1.2L7.4 12.1zM7.4 11.9l10.4 5 -.6 1.2-10.4-5z"/></g></svg>'
});

export const CommandIDs = {
  openChat: 'nexus:open-chat',
  explain: 'nexus:explain-cell',
  fix: 'nexus:fix-cell',
  docstring: 'nexus:docstring-cell'
};

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Nexus: chat grounded in the workspace, cell commands, inline completion and status.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ICompletionProviderManager, IStatusBar, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    completions: ICompletionProviderManager | null,
    statusBar: IStatusBar | null
  ) => {
    const client = new NexusClient();
    const panel = new ChatPanel(app, client, tracker);
    panel.title.icon = nexusIcon;
    app.shell.add(panel, 'right', { rank: 900 });

    const status = new StatusItem(client);
    const refresh = async () => {
      const found = await status.refresh();
      if (found) {
        panel.setProviderAvailable(Boolean(found.providers?.available));
      }
    };
    void refresh();
    window.setInterval(() => void refresh(), 30000);
    statusBar?.registerStatusItem('nexus:status', { item: status, align: 'left', rank: 100 });

    const show = () => app.shell.activateById(panel.id);
    const onCell = (task: 'explain' | 'fix' | 'docstring', title: string) => async () => {
      const cell = activeCell(tracker);
      show();
      if (!cell) {
        await panel.ask({ title, payload: { task: 'chat', prompt: '' } });
        return;
      }
      const payload: Record<string, unknown> = {
        task,
        document: { path: cell.path, text: cell.code, language: cell.language },
        openFiles: [cell.path]
      };
      const id = kernelId(cell.panel);
      if (id && cell.language === 'python') {
        payload.kernelId = id;
      }
      if (task === 'fix') {
        payload.error = cell.error ?? '';
      }
      const model = cell.panel.content.widgets[cell.index]?.model;
      await panel.ask({
        title: `${title}: ${cell.path}, cell ${cell.index + 1}`,
        payload,
        apply: text => model?.sharedModel.setSource(text.replace(/\n$/, ''))
      });
    };

    app.commands.addCommand(CommandIDs.openChat, {
      label: 'Nexus: Open Chat',
      icon: nexusIcon,
      execute: show
    });
    app.commands.addCommand(CommandIDs.explain, {
      label: 'Nexus: Explain Cell',
      caption: 'Explain this cell, grounded in the workspace',
      icon: args => (args.toolbar ? infoIcon : undefined),
      execute: onCell('explain', 'Explain')
    });
    app.commands.addCommand(CommandIDs.fix, {
      label: 'Nexus: Fix This Error',
      caption: "Fix this cell from its traceback",
      icon: args => (args.toolbar ? bugIcon : undefined),
      execute: onCell('fix', 'Fix this error')
    });
    app.commands.addCommand(CommandIDs.docstring, {
      label: 'Nexus: Add Docstring',
      caption: 'Add a docstring to the code in this cell',
      icon: args => (args.toolbar ? editIcon : undefined),
      execute: onCell('docstring', 'Add docstring')
    });
    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category: 'Nexus' });
    }

    completions?.registerInlineProvider(new NexusInlineProvider(client));
  }
};

export default plugin;
