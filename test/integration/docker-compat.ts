// The side-by-side table of docker commands against minictr serve and against dockerd: each row
// is a short shell script that drives the real docker CLI (DOCKER_HOST set), run once against
// each daemon; outputs are compared after the run-to-run noise (ids, digests, times, sizes) is
// masked. docker-compat.test.ts runs it in two sandboxes and writes docs/docker-api.md from it.
//
// A script sees: $H, a prefix that runs a command in the daemon's sandbox host namespace (to
// reach a published port); $W, a scratch dir of its own. Each row removes what it makes.

export interface CompatRow {
  /** The docker command the row is about, as the issue lists them. */
  command: string;
  /** What the script exercises. */
  what: string;
  script: string;
  /** The row's output is the same against both daemons (the test holds minictr to it). */
  same: boolean;
  /** Why minictr's output differs, where it does on purpose or for now. */
  note?: string;
}

/** Poll until a published port answers (httpd needs a moment after `run -d` returns, on both daemons). */
const WAIT_HTTP = (url: string) => `for i in $(seq 50); do $H wget -qO- ${url} 2>/dev/null && break; sleep 0.1; done`;

export const COMPAT_ROWS: CompatRow[] = [
  { command: 'docker version', what: 'API version negotiation, server OS/arch', same: true,
    script: `docker version --format '{{.Server.APIVersion}} {{.Server.Os}}/{{.Server.Arch}} client {{.Client.APIVersion}}'` },
  { command: 'docker info', what: 'counts, storage and cgroup driver', same: true,
    script: `docker info --format 'containers={{.Containers}} images={{.Images}} driver={{.Driver}} cgroup={{.CgroupDriver}} os={{.OSType}}'` },
  { command: 'docker run', what: 'foreground: stdout, stderr and the exit status', same: true,
    script: `docker run --rm busybox sh -c 'echo out; echo err >&2; exit 3' >$W/out 2>$W/err; echo "exit $?"; echo stdout: $(cat $W/out); echo stderr: $(cat $W/err)` },
  { command: 'docker run -e -w -u -h', what: 'environment, working dir, user and hostname', same: true,
    script: `docker run --rm -e A=1 -w /tmp -u 1000:1000 -h box busybox sh -c 'echo $A $(pwd) $(id -u):$(id -g) $(hostname)'` },
  { command: 'docker run --entrypoint', what: 'the entrypoint replaced, arguments kept', same: true,
    script: `docker run --rm --entrypoint echo busybox hello world` },
  { command: 'docker run -t', what: 'a terminal without -i (the CLI needs a real terminal for -it)', same: true,
    script: `docker run --rm -t busybox sh -c 'tty; stty size' | tr -d '\\r'` },
  { command: 'docker run -d -p --name, docker port', what: 'a published port, reached from the host', same: false,
    note: "Docker 20.10's docker-proxy also listens on `[::]` (`:::8080`) and relays to the container's IPv4 address; minictr publishes on `[::]` through kernel NAT, only on a network with IPv6 (`network create --ipv6`, or `\"ipv6\": true` for the default bridge)",
    script: `docker run -d --name web -p 8080:80 busybox httpd -f -p 80 -h /etc >/dev/null; docker port web; ${WAIT_HTTP('http://127.0.0.1:8080/passwd')} | head -1; docker rm -f web` },
  { command: 'docker run --network', what: 'a user-defined network: its interface and its name in inspect', same: true,
    script: `docker network create cnet >/dev/null; docker run --rm --network cnet busybox sh -c 'ip -o link show eth0 | grep -c UP'; docker run -d --name onnet --network cnet busybox sleep 300 >/dev/null; docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' onnet; docker rm -f onnet >/dev/null; docker network rm cnet` },
  { command: 'docker create/start/stop/restart/kill/wait/rm', what: 'the lifecycle and its exit codes', same: true,
    script: `docker create --name life busybox sleep 300 >/dev/null; docker start life; docker stop -t 1 life; docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' life; docker restart -t 1 life; docker kill life; docker wait life; docker rm life` },
  { command: 'docker rm -f', what: 'a running container removed', same: true,
    script: `docker run -d --name gone busybox sleep 300 >/dev/null; docker rm -f gone; docker ps -aq --filter name=gone | wc -l` },
  { command: 'docker ps', what: '-a, -q, --filter name/status/label, --format', same: true,
    script: `docker run -d --name p1 --label tier=web busybox sleep 300 >/dev/null; docker create --name p2 busybox true >/dev/null; docker ps --filter name=p --format '{{.Names}} {{.Image}} {{.Command}} {{.Status}}'; docker ps -a --filter name=p --format '{{.Names}} {{.Status}}'; docker ps -q --filter name=p | wc -l; docker ps --filter label=tier=web --format '{{.Names}} {{.Labels}}'; docker ps -a --filter status=created --filter name=p --format '{{.Names}}'; docker rm -f p1 p2` },
  { command: 'docker pause/unpause', what: 'the freezer, as status and ps show it', same: true,
    script: `docker run -d --name pz busybox sleep 300 >/dev/null; docker pause pz; docker inspect -f '{{.State.Status}} {{.State.Paused}}' pz; docker ps --filter name=pz --format '{{.Status}}'; docker unpause pz; docker inspect -f '{{.State.Status}} {{.State.Paused}}' pz; docker rm -f pz` },
  { command: 'docker rename', what: 'a new name for a container', same: true,
    script: `docker create --name before busybox true >/dev/null; docker rename before after; docker ps -a --filter name=after --format '{{.Names}}'; docker rm after` },
  { command: 'docker top', what: 'the container\'s processes, ps columns', same: true,
    script: `docker run -d --name tp busybox sleep 300 >/dev/null; docker top tp | head -1; docker top tp -o pid,args | awk 'NR > 1 { print $2, $3 }'; docker rm -f tp` },
  { command: 'docker volume create/ls/inspect/rm, run -v', what: 'a named volume keeps data between containers', same: true,
    script: `docker volume create --label a=b vol1; docker volume ls --filter name=vol1 --format '{{.Name}} {{.Driver}}'; docker volume inspect -f '{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}' vol1; docker run --rm -v vol1:/data busybox sh -c 'echo kept > /data/f'; docker run --rm -v vol1:/data busybox cat /data/f; docker volume rm vol1` },
  { command: 'docker volume prune', what: 'unused volumes removed', same: false,
    note: 'minictr prunes as Docker 23+ does (anonymous volumes only, unless the `all` filter); dockerd 20.10 also takes unused named ones',
    script: `docker volume create keep >/dev/null; docker run --rm -v /anon busybox true; docker volume prune -f; docker volume rm keep` },
  { command: 'docker logs', what: 'stdout and stderr kept apart, --tail', same: true,
    script: `docker run -d --name lg busybox sh -c 'echo oops >&2; for i in 1 2 3; do echo line$i; done' >/dev/null; docker wait lg >/dev/null; echo stdout:; docker logs lg 2>/dev/null; echo stderr:; docker logs lg 2>&1 >/dev/null; docker rm lg; docker run -d --name lt busybox sh -c 'for i in 1 2 3; do echo line$i; done' >/dev/null; docker wait lt >/dev/null; echo tail:; docker logs --tail 2 lt; docker rm lt` },
  { command: 'docker logs -f', what: 'following until the container exits', same: true,
    script: `docker run -d --name lf busybox sh -c 'echo a; sleep 1; echo b' >/dev/null; docker logs -f lf; docker rm lf` },
  { command: 'docker exec', what: '-e, -w, -i and the exit status', same: true,
    script: `docker run -d --name ex busybox sleep 300 >/dev/null; docker exec -e X=2 -w /tmp ex sh -c 'echo $X $(pwd)'; echo piped | docker exec -i ex cat; docker exec ex sh -c 'exit 4'; echo "exit $?"; docker rm -f ex` },
  { command: 'docker inspect (container)', what: 'state, config, host config', same: false,
    note: 'HostConfig.NetworkMode names the network (`bridge`) where Docker keeps the client\'s `default`',
    script: `docker run -d --name ins -e K=v --restart on-failure:2 busybox sleep 300 >/dev/null; docker inspect -f '{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Image}} {{.Config.Env}} {{.Config.Cmd}} {{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' ins; docker rm -f ins` },
  { command: 'docker inspect (container network)', what: 'the default bridge\'s addresses', same: false,
    note: 'minictr\'s default bridge is minictr0 on 172.18.0.0/16, beside docker0 on 172.17.0.0/16, so both run on one host',
    script: `docker run -d --name insn busybox sleep 300 >/dev/null; docker inspect -f '{{.NetworkSettings.Networks.bridge.Gateway}} {{.NetworkSettings.Networks.bridge.IPPrefixLen}}' insn; docker rm -f insn` },
  { command: 'docker inspect (image)', what: 'tags, platform, config', same: true,
    script: `docker inspect -f '{{.RepoTags}} {{.Os}}/{{.Architecture}} {{.Config.Cmd}}' busybox` },
  { command: 'docker inspect (network)', what: 'name, driver, scope', same: true,
    script: `docker network inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}}' bridge` },
  { command: 'docker images', what: 'the list, by repository', same: true,
    script: `docker images --format '{{.Repository}}:{{.Tag}}' busybox` },
  { command: 'docker tag, docker rmi', what: 'a second name, and its removal', same: true,
    script: `docker tag busybox mine:1; docker images --format '{{.Repository}}:{{.Tag}}' mine; docker rmi mine:1` },
  { command: 'docker save, docker load', what: 'an archive written and read back', same: false,
    note: 'the busybox minictr builds from the host has an id of its own making, not the digest of an image config; saved, it gets a config, so loaded back it is a second image (Docker\'s `load` finds the same id)',
    script: `docker tag busybox sv:1; docker save -o $W/sv.tar sv:1; docker rmi sv:1 >/dev/null; docker load -i $W/sv.tar; docker rmi sv:1` },
  { command: 'docker pull', what: 'a registry that is not there', same: false,
    note: 'the same refusal; the wording of the connection error differs',
    script: `docker pull 127.0.0.1:5999/nothing:1; echo "exit $?"` },
  { command: 'docker network create/ls/inspect/rm', what: 'a labelled network', same: true,
    script: `docker network create --label a=b nn >/dev/null; docker network ls --filter name=nn --format '{{.Name}} {{.Driver}} {{.Scope}}'; docker network inspect -f '{{.Labels}} {{.Internal}} {{.Attachable}}' nn; docker network rm nn` },
  { command: 'docker network prune', what: 'unused networks removed', same: true,
    script: `docker network create np >/dev/null; docker network prune -f` },
  { command: 'docker network connect/disconnect', what: 'a created container joins and leaves a network', same: false,
    note: 'a running container joins more networks (eth1…), but one not running is on one network at a time: connecting a created container that is on the default bridge is refused',
    script: `docker network create cn >/dev/null; docker create --name cc busybox true >/dev/null; docker network connect cn cc; docker inspect -f '{{len .NetworkSettings.Networks}}' cc; docker network disconnect cn cc; docker inspect -f '{{len .NetworkSettings.Networks}}' cc; docker rm cc >/dev/null; docker network rm cn` },
  { command: 'docker system prune', what: 'stopped containers and unused networks removed', same: true,
    script: `docker create --name sp busybox true >/dev/null; docker network create spn >/dev/null; docker system prune -f` },
  { command: 'docker events', what: 'what a container\'s life emits', same: true,
    script: `docker events --filter container=evt --format '{{.Type}} {{.Action}}' --until $(( $(date +%s) + 6 )) > $W/events & sleep 1; docker run --rm --name evt busybox true; wait; cat $W/events` },
];

