// SSH signatures in OpenSSH's SSHSIG format (what `ssh-keygen -Y sign|verify` and git's SSH signing use):
// an approver signs a vote statement with their SSH key; the worker checks it against the allowed signers.
export { parseAllowedSigners, formatAllowedSignersLine, AllowedSignersError, type AllowedSigner } from './allowed-signers';
export { parsePublicKeyText, formatPublicKey, fingerprintOfBlob, supportedKeyTypes, SshKeyError, type SshKeyType, type SshPublicKey } from './public-key';
export { parseSshPrivateKey, readSshPrivateKeyFile, sshPublicKeyOf } from './private-key';
export { signSshMessage, parseArmoredSshSignature, SshSignatureFormatError, type NodeSigningKey, type SignOptions, type SshsigHashAlgorithm } from './sshsig';
export { signWithSshKeygen, verifyWithSshKeygen, sshKeygenBinary, type SshKeygenSignOptions, type SshKeygenVerifyOptions } from './ssh-keygen';
export { verifySshSignature, type SshSignatureVerification, type SshSignatureVerified, type SshSignatureRefused, type SshSignatureRefusal, type VerifySshSignatureInput } from './verify';
