import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { resolveUserFrom } from '../../../src/image/user.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\nbroken line\n';
const GROUP = 'root:x:0:\nnginx:x:101:\napp:x:1000:\nstaff:x:50:app,other\nwheel:x:10:app\n';

describe('image User resolved against the image\'s /etc/passwd and /etc/group', () => {
  it('reads names and numbers, with groups', () => {
    assert.deepEqual(resolveUserFrom('', PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
    assert.deepEqual(resolveUserFrom('nginx', PASSWD, GROUP), { uid: 101, gid: 101, additionalGids: [], home: '/var/cache/nginx' });
    assert.deepEqual(resolveUserFrom('app', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [50, 10], home: '/home/app' });
    assert.deepEqual(resolveUserFrom('1000', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [50, 10], home: '/home/app' });
    assert.deepEqual(resolveUserFrom('app:staff', PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [10], home: '/home/app' });
    assert.deepEqual(resolveUserFrom('4242:4343', PASSWD, GROUP), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
    assert.deepEqual(resolveUserFrom('4242', '', ''), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  });

  it('fails as Docker does for unknown names', () => {
    assert.throws(() => resolveUserFrom('nobody', PASSWD, GROUP), /unable to find user nobody: no matching entries in passwd file/);
    assert.throws(() => resolveUserFrom('app:nogroup', PASSWD, GROUP), /unable to find group nogroup: no matching entries in group file/);
  });
});
