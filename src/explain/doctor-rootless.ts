// `minictr doctor` for a normal user: what rootless minictr needs from this host, each with
// what breaks without it and the fix. Pure: facts in, findings out.
import type { Finding } from './doctor.js';

export interface RootlessFacts {
  user: string;
  uid: number;
  subuid?: { start: number; count: number };
  subgid?: { start: number; count: number };
  newuidmap: boolean;
  newgidmap: boolean;
  /** /proc/sys/user/max_user_namespaces */
  maxUserNamespaces?: string;
  /** /proc/sys/kernel/unprivileged_userns_clone (Debian, Ubuntu kernels only) */
  unprivilegedUsernsClone?: string;
  /** /proc/sys/kernel/apparmor_restrict_unprivileged_userns (Ubuntu ≥ 23.10) */
  apparmorRestrict?: string;
  pasta: boolean;
  slirp4netns: boolean;
  fuseOverlayfs: boolean;
  /** Kernel ≥ 5.11 with overlay in /proc/filesystems. */
  overlayInUserns: boolean;
  kernel: string;
  /** /proc/sys/net/ipv4/ip_unprivileged_port_start */
  unprivilegedPortStart?: string;
  /** /proc/sys/net/ipv4/ping_group_range */
  pingGroupRange?: string;
  /** /dev/net/tun opens read-write for this user. */
  tun: boolean;
}

const ok = (check: string, summary: string): Finding => ({ check, status: 'ok', summary, consequence: '', fix: '' });
const warn = (check: string, summary: string, consequence: string, fix: string): Finding => ({ check, status: 'warn', summary, consequence, fix });
const blocker = (check: string, summary: string, consequence: string, fix: string): Finding => ({ check, status: 'blocker', summary, consequence, fix });

export function rootlessFindings(f: RootlessFacts): Finding[] {
  const out: Finding[] = [ok('rootless', `running as ${f.user} (uid ${f.uid}): containers, images, volumes and ports are yours alone, in ~/.local/share/minictr`)];
  const usermod = `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${f.user}`;
  out.push(f.subuid
    ? ok('subuid', `${f.subuid.count} ids from ${f.subuid.start}`)
    : warn('subuid', `no range for ${f.user} in /etc/subuid`, 'only your own id is mapped (to root) into containers: image files of other owners and --user other than root fail', usermod));
  out.push(f.subgid
    ? ok('subgid', `${f.subgid.count} ids from ${f.subgid.start}`)
    : warn('subgid', `no range for ${f.user} in /etc/subgid`, 'only your own group is mapped into containers', usermod));
  if (f.subuid || f.subgid) {
    out.push(f.newuidmap && f.newgidmap
      ? ok('newuidmap', 'newuidmap and newgidmap found')
      : blocker('newuidmap', 'newuidmap/newgidmap not found', 'your subordinate range cannot be mapped: no container starts', 'sudo apt-get install uidmap'));
  }
  if (f.maxUserNamespaces === '0') {
    out.push(blocker('user namespaces', 'user.max_user_namespaces = 0', 'a normal user cannot make a user namespace: no container starts', 'sudo sysctl -w user.max_user_namespaces=15000'));
  } else if (f.unprivilegedUsernsClone === '0') {
    out.push(blocker('user namespaces', 'kernel.unprivileged_userns_clone = 0', 'a normal user cannot make a user namespace: no container starts', 'sudo sysctl -w kernel.unprivileged_userns_clone=1'));
  } else if (f.apparmorRestrict === '1') {
    out.push(blocker('user namespaces', 'kernel.apparmor_restrict_unprivileged_userns = 1', 'AppArmor denies capabilities in new user namespaces: containers cannot mount', 'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile for unshare)'));
  } else {
    out.push(ok('user namespaces', `allowed (user.max_user_namespaces = ${f.maxUserNamespaces ?? '?'}${f.unprivilegedUsernsClone !== undefined ? `, kernel.unprivileged_userns_clone = ${f.unprivilegedUsernsClone}` : ''})`));
  }
  out.push(f.overlayInUserns
    ? ok('overlay in a user namespace', `kernel ${f.kernel}: overlayfs with userxattr`)
    : f.fuseOverlayfs
      ? ok('overlay in a user namespace', `kernel ${f.kernel} (needs ≥ 5.11 with overlay): fuse-overlayfs is used instead (if /dev/fuse is open to you)`)
      : warn('overlay in a user namespace', `kernel ${f.kernel} (needs ≥ 5.11 with overlay), and no fuse-overlayfs`, 'each container gets a full copy of its image: slower starts, more disk', 'sudo apt-get install fuse-overlayfs, or a newer kernel'));
  if (!f.pasta && !f.slirp4netns) {
    out.push(blocker('network helper', 'neither pasta nor slirp4netns found', 'rootless containers get only --network none or host', 'sudo apt-get install passt (pasta, the default) or slirp4netns'));
  } else {
    out.push(ok('network helper', `default --network ${f.pasta ? 'pasta' : 'slirp4netns'}; pasta ${f.pasta ? 'found' : 'missing'}, slirp4netns ${f.slirp4netns ? 'found' : 'missing'}`));
  }
  out.push(f.tun
    ? ok('/dev/net/tun', 'usable')
    : blocker('/dev/net/tun', 'not readable and writable by you', 'pasta and slirp4netns cannot make the container\'s interface: only --network none and host work', 'sudo chmod 0666 /dev/net/tun (udev makes it so on most systems)'));
  const start = Number(f.unprivilegedPortStart ?? '1024');
  out.push(start > 0
    ? ok('ip_unprivileged_port_start', `${start}: -p below ${start} is refused (sudo sysctl -w net.ipv4.ip_unprivileged_port_start=80 lowers it)`)
    : ok('ip_unprivileged_port_start', '0: any host port may be published'));
  const [lo, hi] = (f.pingGroupRange ?? '1 0').split(/\s+/).map(Number);
  out.push((lo ?? 1) <= 0 && (hi ?? 0) >= 65536
    ? ok('ping_group_range', `${f.pingGroupRange}: ping works inside containers`)
    : warn('ping_group_range', `net.ipv4.ping_group_range = ${f.pingGroupRange ?? '?'}`, 'ping inside a rootless container fails (no raw sockets; ICMP sockets only for these groups)', 'sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"'));
  out.push(ok('cgroups', 'no cgroup is delegated: limit flags (--memory, --cpus …) are refused'));
  return out;
}