/** What the run-to-run noise looks like, masked so two runs (and two daemons) compare. */
export function maskNoise(text: string): string {
  return text
    .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<digest>')
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/\b[0-9a-f]{12}\b/g, '<id>')
    .replace(/\b(Up|Exited \(\d+\)) (Less than a second|About a minute|About an hour|\d+ (seconds?|minutes?|hours?)) ?(ago)?/g, '$1 <time>')
    .replace(/\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB)\b/g, '<size>')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)/g, '<time>')
    .replace(/\r/g, '')
    .trimEnd();
}

export interface RowRun {
  output: string;
  code: number;
}

/** The table, in markdown: one row per command, both outputs shown where they differ. */
export function renderTable(rows: CompatRow[], minictr: RowRun[], docker: RowRun[] | undefined, dockerVersion: string): string {
  const fence = (text: string) => ['```', text === '' ? '(no output)' : text, '```'].join('\n');
  const out: string[] = [
    '# The Engine API: docker commands against minictr serve and against dockerd',
    '',
    `Generated by \`make docs-api\` (test/integration/docker-compat.ts), which the tests also run: the same`,
    'docker CLI runs each script against `minictr serve` and against dockerd, each in its own sandbox,',
    `and ids, digests, times and sizes are masked. dockerd: ${docker ? dockerVersion : 'not run (not installed or did not start)'}.`,
    'A row marked *same* is held to it by the test.',
    '',
    '| docker command | what | against minictr | note |',
    '|---|---|---|---|',
  ];
  rows.forEach((row, i) => {
    const verdict = !docker ? 'works' : maskNoise(minictr[i]?.output ?? '') === maskNoise(docker[i]?.output ?? '') ? 'same as Docker' : 'differs (below)';
    out.push(`| \`${row.command}\` | ${row.what} | ${verdict} | ${row.note ?? ''} |`);
  });
  const differing = docker ? rows.map((row, i) => ({ row, i })).filter(({ i }) => maskNoise(minictr[i]?.output ?? '') !== maskNoise(docker[i]?.output ?? '')) : [];
  if (differing.length > 0) {
    out.push('', '## Where the outputs differ', '');
    for (const { row, i } of differing) {
      out.push(`### \`${row.command}\`: ${row.what}`, '', row.note ?? '', '', '```sh', row.script, '```', '', 'minictr:', '', fence(maskNoise(minictr[i]?.output ?? '')), '', 'Docker:', '', fence(maskNoise(docker?.[i]?.output ?? '')), '');
    }
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
