// multipart/form-data (RFC 7578) built by hand: a JSON part and file parts streamed from disk,
// with the total length known up front so the request needs no chunked encoding.
import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';

export type MultipartPart = { name: string; value: string | Buffer; contentType?: string } | { name: string; file: string; filename?: string; contentType?: string };

export interface MultipartBody {
	contentType: string;
	contentLength: number;
	boundary: string;
	/** a fresh stream of the body each call (a request may be retried) */
	stream(): Readable;
}

/** 24 random bytes: no file content will contain the delimiter by chance. */
export function newBoundary(): string {
	return `stigmer-${randomBytes(24).toString('hex')}`;
}

/** Quoted-string escaping of a form-data parameter, as browsers do (WHATWG HTML). */
export function quoteParameter(value: string): string {
	return `"${value.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22')}"`;
}

export function buildMultipart(parts: MultipartPart[], boundary = newBoundary()): MultipartBody {
	const segments: Array<Buffer | { file: string; size: number }> = [];
	let length = 0;
	const push = (segment: Buffer | { file: string; size: number }) => {
		segments.push(segment);
		length += Buffer.isBuffer(segment) ? segment.length : segment.size;
	};
	for (const part of parts) {
		let disposition = `form-data; name=${quoteParameter(part.name)}`;
		if ('file' in part) disposition += `; filename=${quoteParameter(part.filename ?? path.basename(part.file))}`;
		const type = part.contentType ?? ('file' in part ? 'application/octet-stream' : undefined);
		const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n`;
		push(Buffer.from(head, 'utf8'));
		if ('file' in part) push({ file: part.file, size: statSync(part.file).size });
		else push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value, 'utf8'));
		push(Buffer.from('\r\n'));
	}
	push(Buffer.from(`--${boundary}--\r\n`));

	async function* generate(): AsyncGenerator<Buffer> {
		for (const segment of segments) {
			if (Buffer.isBuffer(segment)) {
				yield segment;
				continue;
			}
			let sent = 0;
			for await (const chunk of createReadStream(segment.file)) {
				sent += (chunk as Buffer).length;
				if (sent > segment.size) throw new Error(`${segment.file} grew while it was being uploaded`);
				yield chunk as Buffer;
			}
			if (sent !== segment.size) throw new Error(`${segment.file} shrank while it was being uploaded`);
		}
	}

	return {
		contentType: `multipart/form-data; boundary=${boundary}`,
		contentLength: length,
		boundary,
		stream: () => Readable.from(generate(), { objectMode: false }),
	};
}
