// A throwaway certificate authority, so every TLS hop in the emulator is verified for real.
import { webcrypto } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import 'reflect-metadata' // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509'
import type { CertificateAuthority, IssuedCertificate } from './types.js'

const crypto = webcrypto
// x509's typings name the DOM `Crypto` type, which Node's webcrypto implements.
x509.cryptoProvider.set(crypto as never)

const keyAlgorithm = {
  name: 'ECDSA',
  namedCurve: 'P-256',
  hash: 'SHA-256'
} as const

const oneDayMs = 24 * 60 * 60 * 1000

function serialNumber(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key))
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n')
  return `-----BEGIN PRIVATE KEY-----\n${body.trimEnd()}\n-----END PRIVATE KEY-----\n`
}

/** Creates a CA valid for a day and writes its certificate to `<dir>/ca.pem`. */
export async function createCertificateAuthority(dir: string): Promise<CertificateAuthority> {
  const caKeys = await crypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify'])
  const notBefore = new Date(Date.now() - 60_000)
  const notAfter = new Date(Date.now() + oneDayMs)
  const caName = 'CN=adf-pg-private-link emulator CA'
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: caName,
    notBefore,
    notAfter,
    signingAlgorithm: keyAlgorithm,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey)
    ]
  })
  const certPem = caCert.toString('pem') + '\n'
  const certFile = path.join(dir, 'ca.pem')
  await writeFile(certFile, certPem)

  async function issue(dnsNames: string[], ipAddresses: string[] = []): Promise<IssuedCertificate> {
    const keys = await crypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify'])
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${dnsNames[0] ?? ipAddresses[0]}`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: keyAlgorithm,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
          ...ipAddresses.map((value) => ({ type: 'ip' as const, value }))
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert)
      ]
    })
    return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) }
  }

  return { certPem, certFile, issue }
}
