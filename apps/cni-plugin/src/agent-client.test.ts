import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { AgentProtocolError, askAgent, parseAgentAnswer, type AgentRequest } from './agent-client';
import { answerResult, startFakeAgent } from './testing/fake-agent';

const request: AgentRequest = { command: 'ADD', containerId: 'c1', ifname: 'eth0', netns: '/n', args: '', networkConfig: '{}' };

describe('parseAgentAnswer', () => {
  it.each([
    ['{"result":"{\\"ips\\":[]}"}', { kind: 'result', result: '{"ips":[]}' }],
    ['{}', { kind: 'result', result: '' }],
    ['{"result":""}', { kind: 'result', result: '' }],
    ['{"error":{"code":102,"msg":"pool exhausted"}}', { kind: 'error', code: 102, msg: 'pool exhausted', details: '' }],
    ['{"error":{"code":11,"msg":"m","details":"d"},"result":""}', { kind: 'error', code: 11, msg: 'm', details: 'd' }],
  ])('reads %s', (line, expected) => {
    expect(parseAgentAnswer(line)).toEqual(expected);
  });

  it.each(['', 'x', '[]', '"s"', '{"error":{"code":0}}', '{"error":{"code":"7"}}', '{"error":{"code":1.5}}', '{"result":5}'])('refuses %s', (line) => {
    expect(() => parseAgentAnswer(line)).toThrow(AgentProtocolError);
  });
});

describe('askAgent', () => {
  it('writes one JSON line and reads one back', async () => {
    const agent = await startFakeAgent(answerResult({ ips: [] }));
    try {
      expect(await askAgent(agent.socketPath, request, 1000)).toEqual({ kind: 'result', result: '{"ips":[]}' });
      expect(agent.requests).toEqual([request]);
      expect(agent.connections).toBe(1);
    } finally {
      await agent.close();
    }
  });

  it('accepts a last line without its newline', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-t-'));
    const socketPath = path.join(dir, 's');
    const server = net.createServer((s) => s.once('data', () => s.end('{"result":"{}"}')));
    await new Promise<void>((r) => server.listen(socketPath, r));
    try {
      expect(await askAgent(socketPath, request, 1000)).toEqual({ kind: 'result', result: '{}' });
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads an answer that arrives in pieces', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-t-'));
    const socketPath = path.join(dir, 's');
    const server = net.createServer((s) =>
      s.once('data', () => {
        s.write('{"resu');
        setTimeout(() => s.end('lt":"{}"}\n'), 20);
      }),
    );
    await new Promise<void>((r) => server.listen(socketPath, r));
    try {
      expect(await askAgent(socketPath, request, 1000)).toEqual({ kind: 'result', result: '{}' });
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('calls the stale socket of a killed agent unreachable (connection refused)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-t-'));
    const socketPath = path.join(dir, 's');
    // An agent killed with SIGKILL leaves its socket file behind with nobody listening.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    try {
      expect(fs.existsSync(socketPath)).toBe(true);
      await expect(askAgent(socketPath, request, 1000)).rejects.toMatchObject({
        name: 'AgentUnreachableError',
        reason: 'connection refused (nothing is listening on the socket) (ECONNREFUSED)',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a missing socket in the reason', async () => {
    await expect(askAgent('/nonexistent-atoll/agent.sock', request, 1000)).rejects.toMatchObject({
      socketPath: '/nonexistent-atoll/agent.sock',
      reason: 'the socket does not exist (ENOENT)',
    });
  });
});
