/** Requests to the playground server. Replies arrive on the event stream, by request id. */
import { REQUEST_ID_HEADER, type PlaygroundState } from '../wire.ts';

let counter = 0;

/** Ids only need to be unique within this page's session. */
export function requestId(): string {
  counter += 1;
  return `r${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 8)}`;
}

export async function loadState(): Promise<PlaygroundState> {
  const res = await fetch('/api/state');
  if (!res.ok) throw new Error(`the playground answered ${res.status}`);
  return (await res.json()) as PlaygroundState;
}

/**
 * Starts a command; `body` is a photo (sent as raw bytes), a form, or a JSON object. Resolves with the
 * server's refusal text, or undefined once the command is running.
 */
export async function post(
  path: string,
  id: string,
  body?: Blob | FormData | Record<string, unknown>,
): Promise<string | undefined> {
  // A form (photo and style image) sets its own multipart content type and boundary.
  const [type, payload]: [string | undefined, BodyInit | null] =
    body instanceof FormData
      ? [undefined, body]
      : body instanceof Blob
        ? [body.type || 'application/octet-stream', body]
        : body
          ? ['application/json', JSON.stringify(body)]
          : ['application/octet-stream', null];
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: { [REQUEST_ID_HEADER]: id, ...(type && { 'content-type': type }) },
      body: payload,
    });
    if (res.ok) return undefined;
    const answer = (await res.json().catch(() => ({}))) as { error?: string };
    return answer.error ?? `The playground answered ${res.status}.`;
  } catch {
    return 'The playground is not reachable. Is `npm start` still running?';
  }
}
