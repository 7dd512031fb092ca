// How --dry-run shows minictr's port relay (rootless networks, rootful [::1] ports): a comment,
// since the relay takes its sockets from minictr over an IPC channel, not from a command line.

/** What --dry-run shows of a relay: its command line, what it forwards, and why. */
export interface RelayView {
  argv: string[];
  /** `[::1]:8080 → [fd00::2]:80/tcp, …` */
  ports: string;
  why: string;
}

/** The relay as comment lines; `commandLine` is its argv as the script would write it. */
export function relayLines(relay: Pick<RelayView, 'ports' | 'why'>, commandLine: string): string[] {
  return [
    `# publish ${relay.ports}: ${relay.why}.`,
    '# Not a line to run by hand: minictr binds each port itself, hands the listening sockets to this process over its IPC channel',
    "# (fd 3, Node's), records its pid and start time, then lets it stay. The exact command it starts:",
    `#   ${commandLine}`,
  ];
}
