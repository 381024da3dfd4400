import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  bitString, boolean, children, contextTag, derNull, integer, octetString, oid, printableString, readElement,
  sequence, setOf, time, utf8String,
} from './der.js';
import type { Sandbox } from './sandbox.js';

/**
 * The sandbox's signing identity: an RSA-2048 key and a self-signed X.509
 * certificate, made once per sandbox. It signs instance identity documents
 * the way AWS's regional key does, so that a client's verification code can
 * be exercised against a certificate it can fetch.
 */
export interface SigningIdentity {
  privateKey: KeyObject;
  certificateDer: Buffer;
  certificatePem: string;
  /** The certificate's issuer Name and serial, which a PKCS#7 signer names. */
  issuer: Buffer;
  serial: Buffer;
}

const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  country: '2.5.4.6',
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
};

const algorithm = (id: string): Buffer => sequence(oid(id), derNull());

function name(): Buffer {
  const rdn = (type: string, value: Buffer) => setOf(sequence(oid(type), value));
  return sequence(
    rdn(OID.country, printableString('US')),
    rdn(OID.organization, utf8String('sgsync sandbox')),
    rdn(OID.commonName, utf8String('sgsync sandbox instance identity')),
  );
}

/** Makes a new key and a self-signed certificate (v3, not a CA). Takes a few tens of milliseconds. */
export function createSigningIdentity(): SigningIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serialBytes = randomBytes(16);
  serialBytes[0] = serialBytes[0]! & 0x7f;
  const serial = integer(serialBytes);
  const issuer = name();
  const extensions = contextTag(3, sequence(sequence(oid(OID.basicConstraints), boolean(true), octetString(sequence()))));
  const tbs = sequence(
    contextTag(0, integer(2)),
    serial,
    algorithm(OID.sha256WithRsa),
    issuer,
    // Fixed validity: verification of the document is what matters, not expiry.
    sequence(time(new Date('2020-01-01T00:00:00Z')), time(new Date('2049-12-31T23:59:59Z'))),
    issuer,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const certificateDer = sequence(tbs, algorithm(OID.sha256WithRsa), bitString(sign('sha256', tbs, privateKey)));
  return { privateKey, certificateDer, certificatePem: pem('CERTIFICATE', certificateDer), issuer, serial };
}

const identities = new WeakMap<Sandbox, SigningIdentity>();

/** The sandbox's identity, made on first use so that sandboxes that never sign pay nothing. */
export function sandboxIdentity(sandbox: Sandbox): SigningIdentity {
  let identity = identities.get(sandbox);
  if (!identity) {
    identity = createSigningIdentity();
    identities.set(sandbox, identity);
  }
  return identity;
}

/** The PEM certificate that verifies this sandbox's `rsa2048` signatures (served at `/_sandbox/certificate`). */
export function sandboxCertificatePem(sandbox: Sandbox): string {
  return sandboxIdentity(sandbox).certificatePem;
}

/**
 * A PKCS#7 SignedData over `content`, embedding it and signed with SHA-256 and
 * RSA over the authenticated attributes, as AWS's `rsa2048` signature is.
 * `signingTime` is passed in so that the same document always gets the same signature.
 */
export function signPkcs7(identity: SigningIdentity, content: Buffer, signingTime: Date): Buffer {
  const attributes = [
    sequence(oid(OID.contentType), setOf(oid(OID.data))),
    sequence(oid(OID.signingTime), setOf(time(signingTime))),
    sequence(oid(OID.messageDigest), setOf(octetString(createHash('sha256').update(content).digest()))),
  ];
  // The signature covers the attributes encoded as a SET; the message carries them as [0] IMPLICIT.
  const signedAttributes = setOf(...attributes);
  const signature = sign('sha256', signedAttributes, identity.privateKey);
  const signerInfo = sequence(
    integer(1),
    sequence(identity.issuer, identity.serial),
    algorithm(OID.sha256),
    contextTag(0, readElement(signedAttributes).content),
    algorithm(OID.rsaEncryption),
    octetString(signature),
  );
  const signedData = sequence(
    integer(1),
    setOf(algorithm(OID.sha256)),
    sequence(oid(OID.data), contextTag(0, octetString(content))),
    setOf(signerInfo),
  );
  return sequence(oid(OID.signedData), contextTag(0, signedData));
}

/** The content a PKCS#7 SignedData embeds (the inverse of {@link signPkcs7}'s packaging). */
export function signedContent(pkcs7: Buffer): Buffer {
  const [, explicit] = children(readElement(pkcs7));
  const signedData = explicit && children(explicit)[0];
  const contentInfo = signedData && children(signedData)[2];
  const wrapped = contentInfo && children(contentInfo)[1];
  const octets = wrapped && children(wrapped)[0];
  if (!octets) throw new RangeError('not a PKCS#7 SignedData with embedded content');
  return octets.content;
}

/** Base64 in 64-character lines without the armour lines, as IMDS serves `rsa2048`. */
export function base64Lines(der: Buffer): string {
  return der.toString('base64').replace(/(.{64})(?=.)/g, '$1\n');
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${base64Lines(der)}\n-----END ${label}-----\n`;
}
