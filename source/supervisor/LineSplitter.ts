// Turns a byte stream into lines. Bytes are kept as they are (no decoding), so a service that writes
// Latin-1 or broken UTF-8 keeps its bytes in the log; only the line terminator (LF or CRLF) is removed.

/** Longest line kept as one: a longer run without a newline is cut into lines of this size. */
export const maxLineBytes = 1024 * 1024;

export class LineSplitter {
	private pending: Buffer[] = [];
	private pendingBytes = 0;

	constructor(
		private readonly onLine: (line: Buffer) => void,
		private readonly maxBytes: number = maxLineBytes,
	) {}

	push(chunk: Buffer): void {
		let start = 0;
		while (start < chunk.length) {
			const newline = chunk.indexOf(0x0a, start);
			const end = newline === -1 ? chunk.length : newline;
			this.append(chunk.subarray(start, end));
			if (newline === -1) break;
			this.emit(true);
			start = newline + 1;
		}
	}

	/** Emits the last line when the stream ended without a newline. */
	flush(): void {
		if (this.pendingBytes > 0) this.emit(false);
	}

	private append(bytes: Buffer): void {
		while (bytes.length > 0) {
			// cut only when more bytes arrive, so a line of exactly maxBytes followed by LF stays one line
			if (this.pendingBytes >= this.maxBytes) this.emit(false);
			const part = bytes.subarray(0, this.maxBytes - this.pendingBytes);
			this.pending.push(part);
			this.pendingBytes += part.length;
			bytes = bytes.subarray(part.length);
		}
	}

	private emit(terminated: boolean): void {
		let line = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
		if (terminated && line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
		this.pending = [];
		this.pendingBytes = 0;
		this.onLine(line);
	}
}
