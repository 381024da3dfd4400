import { X509Certificate, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { children, readElement } from './der.js';
import { base64Lines, createSigningIdentity, signPkcs7, signedContent } from './identity.js';

const identity = createSigningIdentity();

describe('the sandbox signing identity', () => {
  it('is a self-signed RSA-2048 certificate that Node can read and verify', () => {
    const cert = new X509Certificate(identity.certificatePem);
    expect(cert.subject).toContain('CN=sgsync sandbox instance identity');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
  });

  it('embeds the signed content and signs it so the certificate key verifies the attributes', () => {
    const content = Buffer.from('{\n  "instanceId" : "i-0123456789abcdef0"\n}');
    const pkcs7 = signPkcs7(identity, content, new Date('2030-05-01T00:00:00Z'));
    expect(signedContent(pkcs7)).toEqual(content);
    // SignerInfo: version, issuerAndSerial, digest, [0] attributes, algorithm, signature
    const signedData = children(children(readElement(pkcs7))[1]!)[0]!;
    const signerInfo = children(children(signedData)[3]!)[0]!;
    const parts = children(signerInfo);
    const attributes = Buffer.concat([Buffer.from([0x31]), parts[3]!.raw.subarray(1)]);
    const key = createPublicKey(identity.certificatePem);
    expect(verify('sha256', attributes, key, parts[5]!.content)).toBe(true);
    expect(verify('sha256', content, key, parts[5]!.content)).toBe(false);
  });

  it('signs the same document at the same signing time to the same bytes', () => {
    const at = new Date('2030-05-01T00:00:00Z');
    expect(signPkcs7(identity, Buffer.from('doc'), at)).toEqual(signPkcs7(identity, Buffer.from('doc'), at));
    expect(signPkcs7(identity, Buffer.from('doc'), at)).not.toEqual(signPkcs7(identity, Buffer.from('doc2'), at));
  });

  it('writes base64 in 64-character lines without a trailing newline', () => {
    const lines = base64Lines(Buffer.alloc(100, 1)).split('\n');
    // 100 bytes are 136 base64 characters
    expect(lines.map((l) => l.length)).toEqual([64, 64, 8]);
    expect(Buffer.from(lines.join(''), 'base64')).toEqual(Buffer.alloc(100, 1));
  });
});
