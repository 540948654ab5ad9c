/**
 * The AWS SDK releases we pin still run on Node 20 but print a NodeVersionSupportWarning when each process
 * builds its first client. We know, and the versions are locked for that reason (see package.json), so every
 * process of ours that builds AWS clients calls this first; a value the operator set is left alone.
 */
export function silenceAwsSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
