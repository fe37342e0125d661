/**
 * The /metrics server's certificate: read from a directory in cert-manager's Secret layout
 * (`tls.crt`, `tls.key`, and `ca.crt` which the server does not need), or generated at start
 * when no directory is given, as controller-runtime does. A self-signed certificate still
 * encrypts the scrape, which carries a bearer token; the scraper then skips verification.
 *
 * Node's crypto parses X.509 certificates but cannot issue one, so generation uses
 * @peculiar/x509 (the same library the test control plane issues its PKI with): maintained,
 * pure TypeScript over WebCrypto, and without node-forge's slow JavaScript RSA.
 */
import { randomBytes, type webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** CERT_FILE and KEY_FILE are the names cert-manager writes into a certificate's Secret. */
export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';

/** SELF_SIGNED_VALIDITY_DAYS: a year, as controller-runtime's; a restart makes a new one. */
export const SELF_SIGNED_VALIDITY_DAYS = 365;

/** KeyPair is a PEM certificate (chain) and its PEM private key. */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/**
 * readCertDir reads tls.crt and tls.key from dir; a missing or empty file is an error that names
 * it, since the operator was told to serve that certificate.
 */
export function readCertDir(dir: string, flag = '--metrics-cert-dir'): KeyPair {
  const read = (file: string) => {
    const path = join(dir, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${flag} ${dir}: cannot read ${file} (cert-manager's layout: tls.crt, tls.key)`, {
        cause: err,
      });
    }
    if (!text.includes('-----BEGIN ')) throw new Error(`${flag} ${dir}: ${file} holds no PEM block`);
    return text;
  };
  return { cert: read(CERT_FILE), key: read(KEY_FILE) };
}

/**
 * selfSignedCert generates an ECDSA P-256 key and a certificate for `hosts` (DNS names or IP
 * addresses), valid from a minute before `now` for SELF_SIGNED_VALIDITY_DAYS.
 */
export async function selfSignedCert(hosts: readonly string[], now: Date): Promise<KeyPair> {
  // Loaded on use: only a server without a mounted certificate needs it. The library reads
  // decorator metadata, hence the polyfill before it (its README says so).
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const crypto = globalThis.crypto;
  x509.cryptoProvider.set(crypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await crypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const ip = /^[\d.]+$|:/;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    // A positive random serial, so two restarts never issue the same one.
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    name: `CN=${hosts[0] ?? 'localhost'}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + SELF_SIGNED_VALIDITY_DAYS * 86_400_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((host) => (ip.test(host) ? { type: 'ip', value: host } : { type: 'dns', value: host })),
      ),
    ],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const lines = pkcs8.match(/.{1,64}/g) ?? [];
  return {
    cert: cert.toString('pem'),
    key: `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`,
  };
}
