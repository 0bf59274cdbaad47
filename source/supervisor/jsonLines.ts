// The framing of the supervisor socket (protocol.ts), used by both sides: one JSON value per line,
// each line ended by LF. Lines are cut by LineSplitter, on bytes, so a character split across two
// reads is never broken.
import type { Socket } from 'node:net';
import { LineSplitter } from './LineSplitter.js';

/** Longest line accepted: a state event carries every service's status, far below this. */
const maxJsonLineBytes = 16 * 1024 * 1024;

/** One value as a line of the socket. */
export function jsonLine(value: unknown): string {
	return `${JSON.stringify(value)}\n`;
}

/**
 * Calls `onValue` with each JSON value the socket receives, in order; a line that is not JSON goes to
 * `onInvalid` (blank lines are skipped). The socket must not have an encoding set (chunks are bytes).
 */
export function readJsonLines(socket: Socket, onValue: (value: unknown) => void, onInvalid: (line: string, error: unknown) => void = () => {}): void {
	const splitter = new LineSplitter((bytes) => {
		const line = bytes.toString('utf8').trim();
		if (line === '') return;
		let value: unknown;
		try {
			value = JSON.parse(line);
		} catch (error) {
			onInvalid(line, error);
			return;
		}
		onValue(value);
	}, maxJsonLineBytes);
	socket.on('data', (chunk: Buffer) => splitter.push(chunk));
}
