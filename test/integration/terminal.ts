// A real terminal for interactive tests: a private tmux server (its own socket, killed at the
// end), one pane running bash; keys are typed with send-keys and the screen read with capture-pane.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, sh } from './sandbox.js';

export class Terminal {
  private socket = '';
  private dir = '';

  async open(columns: number, rows: number, env: Record<string, string> = {}): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'minictr-tty-'));
    this.socket = join(this.dir, 'tmux.sock');
    // No history file: bash would write it into this dir as the server goes.
    const exports = Object.entries({ PS1: '$ ', HISTFILE: '', ...env }).map(([k, v]) => `export ${k}='${v}';`).join(' ');
    await this.tmux(['new-session', '-d', '-x', String(columns), '-y', String(rows), '-s', 'main',
      `env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=${this.dir} TERM=xterm bash --norc --noprofile -c "${exports} exec bash --norc --noprofile -i"`]);
    await this.waitFor(/\$ $/m, 'the first prompt');
  }

  /** A file path private to this terminal. */
  file(name: string): string {
    return join(this.dir, name);
  }

  async tmux(args: string[]): Promise<string> {
    const r = await sh(['tmux', '-S', this.socket, ...args]);
    if (r.code !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Type text as keys (literally), then Enter unless told otherwise. */
  async type(text: string, enter = true): Promise<void> {
    await this.tmux(['send-keys', '-t', 'main', '-l', text]);
    if (enter) await this.tmux(['send-keys', '-t', 'main', 'Enter']);
  }

  /** Named keys: C-c, C-p, C-q, Enter. */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', 'main', ...keys]);
  }

  async resize(columns: number, rows: number): Promise<void> {
    await this.tmux(['resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows)]);
  }

  screen(): Promise<string> {
    return this.tmux(['capture-pane', '-p', '-J', '-t', 'main', '-S', '-200']);
  }

  /** Wait until the screen matches; returns the match. */
  async waitFor(pattern: RegExp, what: string, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return eventually(async () => (await this.screen()).match(pattern) ?? undefined, timeoutMs, what).catch(async (err: Error) => {
      throw new Error(`${err.message}; the screen:\n${await this.screen()}`);
    });
  }

  async close(): Promise<void> {
    if (this.socket) await sh(['tmux', '-S', this.socket, 'kill-server']);
    if (this.dir) await rm(this.dir, { recursive: true, force: true, maxRetries: 10 });
  }
}
