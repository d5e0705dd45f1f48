import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(__dirname, '..', '..');

describe('Service Bus emulator: the CLI', () => {
  it('with --tls-port, also listens with TLS and names the generated certificate for clients to trust', async () => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        resolve(root, 'test/support/registerTypeScript.js'),
        resolve(root, 'tools/servicebus-emulator/main.ts'),
        '--port',
        '0',
        '--tls-port',
        '0',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const lines: string[] = [];
    await new Promise<void>((ready, fail) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines.push(line);
        if (lines.length === 2) ready();
      });
      void exited.then((code) => fail(new Error(`the emulator exited with ${code}: ${lines.join('\n')}`)));
    });

    child.kill('SIGTERM');
    const code = await exited;
    const tls = /^Service Bus emulator listening with TLS on 127\.0\.0\.1:(\d+) \(certificate: (.+)\)$/.exec(
      lines[1] ?? '',
    );
    const certificate = new X509Certificate(readFileSync(tls?.[2] ?? '', 'utf8'));
    rmSync(tls?.[2] ?? '', { force: true });

    expect(lines[0]).toMatch(/^Service Bus emulator listening on 127\.0\.0\.1:\d+$/);
    expect(Number(tls?.[1])).toBeGreaterThan(0);
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(code).toBe(0);
  });
});
