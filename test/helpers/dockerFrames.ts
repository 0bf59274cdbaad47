// Docker's multiplexed stream framing (non-TTY logs and attach): an 8-byte header (stream 1 stdout,
// 2 stderr; big-endian payload length at byte 4), then the payload.
export function dockerFrame(stream: number, payload: Buffer | string): Buffer {
	const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
	const header = Buffer.alloc(8);
	header[0] = stream;
	header.writeUInt32BE(body.length, 4);
	return Buffer.concat([header, body]);
}
