import { notifierFrom, type Notifier } from '../../ports/notifier';
import type { SecretStore } from '../../ports/secret-store';
import { channelSecret, deliver, NotificationDeliveryError, type DeliveryDependencies } from './delivery';
import { buildIncidentMessage, type IncidentMessage, type MessageContext } from './incident-message';

/**
 * Slack through an incoming webhook (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks):
 * one Block Kit message per notification with a plain `text` fallback for notifications and screen
 * readers. The webhook URL is the credential, so it lives in a secret and never in a message or error.
 * Slack has no idempotency key: a retry after a lost answer can post twice, which beats not posting.
 */

export interface SlackNotifierOptions {
  /** The channel's name in config (errors and the audiences map use it). */
  name: string;
  /** Name of the secret holding the incoming webhook URL. */
  webhookUrlSecret: string;
  /** e.g. "#incidents": shown in errors; legacy webhooks also honour it as the target channel. */
  channel?: string;
  secrets: SecretStore;
  messages: MessageContext;
  delivery?: DeliveryDependencies;
}

type TextObject = { type: 'plain_text' | 'mrkdwn'; text: string };
type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'divider' }
  | { type: 'actions'; elements: Array<{ type: 'button'; text: TextObject; url: string; action_id: string }> };

export interface SlackMessage {
  text: string;
  blocks: Block[];
  channel?: string;
}

/** Slack's mrkdwn treats &, < and > as control characters (https://docs.slack.dev/messaging/formatting-message-text#escaping). */
export const escapeMrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const mrkdwn = (text: string, max = 3000): TextObject => ({ type: 'mrkdwn', text: clip(text, max) });
const codeBlock = (text: string) => `\`\`\`${escapeMrkdwn(text)}\`\`\``;

/** The Block Kit message for an incident message (limits from the Block Kit reference). */
export function slackMessage(message: IncidentMessage, channel?: string): SlackMessage {
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: clip(message.subject, 150) } }];
  if (message.drill) blocks.push({ type: 'context', elements: [mrkdwn(':test_tube: *DRILL*: a rehearsal of the runbook; production is not changed.')] });
  blocks.push({ type: 'section', text: mrkdwn(escapeMrkdwn(message.intro)) });
  if (message.fields.length) blocks.push({ type: 'section', fields: message.fields.slice(0, 10).map((f) => mrkdwn(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, 2000)) });
  if (message.approval) {
    const a = message.approval;
    blocks.push({ type: 'divider' });
    blocks.push({
      type: 'section',
      text: mrkdwn([
        `*How to approve gate \`${escapeMrkdwn(a.gate)}\`*`,
        `From a terminal:\n${codeBlock(a.approveCommand)}`,
        `To reject:\n${codeBlock(a.rejectCommand)}`,
        `From the Temporal Web UI: open the run, *More Actions → Send a Signal*, signal \`${a.signalName}\` with input\n${codeBlock(a.signalInput)}`,
      ].join('\n')),
    });
  }
  if (message.closing) blocks.push({ type: 'section', text: mrkdwn(escapeMrkdwn(message.closing)) });
  blocks.push({ type: 'context', elements: message.context.slice(0, 10).map((f) => mrkdwn(`*${escapeMrkdwn(f.label)}:* ${escapeMrkdwn(f.value)}`)) });
  if (message.link) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Temporal Web UI' }, url: message.link, action_id: 'open-run' }] });
  const text = [message.subject, ...message.fields.map((f) => `${f.label}: ${f.value}`), ...(message.approval ? [`Approve: ${message.approval.approveCommand}`] : [])].join('\n');
  return { text, blocks, ...(channel ? { channel } : {}) };
}

export function createSlackNotifier(options: SlackNotifierOptions): Notifier {
  const label = `slack "${options.name}"${options.channel ? ` (${options.channel})` : ''}`;
  return notifierFrom(async (n) => {
    const url = await channelSecret(label, options.secrets, options.webhookUrlSecret, 'webhook URL');
    try {
      new URL(url);
    } catch {
      throw new NotificationDeliveryError(label, `${label}: secret "${options.webhookUrlSecret}" does not hold a URL (an incoming webhook URL, https://hooks.slack.com/services/…)`, undefined, true);
    }
    const body = JSON.stringify(slackMessage(buildIncidentMessage(n, options.messages), options.channel));
    await deliver({ label, secrets: [url, new URL(url).pathname] }, { method: 'POST', url, headers: () => ({ 'content-type': 'application/json; charset=utf-8' }), body }, options.delivery);
  });
}
