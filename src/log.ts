/**
 * The one logger: pino, levelled, with job/user/request ids as fields of child loggers. Created
 * once in the composition root (`pastiche start`, `pastiche worker`); everything else receives it
 * (or the `(line) => void` adapter {@link lineLog} for code that only writes sentences).
 *
 * Output: one JSON object per line (for log shippers), or plain lines for a person at a terminal.
 * `logging.format: auto` picks plain when stdout is a TTY. pino-pretty is not a dependency: the
 * plain format is a few lines here.
 *
 * Secrets never reach the output: known secret fields are censored by pino's `redact`, and the
 * configured secret values (bot tokens, the signing secret) are scrubbed from every line as
 * written, so a token inside an error message or a stack is caught too.
 */
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger };
export type LogFormat = 'auto' | 'json' | 'plain';

export interface LogOptions {
  level?: Level | 'silent';
  format?: LogFormat;
  /** Secret values to scrub from every line (tokens, the signing secret). */
  secrets?: readonly (string | undefined)[];
  /** Where lines go; default stdout. Tests pass a collector. */
  destination?: { write(line: string): unknown; isTTY?: boolean };
}

const CENSOR = '[redacted]';

/** Fields that hold secrets wherever they appear in a logged object (one level deep). */
const REDACT_PATHS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'secrets',
  'authorization',
  'headers.authorization',
  'headers.cookie',
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.secrets',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
];

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** `Authorization: Bearer xoxb-…` in free text (a logged request, an error from a client). */
const BEARER = /\b(Bearer|Bot)\s+[\w.~+/=-]{8,}/g;

export function createLogger(options: LogOptions = {}): Logger {
  const out = options.destination ?? process.stdout;
  const secrets = (options.secrets ?? []).filter((s): s is string => !!s && s.length >= 4);
  const plain =
    options.format === 'plain' ||
    ((options.format ?? 'auto') === 'auto' && (out as { isTTY?: boolean }).isTTY === true);
  const scrub = (line: string): string => {
    let text = line.replace(BEARER, `$1 ${CENSOR}`);
    for (const secret of secrets) text = text.split(secret).join(CENSOR);
    return text;
  };
  const stream: DestinationStream = {
    write: (line: string) => void out.write(scrub(plain ? plainLine(line) : line)),
  };
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    stream,
  );
}

/** A JSON line as a person reads it: `WARN discord: … jobId=ab12` (and the stack of an error). */
function plainLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, msg, err, error, ...fields } = entry;
  void time;
  const name = LEVEL_NAMES[level as number] ?? String(level);
  const extras = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const failure = (err ?? error) as { stack?: string; message?: string } | undefined;
  const parts = [name === 'INFO' ? '' : name, typeof msg === 'string' ? msg : '', extras]
    .filter(Boolean)
    .join(' ');
  const stack = failure ? `\n${failure.stack ?? failure.message ?? ''}` : '';
  return `${parts}${stack}\n`;
}

/**
 * For code that logs sentences (`log(line)` callers, not yet given fields): each line an `info`
 * record, or `error` when it carries a stack trace (the adapters log a bug's stack that way).
 */
export function lineLog(logger: Logger, level: Level = 'info'): (line: string) => void {
  return (line) => (STACK.test(line) ? logger.error(line) : logger[level](line));
}

const STACK = /\n\s+at /;

/** A logger that drops everything: the default where none is passed (library use, tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
