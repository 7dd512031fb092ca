// -v, --mount, --tmpfs and --volumes-from as Docker reads them, and its words when it refuses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDuplicates,
  parseMountFlag,
  parseMountRequests,
  parseTmpfsFlag,
  parseVolumeFlag,
  parseVolumesFromFlag,
  validateVolumeName,
  type MountRequest,
} from '../../../src/runtime/mount-specs.js';
import { MinictrError } from '../../../src/base/errors.js';

const base: MountRequest = { type: 'bind', source: '', destination: '', readOnly: false, propagation: '', options: '', createHostPath: true, noCopy: false };

/** Throws a MinictrError E_BAD_FLAG whose message is exactly `message`. */
function refuses(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MinictrError);
    assert.equal(err.code, 'E_BAD_FLAG');
    assert.equal(err.message, message);
    return true;
  });
}

describe('-v', () => {
  it('reads binds, named and anonymous volumes, and their options', () => {
    const cases: [string, Partial<MountRequest>][] = [
      ['/host:/ctr', { type: 'bind', source: '/host', destination: '/ctr' }],
      ['/host/:/ctr/:ro', { type: 'bind', source: '/host', destination: '/ctr', readOnly: true }],
      ['/h:/c:rw,rshared', { type: 'bind', source: '/h', destination: '/c', propagation: 'rshared' }],
      ['/h:/c:Z,ro', { type: 'bind', source: '/h', destination: '/c', readOnly: true }],
      ['data:/var/lib/data', { type: 'volume', source: 'data', destination: '/var/lib/data' }],
      ['data:/d:ro,nocopy', { type: 'volume', source: 'data', destination: '/d', readOnly: true, noCopy: true }],
      ['/anon', { type: 'volume', source: '', destination: '/anon' }],
      ['./rel:/c', { type: 'bind', source: '/work/dir/rel', destination: '/c' }],
      ['.:/c', { type: 'bind', source: '/work/dir', destination: '/c' }],
    ];
    for (const [text, want] of cases) {
      assert.deepEqual(parseVolumeFlag(text, '/work/dir'), { ...base, ...want }, text);
    }
  });

  it('refuses what Docker refuses, in its words', () => {
    refuses(() => parseVolumeFlag(''), "invalid volume specification: ''");
    refuses(() => parseVolumeFlag(':/c'), "invalid volume specification: ':/c'");
    refuses(() => parseVolumeFlag('/c:rw'), "invalid volume specification: '/c:rw'");
    refuses(() => parseVolumeFlag('/a:/b:ro:x'), "invalid volume specification: '/a:/b:ro:x'");
    refuses(() => parseVolumeFlag('/a:/b:bogus'), 'invalid mode: bogus');
    refuses(() => parseVolumeFlag('/a:/b:ro,rw'), 'invalid mode: ro,rw');
    refuses(
      () => parseVolumeFlag('x:rel'),
      `invalid volume specification: 'x:rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`,
    );
    refuses(
      () => parseVolumeFlag('/h:/'),
      `invalid volume specification: '/h:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`,
    );
    refuses(
      () => parseVolumeFlag('vol:/c:shared'),
      `invalid volume specification: 'vol:/c:shared': invalid mount config for type "volume": field BindOptions must not be specified`,
    );
    refuses(
      () => parseVolumeFlag('/h:/c:nocopy'),
      `invalid volume specification: '/h:/c:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified`,
    );
    refuses(
      () => parseVolumeFlag('x/y:/c'),
      'create x/y: "x/y" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
    );
  });
});

describe('volume names', () => {
  it("follow the local driver's pattern", () => {
    for (const ok of ['ab', 'my-vol', 'v1.0_x', 'a'.repeat(64)]) validateVolumeName(ok);
    for (const bad of ['a', '.hidden', '..', '-x', 'a/b', '../etc', 'a b', '']) {
      assert.throws(() => validateVolumeName(bad), /includes invalid characters for a local volume name/, bad);
    }
  });
});

