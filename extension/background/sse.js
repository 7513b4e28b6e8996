// Server-Sent Events over fetch (EventSource cannot send the Authorization header):
// a ReadableStream of bytes → {event, data} per the text/event-stream format.

/** Parses a byte stream; yields {event, data, id}. Comments (": ping") are skipped. */
export async function* parseEventStream(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data = [];
  let id = null;

  function* lines(final) {
    for (;;) {
      const i = buffer.search(/[\r\n]/);
      if (i < 0) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more input.
      if (buffer[i] === '\r' && i === buffer.length - 1 && !final) break;
      const line = buffer.slice(0, i);
      buffer = buffer.slice(buffer[i] === '\r' && buffer[i + 1] === '\n' ? i + 2 : i + 1);
      yield line;
    }
  }

  function* take(line) {
    if (line === '') {
      if (data.length) yield { event: event || 'message', data: data.join('\n'), id };
      event = '';
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }

  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (const line of lines(false)) yield* take(line);
    }
    buffer += decoder.decode();
    for (const line of lines(true)) yield* take(line);
  } finally {
    try {
      await reader.cancel();
    } catch {
      // already closed
    }
  }
}

/**
 * Follows /conversations/{id}/insights/stream until `signal` aborts, reconnecting with a
 * growing delay when the stream drops. onEvent(name, parsedData); onError(err) on each drop.
 */
export async function followInsights(api, conversationId, { onEvent, onError = () => {}, signal, sleep }) {
  const wait = sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const res = await api.request('GET', `/conversations/${encodeURIComponent(conversationId)}/insights/stream`, {
        raw: true,
        signal,
        headers: { Accept: 'text/event-stream' },
      });
      delay = 1000;
      for await (const { event, data } of parseEventStream(res.body)) {
        if (signal.aborted) return;
        let parsed = null;
        try {
          parsed = JSON.parse(data);
        } catch {
          parsed = data;
        }
        onEvent(event, parsed);
      }
    } catch (err) {
      if (signal.aborted || err?.name === 'AbortError') return;
      onError(err);
      if (err?.status === 401 || err?.status === 403 || err?.status === 404) return;
    }
    if (signal.aborted) return;
    await wait(delay);
    delay = Math.min(delay * 2, 30000);
  }
}
