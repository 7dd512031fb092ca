// `import --change` instructions (CMD, ENTRYPOINT, ENV, EXPOSE, USER, VOLUME, WORKDIR) applied to an image config.
import { MinictrError } from '../base/errors.js';
import type { ImageConfig } from '../state/images.js';

function badChange(change: string, why: string): MinictrError {
  return new MinictrError('E_BAD_CHANGE', `--change ${JSON.stringify(change)}: ${why}`);
}

/** JSON form `["a","b"]` as is; shell form wrapped in /bin/sh -c, as a Dockerfile does. */
function commandForm(change: string, rest: string): string[] {
  if (rest.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rest);
    } catch {
      throw badChange(change, 'not a valid JSON list of strings');
    }
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
      throw badChange(change, 'not a JSON list of strings');
    }
    return parsed as string[];
  }
  return rest === '' ? [] : ['/bin/sh', '-c', rest];
}

function envPairs(change: string, rest: string): string[] {
  if (rest === '') throw badChange(change, 'ENV needs NAME=value');
  if (!rest.split(/\s+/)[0]?.includes('=')) {
    const [name = '', ...value] = rest.split(/\s+/);
    return [`${name}=${value.join(' ')}`];
  }
  return rest.split(/\s+/).map((pair) => {
    if (!/^[^=]+=/.test(pair)) throw badChange(change, `"${pair}" is not NAME=value`);
    return pair.replace(/^([^=]+)="(.*)"$/, '$1=$2');
  });
}

/** Apply Dockerfile-style instructions to a config (returns a new config). */
export function applyChanges(base: ImageConfig, changes: string[]): ImageConfig {
  const config: ImageConfig = structuredClone(base);
  for (const change of changes) {
    const match = /^\s*(\w+)\s*(.*?)\s*$/s.exec(change);
    if (!match) throw badChange(change, 'empty instruction');
    const keyword = (match[1] ?? '').toUpperCase();
    const rest = match[2] ?? '';
    switch (keyword) {
      case 'CMD':
        config.Cmd = commandForm(change, rest);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = commandForm(change, rest);
        break;
      case 'ENV':
        for (const pair of envPairs(change, rest)) {
          const name = pair.slice(0, pair.indexOf('='));
          config.Env = [...config.Env.filter((e) => !e.startsWith(`${name}=`)), pair];
        }
        break;
      case 'EXPOSE':
        for (const port of rest.split(/\s+/).filter(Boolean)) {
          if (!/^\d{1,5}(\/(tcp|udp))?$/.test(port)) throw badChange(change, `bad port "${port}"`);
          config.ExposedPorts = { ...config.ExposedPorts, [port.includes('/') ? port : `${port}/tcp`]: {} };
        }
        break;
      case 'VOLUME': {
        const paths = rest.startsWith('[') ? commandForm(change, rest) : rest.split(/\s+/).filter(Boolean);
        if (paths.length === 0 || !paths.every((p) => p.startsWith('/'))) throw badChange(change, 'VOLUME needs absolute paths');
        config.Volumes = { ...config.Volumes, ...Object.fromEntries(paths.map((p) => [p, {}])) };
        break;
      }
      case 'USER':
        config.User = rest;
        break;
      case 'WORKDIR':
        if (!rest.startsWith('/')) throw badChange(change, 'WORKDIR must be an absolute path');
        config.WorkingDir = rest;
        break;
      default:
        throw badChange(change, `${keyword} is not supported; use CMD, ENTRYPOINT, ENV, EXPOSE, USER, VOLUME or WORKDIR`);
    }
  }
  return config;
}
