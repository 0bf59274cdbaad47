// An incremental parser of the text/event-stream format (WHATWG HTML, "Server-sent events"):
// chunks may split lines, CRLF pairs and UTF-8 sequences anywhere; `data:` lines accumulate;
// comment lines (`: keep-alive`) only prove the connection is alive.

export interface SseMessage {
	/** the last event id in effect when this message was dispatched (`id:` persists across messages) */
	id: string | null;
	/** `event:` field, `message` when absent */
	event: string;
	data: string;
}

export class SseParser {
	/** the last `id:` seen, to send back as Last-Event-ID after a reconnect */
	lastEventId: string | null = null;
	/** `retry:` in milliseconds, when the server sent one */
	retryMs: number | null = null;

	private decoder = new TextDecoder('utf-8');
	private buffer = '';
	private sawCR = false;
	private started = false;
	private eventType = '';
	private data: string[] = [];
	private hasData = false;

	/** Feeds one chunk; returns the messages it completed. */
	push(chunk: Uint8Array | string): SseMessage[] {
		let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
		if (!this.started && text.length > 0) {
			this.started = true;
			if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
		}
		const out: SseMessage[] = [];
		let start = 0;
		for (let i = 0; i < text.length; i++) {
			const c = text.charCodeAt(i);
			if (c === 10 /* \n */) {
				if (this.sawCR && i === 0 && this.buffer === '' && start === 0) {
					// the LF of a CRLF whose CR ended the previous chunk
					this.sawCR = false;
					start = 1;
					continue;
				}
				this.sawCR = false;
				this.line(this.buffer + text.slice(start, i), out);
				this.buffer = '';
				start = i + 1;
			} else if (c === 13 /* \r */) {
				this.line(this.buffer + text.slice(start, i), out);
				this.buffer = '';
				if (text.charCodeAt(i + 1) === 10) i++;
				else if (i === text.length - 1) this.sawCR = true;
				start = i + 1;
			} else if (this.sawCR) {
				this.sawCR = false;
			}
		}
		this.buffer += text.slice(start);
		return out;
	}

	/** The stream ended: an unterminated message is discarded, as the spec says. */
	end(): void {
		this.decoder.decode();
		this.buffer = '';
		this.resetMessage();
	}

	private resetMessage(): void {
		this.eventType = '';
		this.data = [];
		this.hasData = false;
	}

	private line(line: string, out: SseMessage[]): void {
		if (line === '') {
			if (this.hasData) out.push({ id: this.lastEventId, event: this.eventType || 'message', data: this.data.join('\n') });
			this.resetMessage();
			return;
		}
		if (line.startsWith(':')) return;
		const colon = line.indexOf(':');
		const field = colon < 0 ? line : line.slice(0, colon);
		let value = colon < 0 ? '' : line.slice(colon + 1);
		if (value.startsWith(' ')) value = value.slice(1);
		switch (field) {
			case 'event':
				this.eventType = value;
				break;
			case 'data':
				this.data.push(value);
				this.hasData = true;
				break;
			case 'id':
				if (!value.includes('\0')) this.lastEventId = value;
				break;
			case 'retry':
				if (/^\d+$/.test(value)) this.retryMs = Number(value);
				break;
			default:
				break; // unknown fields are ignored
		}
	}
}
