import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBase32, encodeBase32, generateTotpSecret, hotp, otpauthUri, totpCode, totpStep, TotpError, verifyTotp, type TotpAlgorithm, type TotpVerification } from '../../lib/totp';

// RFC 6238 Appendix B: the seeds are ASCII strings of 20, 32 and 64 bytes, one per HMAC.
const seeds: Record<TotpAlgorithm, Buffer> = {
  SHA1: Buffer.from('12345678901234567890'),
  SHA256: Buffer.from('12345678901234567890123456789012'),
  SHA512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
};
const appendixB: Array<[number, string, TotpAlgorithm]> = [
  [59, '94287082', 'SHA1'], [59, '46119246', 'SHA256'], [59, '90693936', 'SHA512'],
  [1111111109, '07081804', 'SHA1'], [1111111109, '68084774', 'SHA256'], [1111111109, '25091201', 'SHA512'],
  [1111111111, '14050471', 'SHA1'], [1111111111, '67062674', 'SHA256'], [1111111111, '99943326', 'SHA512'],
  [1234567890, '89005924', 'SHA1'], [1234567890, '91819424', 'SHA256'], [1234567890, '93441116', 'SHA512'],
  [2000000000, '69279037', 'SHA1'], [2000000000, '90698825', 'SHA256'], [2000000000, '38618901', 'SHA512'],
  [20000000000, '65353130', 'SHA1'], [20000000000, '77737706', 'SHA256'], [20000000000, '47863826', 'SHA512'],
];

describe('TOTP (RFC 6238)', () => {
  for (const [seconds, expected, algorithm] of appendixB) {
    test(`RFC 6238 Appendix B: ${algorithm} at ${seconds} s is ${expected}`, () => {
      assert.equal(totpCode(seeds[algorithm], seconds * 1000, { algorithm, digits: 8 }), expected);
      const result = verifyTotp(encodeBase32(seeds[algorithm]), expected, { algorithm, digits: 8, at: seconds * 1000 });
      assert.deepEqual(result, { ok: true, step: Math.floor(seconds / 30), drift: 0 });
    });
  }

  test('RFC 4226 Appendix D: the HOTP values for counters 0–9', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    assert.deepEqual(expected.map((_, counter) => hotp(seeds.SHA1, counter)), expected);
  });

  test('steps are floor(unix seconds / period)', () => {
    assert.equal(totpStep(new Date(59_000)), 1);
    assert.equal(totpStep(60_000), 2);
    assert.equal(totpStep(59_999, 60), 0);
  });
});

const reason = (result: TotpVerification) => (result.ok ? 'accepted' : result.reason);

