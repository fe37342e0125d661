/**
 * The PKI of a test control plane: a CA, the API server's serving certificate for loopback,
 * an admin client certificate in group system:masters, the service-account signing key, and for
 * the aggregation layer a separate front-proxy CA with the API server's proxy client certificate
 * and a serving certificate for an aggregated API server (the metrics adapter) on loopback.
 * ECDSA P-256 keys keep generation in milliseconds.
 */
// @peculiar/x509 needs a Reflect metadata polyfill loaded before it (its README says so).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { metricsAdapterService } from './metrics-adapter.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(globalThis.crypto);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** PEM-encoded material written to the control plane's directory. */
export interface ControlPlanePki {
  caCert: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
  /** frontProxyCaCert signs only the proxy client certificate, as upstream recommends. */
  frontProxyCaCert: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  /** aggregatedServingCert serves an aggregated API on 127.0.0.1, signed by the cluster CA. */
  aggregatedServingCert: string;
  aggregatedServingKey: string;
}

/** generatePki creates fresh keys and certificates valid for one day. */
export async function generatePki(): Promise<ControlPlanePki> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const validity = { notBefore, notAfter };
  const ca = await createCa('CN=perfpilot-test-ca', validity);
  const frontProxyCa = await createCa('CN=perfpilot-test-front-proxy-ca', validity);
  const issue = (serialNumber: string, subject: string, extensions: x509.Extension[]) =>
    issueCert(ca, validity, serialNumber, subject, extensions);
  const serving = await issue('02', 'CN=kube-apiserver', [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      { type: 'ip', value: '127.0.0.1' },
      { type: 'dns', value: 'localhost' },
      { type: 'dns', value: 'kubernetes.default.svc' },
    ]),
  ]);
  const admin = await issue('03', 'CN=perfpilot-admin, O=system:masters', [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);
  const aggregated = await issue('04', `CN=${metricsAdapterService.name}`, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      { type: 'ip', value: '127.0.0.1' },
      // The aggregator connects to the ExternalName's address but checks the Service's name.
      { type: 'dns', value: `${metricsAdapterService.name}.${metricsAdapterService.namespace}.svc` },
    ]),
  ]);
  const frontProxyClient = await issueCert(frontProxyCa, validity, '02', `CN=${frontProxyClientName}`, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);
  const saKeys = await generateKeys();
  return {
    caCert: ca.cert.toString('pem'),
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    serviceAccountKey: await privateKeyPem(saKeys.privateKey),
    serviceAccountPublicKey: pem('PUBLIC KEY', await webcrypto.subtle.exportKey('spki', saKeys.publicKey)),
    frontProxyCaCert: frontProxyCa.cert.toString('pem'),
    frontProxyClientCert: frontProxyClient.cert,
    frontProxyClientKey: frontProxyClient.key,
    aggregatedServingCert: aggregated.cert,
    aggregatedServingKey: aggregated.key,
  };
}

/** frontProxyClientName is the CN the API server proxies aggregated requests as. */
export const frontProxyClientName = 'front-proxy-client';

interface Validity {
  notBefore: Date;
  notAfter: Date;
}

interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function createCa(name: string, validity: Validity): Promise<Ca> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name,
    ...validity,
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { cert, keys };
}

async function issueCert(
  ca: Ca,
  validity: Validity,
  serialNumber: string,
  subject: string,
  extensions: x509.Extension[],
): Promise<{ cert: string; key: string }> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    issuer: ca.cert.subject,
    ...validity,
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      ...extensions,
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

function pem(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').trimEnd();
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
