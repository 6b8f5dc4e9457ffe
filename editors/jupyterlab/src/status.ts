/** The status bar item: the index's state and whether an AI provider is configured (with how to). */
import { Widget } from '@lumino/widgets';

import { IStatus, NexusClient } from './api';
import { CONFIGURE_URL } from './panel';

export class StatusItem extends Widget {
  constructor(private readonly client: NexusClient) {
    super();
    this.addClass('nexus-Status');
    this.node.textContent = 'Nexus: …';
  }

  async refresh(): Promise<IStatus | null> {
    let status: IStatus;
    try {
      status = await this.client.status();
    } catch (error) {
      this.node.textContent = 'Nexus: unavailable';
      this.node.title = String(error);
      return null;
    }
    const index: any = status.index ?? {};
    const indexed = index.indexed ? `${index.files} files indexed` : index.error ? 'index error' : 'not indexed';
    const available = Boolean(status.providers?.available);
    this.node.innerHTML = '';
    this.node.append(`Nexus: ${indexed} · `);
    if (available) {
      this.node.append('AI ready');
    } else {
      const link = document.createElement('a');
      link.href = CONFIGURE_URL;
      link.target = '_blank';
      link.rel = 'noopener';
      link.textContent = 'no AI provider (configure)';
      this.node.append(link);
    }
    this.node.title = index.error ?? `workspace ${status.root ?? ''}`;
    this.node.dataset.indexed = String(Boolean(index.indexed));
    this.node.dataset.provider = String(available);
    return status;
  }
}