describe('verifying a typed code', () => {
  const secret = generateTotpSecret();
  const at = Date.UTC(2026, 11, 1, 3, 4, 15); // 15 s into a step
  const step = totpStep(at);
  const codeAt = (s: number) => hotp(decodeBase32(secret), s);

  test('the current code passes and says which step it was', () => {
    assert.deepEqual(verifyTotp(secret, codeAt(step), { at }), { ok: true, step, drift: 0 });
  });

  test('window edges: one step either side passes by default, two do not; window 0 is exact', () => {
    assert.deepEqual(verifyTotp(secret, codeAt(step - 1), { at }), { ok: true, step: step - 1, drift: -1 });
    assert.deepEqual(verifyTotp(secret, codeAt(step + 1), { at }), { ok: true, step: step + 1, drift: 1 });
    assert.equal(verifyTotp(secret, codeAt(step - 2), { at }).ok, false);
    assert.equal(verifyTotp(secret, codeAt(step + 2), { at }).ok, false);
    assert.equal(verifyTotp(secret, codeAt(step - 1), { at, window: 0 }).ok, false);
    assert.deepEqual(verifyTotp(secret, codeAt(step - 2), { at, window: 2 }), { ok: true, step: step - 2, drift: -2 });
  });

  test('the last millisecond of a step and the first of the next see the same window shifted by one', () => {
    const lastMs = (step + 1) * 30_000 - 1;
    assert.equal(verifyTotp(secret, codeAt(step - 1), { at: lastMs }).ok, true);
    assert.equal(verifyTotp(secret, codeAt(step - 1), { at: lastMs + 1 }).ok, false);
  });

  test('a code is used once: the same step, or an earlier one, is refused as reused', () => {
    const first = verifyTotp(secret, codeAt(step), { at });
    assert.ok(first.ok);
    const again = verifyTotp(secret, codeAt(step), { at, lastUsedStep: first.step });
    assert.deepEqual(again, { ok: false, reason: 'reused-code', message: 'this one-time code (or a later one) was already used: wait for the next code' });
    assert.deepEqual(reason(verifyTotp(secret, codeAt(step - 1), { at, lastUsedStep: step })), 'reused-code');
    assert.equal(verifyTotp(secret, codeAt(step + 1), { at, lastUsedStep: step }).ok, true);
  });

  test('an expired code is called stale (so the approver knows to type the new one), a wrong one wrong', () => {
    const stale = verifyTotp(secret, codeAt(step - 5), { at });
    assert.equal(stale.ok, false);
    assert.equal(stale.reason, 'stale-code');
    const wrongCode = ['000000', '123456', '999999'].find((c) => ![...Array(30).keys()].some((i) => codeAt(step - 21 + i) === c)) as string;
    assert.equal(reason(verifyTotp(secret, wrongCode, { at })), 'wrong-code');
  });

  test('malformed codes are refused without throwing', () => {
    for (const code of ['', '12345', '1234567', '12a456', '١٢٣٤٥٦', ' ', null, undefined, {}, ['123456'], 12.5, -1, '123456\n']) {
      const result = verifyTotp(secret, code, { at });
      assert.equal(result.ok, false, `accepted ${JSON.stringify(code)}`);
      assert.equal(result.reason, 'malformed-code');
    }
  });

  test('blanks as apps show them ("492 039") are ignored; a number keeps its leading zeros', () => {
    const code = codeAt(step);
    assert.equal(verifyTotp(secret, `${code.slice(0, 3)} ${code.slice(3)}`, { at }).ok, true);
    const withZero = [...Array(200).keys()].map((i) => step - 100 + i).find((s) => codeAt(s).startsWith('0'));
    assert.ok(withZero !== undefined);
    assert.equal(verifyTotp(secret, Number(codeAt(withZero)), { at: withZero * 30_000 }).ok, true);
  });

  test('SHA256 and 8-digit codes when the enrolment says so', () => {
    const code = totpCode(secret, at, { algorithm: 'SHA256', digits: 8 });
    assert.equal(code.length, 8);
    assert.equal(verifyTotp(secret, code, { at, algorithm: 'SHA256', digits: 8 }).ok, true);
    assert.equal(verifyTotp(secret, code, { at, algorithm: 'SHA1', digits: 8 }).ok, false);
  });

  test('bad parameters and short secrets are the caller\'s error, said clearly', () => {
    assert.throws(() => verifyTotp(secret, '123456', { digits: 5 }), /6, 7 or 8 digits/);
    assert.throws(() => verifyTotp(secret, '123456', { window: 100 }), /window/);
    assert.throws(() => verifyTotp('JBSWY3DPEHPK3PXP', '123456'), /the TOTP secret is 80 bits; at least 128 are required/);
    assert.throws(() => verifyTotp('not base32!', '123456'), TotpError);
  });
});

describe('base32 secrets and otpauth:// enrolment', () => {
  test('RFC 4648 test vectors, both ways', () => {
    const vectors: Array<[string, string]> = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [plain, encoded] of vectors) {
      assert.equal(encodeBase32(Buffer.from(plain)), encoded);
      assert.equal(decodeBase32(encoded).toString(), plain);
    }
    assert.equal(decodeBase32('MZXW6YQ=').toString(), 'foob');
    assert.equal(decodeBase32('mzxw 6ytb oi').toString(), 'foobar');
  });

  test('refuses text that is not base32, naming the character', () => {
    assert.throws(() => decodeBase32('MZXW1'), /character 5 is not A–Z or 2–7/);
    assert.throws(() => decodeBase32('MZXW6YQ='.slice(0, 3)), /length no encoder writes/);
    assert.throws(() => decodeBase32('MZ=='), /padding/);
  });

  test('generated secrets are 160 random bits', () => {
    const a = generateTotpSecret();
    assert.equal(decodeBase32(a).length, 20);
    assert.notEqual(a, generateTotpSecret());
  });

  test('the otpauth URI has the label, secret and parameters apps read', () => {
    const secret = encodeBase32(seeds.SHA1);
    const uri = otpauthUri({ secret, issuer: 'dr-runbooks prod', account: 'alice@example.com' });
    assert.equal(uri, `otpauth://totp/dr-runbooks%20prod:alice%40example.com?secret=${secret}&issuer=dr-runbooks%20prod&algorithm=SHA1&digits=6&period=30`);
    const parsed = new URL(uri);
    assert.equal(parsed.protocol, 'otpauth:');
    assert.equal(parsed.host, 'totp');
    assert.equal(parsed.searchParams.get('secret'), secret);
    assert.throws(() => otpauthUri({ secret, issuer: 'a:b', account: 'x' }), /issuer must not contain ":"/);
  });
});