describe('--mount', () => {
  it('reads every type and its options', () => {
    const mount = { ...base, createHostPath: false };
    assert.deepEqual(parseMountFlag('type=bind,src=/h,dst=/c'), { ...mount, type: 'bind', source: '/h', destination: '/c' });
    assert.deepEqual(parseMountFlag('type=bind,source=/h,target=/c,readonly,bind-propagation=rslave'), {
      ...mount, type: 'bind', source: '/h', destination: '/c', readOnly: true, propagation: 'rslave',
    });
    assert.deepEqual(parseMountFlag('src=data,destination=/d,ro=false,volume-nocopy'), { ...mount, type: 'volume', source: 'data', destination: '/d', noCopy: true });
    assert.deepEqual(parseMountFlag('type=volume,dst=/anon'), { ...mount, type: 'volume', destination: '/anon' });
    assert.deepEqual(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770'), {
      ...mount, type: 'tmpfs', destination: '/t', options: 'rw,noexec,nosuid,nodev,mode=1770,size=64m',
    });
    assert.equal(parseMountFlag('type=tmpfs,dst=/t,readonly,tmpfs-size=1000').options, 'noexec,nosuid,nodev,ro,size=1000');
    assert.equal(parseMountFlag('"type=bind","src=/a,b",dst=/c').source, '/a,b');
    assert.equal(parseMountFlag('type=bind,src=./x,dst=/c', '/w').source, '/w/x');
  });

  it("refuses what Docker's CLI and daemon refuse", () => {
    const flag = (text: string, message: string): void => refuses(() => parseMountFlag(text), `invalid argument "${text}" for "--mount" flag: ${message}`);
    flag('type=bind,src=/h', 'target is required');
    flag('type=,dst=/c', 'type is required');
    flag('type=bind,bogus', "invalid field 'bogus' must be a key=value pair");
    flag('type=bind,dst=/c,color=red', "unexpected key 'color' in 'color=red'");
    flag('type=bind,dst=/c,readonly=maybe', `invalid value for 'readonly': invalid boolean value ("maybe"): must be one of "true", "1", "false", or "0" (default "true")`);
    flag('type=bind,src=/h,dst=/c,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'");
    flag('type=volume,dst=/c,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'volume'");
    flag('type=tmpfs,dst=/c,tmpfs-size=lots', 'invalid value for tmpfs-size: lots');
    flag('type=tmpfs,dst=/c,tmpfs-mode=999', 'invalid value for tmpfs-mode: 999');
    refuses(() => parseMountFlag('type=bind,dst=/c'), 'invalid mount config for type "bind": field Source must not be empty');
    refuses(() => parseMountFlag('type=bind,src=rel,dst=/c'), `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
    refuses(() => parseMountFlag('type=bind,src=/h,dst=c'), `invalid mount config for type "bind": invalid mount path: 'c' mount path must be absolute`);
    refuses(() => parseMountFlag('type=bind,src=/h,dst=/c,bind-propagation=odd'), 'invalid mount config for type "bind": invalid propagation mode: odd');
    refuses(() => parseMountFlag('type=volume,dst=/c,readonly'), 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes');
    refuses(() => parseMountFlag('type=tmpfs,src=x,dst=/c'), 'invalid mount config for type "tmpfs": field Source must not be specified');
    refuses(() => parseMountFlag('type=image,src=x,dst=/c'), 'invalid mount config for type "image": mount type unknown');
    assert.throws(() => parseMountFlag('src=a/b,dst=/c'), /"a\/b" includes invalid characters/);
  });

  it('reads tmpfs-size as go-units does, and refuses a size it cannot read', () => {
    assert.match(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=64m').options, /size=67108864|size=64m/);
    assert.match(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=1.5k').options, /size=1536|size=2k/);
    assert.throws(() => parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=-1'), /invalid value for tmpfs-size: -1/);
  });
});

describe('--tmpfs', () => {
  it("gets Docker's defaults, which the options given override", () => {
    assert.deepEqual(parseTmpfsFlag('/run'), { ...base, type: 'tmpfs', destination: '/run', options: 'rw,noexec,nosuid,nodev', createHostPath: false });
    assert.equal(parseTmpfsFlag('/run:exec,size=64m').options, 'rw,nosuid,nodev,exec,size=64m');
    assert.equal(parseTmpfsFlag('/run:size=1m,size=2m').options, 'rw,noexec,nosuid,nodev,size=2m');
    const ro = parseTmpfsFlag('/run/:ro');
    assert.equal(ro.readOnly, true);
    assert.equal(ro.destination, '/run');
    assert.equal(ro.options, 'noexec,nosuid,nodev,ro');
  });

  it('refuses a relative or root path and odd options', () => {
    refuses(() => parseTmpfsFlag('run'), "invalid mount path: 'run' mount path must be absolute");
    refuses(() => parseTmpfsFlag('/'), "invalid specification: destination can't be '/'");
    refuses(() => parseTmpfsFlag('/t:size=1m;reboot'), 'invalid tmpfs option "size=1m;reboot"');
  });
});

describe('--volumes-from', () => {
  it('reads the container and its mode', () => {
    assert.deepEqual(parseVolumesFromFlag('db'), { ref: 'db', readOnly: false });
    assert.deepEqual(parseVolumesFromFlag('db:ro'), { ref: 'db', readOnly: true });
    assert.deepEqual(parseVolumesFromFlag('db:rw'), { ref: 'db', readOnly: false });
    refuses(() => parseVolumesFromFlag(''), 'volumes-from specification cannot be an empty string');
    refuses(() => parseVolumesFromFlag('db:shared'), 'invalid mode: shared');
    refuses(() => parseVolumesFromFlag('db:nocopy'), 'invalid mode: nocopy');
  });
});

describe('duplicates', () => {
  it('are refused across -v, --mount and --tmpfs', () => {
    refuses(() => checkDuplicates([{ destination: '/data' }, { destination: '/data/' }]), 'Duplicate mount point: /data');
    refuses(() => parseMountRequests({ volumes: ['/h:/data'], mounts: ['type=volume,src=v1,dst=/data'] }), 'Duplicate mount point: /data');
    refuses(() => parseMountRequests({ volumes: ['v1:/t'], tmpfs: ['/t'] }), 'Duplicate mount point: /t');
    assert.equal(parseMountRequests({ volumes: ['/h:/a'], mounts: ['type=tmpfs,dst=/b'], tmpfs: ['/c'] }).length, 3);
  });
});
