/**
 * The HTTP receiver, with Slack's timestamp rule enforced both ways. Bolt refuses a signed
 * request more than 5 minutes old but accepts one from the future, so a request signed with a
 * timestamp ahead of time (a leaked body and signature, a clock gone wrong) stays replayable
 * until that time has passed. Slack's rule is 5 minutes either way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPReceiver, type Logger } from '@slack/bolt';

/** How far a request's `x-slack-request-timestamp` may be from now, either way. */
export const MAX_SKEW_S = 5 * 60;

/**
 * @example const receiver = signedReceiver(secret, logger); new App({ token, receiver });
 */
export function signedReceiver(
  signingSecret: string,
  logger: Logger,
  nowMs: () => number = Date.now,
): HTTPReceiver {
  const receiver = new HTTPReceiver({ signingSecret, logger });
  // Bolt's own listener checks the signature and the past; this checks the future first.
  const verified = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    const ahead = timestamp - Math.floor(nowMs() / 1000);
    if (ahead > MAX_SKEW_S) {
      logger.warn(`refused a request timestamped ${ahead} s in the future`);
      req.resume();
      res.writeHead(401).end();
      return;
    }
    verified(req, res);
  };
  return receiver;
}
