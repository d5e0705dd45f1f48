import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsCertificate {
  /** PEM certificate (chain); a client that should trust the emulator is given this. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/**
 * A self-signed certificate for `localhost` and 127.0.0.1, valid for a week, made with the `openssl` command
 * line tool: Node can read certificates but not issue them, and a library for it is not worth a dependency.
 */
export function createSelfSignedCertificate(): TlsCertificate {
  const directory = mkdtempSync(join(tmpdir(), 'servicebus-emulator-tls-'));
  const keyPath = join(directory, 'key.pem');
  const certPath = join(directory, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '7',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `Could not generate a TLS certificate with openssl (install openssl, or pass tls.certificate): ${stderr || String(error)}`,
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
