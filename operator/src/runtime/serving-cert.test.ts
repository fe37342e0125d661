import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCertDir, SELF_SIGNED_VALIDITY_DAYS, selfSignedCert } from './serving-cert.ts';

describe('selfSignedCert', () => {
  it('issues a server certificate for the given names, valid a year, with its own key', async () => {
    const now = new Date('2026-12-06T12:00:00Z');
    const pair = await selfSignedCert(['localhost', '127.0.0.1', 'perfpilot-operator-0'], now);
    const cert = new X509Certificate(pair.cert);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, DNS:perfpilot-operator-0');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    expect(cert.ca).toBe(false);
    expect(new Date(cert.validTo).getTime() - now.getTime()).toBeGreaterThan(
      (SELF_SIGNED_VALIDITY_DAYS - 1) * 86_400_000,
    );
    expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(now.getTime());
    const again = await selfSignedCert(['localhost'], now);
    expect(new X509Certificate(again.cert).serialNumber).not.toBe(cert.serialNumber);
  });
});

describe('readCertDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perfpilot-certs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads tls.crt and tls.key, and names the file that is missing or not PEM', async () => {
    expect(() => readCertDir(dir)).toThrow(`--metrics-cert-dir ${dir}: cannot read tls.crt`);
    const pair = await selfSignedCert(['localhost'], new Date());
    writeFileSync(join(dir, 'tls.crt'), pair.cert);
    expect(() => readCertDir(dir)).toThrow(`--metrics-cert-dir ${dir}: cannot read tls.key`);
    writeFileSync(join(dir, 'tls.key'), 'not a key');
    expect(() => readCertDir(dir)).toThrow(`--metrics-cert-dir ${dir}: tls.key holds no PEM block`);
    writeFileSync(join(dir, 'tls.key'), pair.key);
    expect(readCertDir(dir)).toEqual(pair);
  });
});
