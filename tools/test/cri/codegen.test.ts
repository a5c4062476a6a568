import { spawnSync } from 'node:child_process';
import path from 'node:path';

// The CRI client's TypeScript is generated from tools/cri/proto (buf + ts-proto, offline).

describe('the CRI client code', () => {
  it('matches its .proto file', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '../../cri/codegen.js'), '--check'], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });
});
