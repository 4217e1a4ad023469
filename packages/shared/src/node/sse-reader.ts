// How the desktop app and the CLI read the API's event stream (GET /api/events).

/** One Server-Sent Event as the API frames it (backend/src/routes/sse.ts). */
export interface SseMessage {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

/** Parses an SSE body into messages (comments and `retry:` ignored), as the bytes arrive. */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let message = { id: '', event: 'message', data: [] as string[] };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r?\n/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
      newline = buffer.search(/\r?\n/);
      if (line === '') {
        if (message.data.length > 0) {
          yield { id: message.id, event: message.event, data: message.data.join('\n') };
        }
        message = { id: message.id, event: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') message.id = value;
      else if (field === 'event') message.event = value;
      else if (field === 'data') message.data.push(value);
    }
  }
}
